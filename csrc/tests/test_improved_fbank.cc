#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/features/fast_log.h"
#include "nemo_fast/features/improved_fbank.h"

namespace nemo_fast {
namespace {

std::vector<float> Noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.1f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(FastLog, MatchesStdLog) {
  for (float x : {5.96e-8f, 1e-6f, 0.01f, 0.5f, 0.70710678f, 1.0f, 1.41421356f, 2.0f, 10.0f, 12345.0f, 3e30f}) {
    float y;
    LogArray(&x, &y, 1);
    EXPECT_NEAR(y, std::log(static_cast<double>(x)), 2e-6 * (1.0 + std::fabs(std::log(x)))) << x;
  }
}

TEST(ImprovedFbank, ValidFrameCountFollowsNeMo) {
  FbankOptions o;
  for (long long n : {0LL, 1LL, 159LL, 160LL, 161LL, 399LL, 400LL, 401LL, 16000LL}) {
    EXPECT_EQ(o.NumValidFrames(n), n / 160) << n;
  }
  ImprovedFbank fbank(o);
  auto x = Noise(16000, 1);
  EXPECT_EQ(fbank.Compute(SampleView::Float32(x.data(), x.size())).size(), 100u * 80u);
}

TEST(ImprovedFbank, SilenceGivesLogOfTheGuard) {
  FbankOptions o;
  ImprovedFbank fbank(o);
  std::vector<float> x(1600, 0.0f);
  auto frames = fbank.Compute(SampleView::Float32(x.data(), x.size()));
  for (float v : frames) EXPECT_NEAR(v, std::log(o.log_guard_value), 1e-5);
}

TEST(ImprovedFbank, NoiseHasEnergyInEveryFrame) {
  ImprovedFbank fbank(FbankOptions{});
  auto x = Noise(8000, 2);
  auto frames = fbank.Compute(SampleView::Float32(x.data(), x.size()));
  for (float v : frames) EXPECT_GT(v, -15.5f);  // log of the guard alone is -16.6
}

TEST(FbankStream, AnyChunkingGivesIdenticalFrames) {
  FbankOptions o;
  ImprovedFbank fbank(o);
  auto x = Noise(12345, 3);
  auto whole = fbank.Compute(SampleView::Float32(x.data(), x.size()));
  for (std::size_t chunk : {1u, 7u, 159u, 160u, 161u, 400u, 4096u}) {
    auto stream = fbank.CreateStream();
    std::vector<float> frames;
    for (std::size_t i = 0; i < x.size(); i += chunk) {
      stream->AcceptWaveform(SampleView::Float32(x.data() + i, std::min(chunk, x.size() - i)), &frames);
    }
    stream->InputFinished(&frames);
    ASSERT_EQ(frames.size(), whole.size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < frames.size(); ++i)
      ASSERT_EQ(frames[i], whole[i]) << "chunk " << chunk << " value " << i;
  }
}

TEST(FbankStream, RejectsAudioAfterFinishAndNonFiniteSamples) {
  ImprovedFbank fbank(FbankOptions{});
  auto stream = fbank.CreateStream();
  std::vector<float> frames;
  std::vector<float> bad = {0.0f, NAN, 0.0f};
  EXPECT_THROW(stream->AcceptWaveform(SampleView::Float32(bad.data(), bad.size()), &frames), Error);
  EXPECT_EQ(stream->num_samples(), 0);
  stream->InputFinished(&frames);
  std::vector<float> ok(10, 0.0f);
  EXPECT_THROW(stream->AcceptWaveform(SampleView::Float32(ok.data(), ok.size()), &frames), Error);
}

}  // namespace
}  // namespace nemo_fast
