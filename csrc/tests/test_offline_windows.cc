#include <gtest/gtest.h>

#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/pipeline/offline_windows.h"

namespace nemo_fast {
namespace {

constexpr int kRate = 16000;
constexpr int kFrame = 1280;  // 10 ms hop x 8x subsampling

// Loud noise-like samples with silent stretches [start, end).
std::vector<float> Loud(int64_t n, const std::vector<std::pair<int64_t, int64_t>>& silences = {}) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[i] = (i * 7919 % 13) / 13.0f - 0.5f;
  for (const auto& [a, b] : silences) std::fill(x.begin() + a, x.begin() + b, 0.0f);
  return x;
}

std::vector<AudioWindow> Cut(const std::vector<float>& x, int64_t max_window, size_t piece, double search = 10.0) {
  LongAudioConfig config;
  config.cut_search_seconds = search;
  WindowCutter cutter(config, kRate, kFrame, max_window);
  std::vector<AudioWindow> windows;
  AudioWindow w;
  for (size_t at = 0; at < x.size(); at += piece) {
    cutter.Accept(x.data() + at, std::min(piece, x.size() - at));
    while (cutter.Next(false, &w)) windows.push_back(w);
  }
  while (cutter.Next(true, &w)) windows.push_back(w);
  return windows;
}

TEST(WindowCutter, CutsAtTheSilenceOnTheFrameGrid) {
  // 20 s, a 100 ms silence centred on 7.04 s (frame 88): windows of at most 10 s end there.
  const int64_t centre = 88 * kFrame;
  const auto x = Loud(20 * kRate, {{centre - 800, centre + 800}});
  for (size_t piece : {size_t{160}, size_t{16000}, x.size()}) {
    const auto windows = Cut(x, 10 * kRate, piece);
    ASSERT_EQ(windows.size(), 3u) << piece;
    EXPECT_EQ(windows[0].start_sample, 0);
    EXPECT_EQ(windows[0].samples.size(), static_cast<size_t>(centre));
    EXPECT_EQ(windows[1].start_sample, centre);
    size_t total = 0;
    for (const auto& w : windows) {
      EXPECT_EQ(w.start_sample % kFrame, 0);
      EXPECT_LE(w.samples.size(), static_cast<size_t>(10 * kRate));
      EXPECT_EQ(w.start_sample, static_cast<int64_t>(total));  // contiguous: no sample lost or repeated
      total += w.samples.size();
    }
    EXPECT_EQ(total, x.size());
  }
}

TEST(WindowCutter, SilenceOutsideTheSearchedStretchIsNotUsed) {
  // The only silence lies 2 s into the window, the search covers its last 3 s: the cut falls there instead.
  const int64_t centre = 25 * kFrame;
  const auto x = Loud(12 * kRate, {{centre - 800, centre + 800}});
  const auto windows = Cut(x, 8 * kRate, 4000, /*search=*/3.0);
  ASSERT_GE(windows.size(), 2u);
  EXPECT_GE(windows[0].samples.size(), static_cast<size_t>(5 * kRate));
  EXPECT_LE(windows[0].samples.size(), static_cast<size_t>(8 * kRate));
}

TEST(WindowCutter, ShortInputsAreOneWindowAndDigitalSilenceKeepsTheLongestWindow) {
  const auto short_input = Cut(Loud(3 * kRate), 10 * kRate, 1000);
  ASSERT_EQ(short_input.size(), 1u);
  EXPECT_EQ(short_input[0].samples.size(), static_cast<size_t>(3 * kRate));
  const auto silent = Cut(std::vector<float>(25 * kRate, 0.0f), 10 * kRate, 1000);
  ASSERT_EQ(silent.size(), 3u);
  EXPECT_EQ(silent[0].samples.size(), static_cast<size_t>(10 * kRate / kFrame * kFrame));
  EXPECT_TRUE(Cut({}, 10 * kRate, 1000).empty());
}

TEST(LongAudioConfig, RefusesValuesOutOfRange) {
  LongAudioConfig c;
  c.Validate();
  c.max_window_seconds = -1.0;
  EXPECT_THROW(c.Validate(), Error);
  c = LongAudioConfig();
  c.cut_search_seconds = 0.0;
  EXPECT_THROW(c.Validate(), Error);
  c = LongAudioConfig();
  c.quiet_seconds = 20.0;
  EXPECT_THROW(c.Validate(), Error);
}

}  // namespace
}  // namespace nemo_fast
