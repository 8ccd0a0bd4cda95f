#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/features/resampler.h"

namespace nemo_fast {
namespace {

struct Tone {
  double hz, amplitude, phase;
};

std::vector<float> Tones(const std::vector<Tone>& tones, int rate, double seconds) {
  std::vector<float> x(static_cast<std::size_t>(seconds * rate));
  for (std::size_t i = 0; i < x.size(); ++i) {
    double v = 0.0;
    for (const Tone& t : tones)
      v += t.amplitude * std::sin(2.0 * M_PI * t.hz * static_cast<double>(i) / rate + t.phase);
    x[i] = static_cast<float>(v);
  }
  return x;
}

std::vector<float> Resample(StreamingResampler& r, const std::vector<float>& x) {
  std::vector<float> y;
  r.Accept(SampleView::Float32(x.data(), x.size()), &y);
  r.Flush(&y);
  return y;
}

// Largest |error| against the ideal band-limited result, away from the edges (where the signal starts
// and stops abruptly).
double InteriorError(const std::vector<float>& y, const std::vector<float>& ideal, int rate) {
  double worst = 0.0;
  for (std::size_t i = rate / 10; i + rate / 10 < std::min(y.size(), ideal.size()); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(y[i]) - ideal[i]));
  }
  return worst;
}

const std::vector<std::pair<int, int>> kRatePairs = {{8000, 16000},  {11025, 16000}, {22050, 16000}, {24000, 16000},
                                                     {44100, 16000}, {48000, 16000}, {16000, 8000}};

TEST(StreamingResampler, PassesTonesBelowTheLowerNyquistUnchanged) {
  for (auto [in, out] : kRatePairs) {
    const double nyquist = std::min(in, out) / 2.0;
    const std::vector<Tone> tones = {
        {100.0, 0.2, 0.1}, {0.31 * nyquist, 0.2, 1.0}, {0.62 * nyquist, 0.2, 2.0}, {0.85 * nyquist, 0.2, 0.5}};
    StreamingResampler r(in, out);
    auto y = Resample(r, Tones(tones, in, 1.0));
    EXPECT_LT(InteriorError(y, Tones(tones, out, 1.0), out), 2e-4) << in << " -> " << out;
  }
}

TEST(StreamingResampler, RemovesWhatWouldAlias) {
  for (auto [in, out] : {std::pair{48000, 16000}, {44100, 16000}, {22050, 16000}, {16000, 8000}}) {
    const double nyquist = out / 2.0;
    StreamingResampler r(in, out);
    auto y = Resample(r, Tones({{1.05 * nyquist, 0.5, 0.0}, {1.6 * nyquist, 0.5, 0.3}}, in, 1.0));
    EXPECT_LT(InteriorError(y, std::vector<float>(y.size(), 0.0f), out), 5e-5) << in << " -> " << out;
  }
}

TEST(StreamingResampler, OutputDoesNotDependOnHowTheInputIsSplit) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> x(30011);
  for (float& v : x) v = noise(rng);
  for (auto [in, out] : kRatePairs) {
    StreamingResampler whole(in, out);
    const auto expected = Resample(whole, x);
    EXPECT_EQ(expected.size(), (x.size() * out + in - 1) / in) << in << " -> " << out;
    StreamingResampler pieces(in, out);
    std::vector<float> y;
    std::uniform_int_distribution<std::size_t> size(0, 2500);
    for (std::size_t i = 0; i < x.size();) {
      const std::size_t n = std::min(size(rng), x.size() - i);
      pieces.Accept(SampleView::Float32(x.data() + i, n), &y);
      i += n;
    }
    pieces.Flush(&y);
    EXPECT_EQ(y, expected) << in << " -> " << out;
    // Reset gives a fresh stream.
    pieces.Reset();
    EXPECT_EQ(Resample(pieces, x), expected);
  }
}

TEST(StreamingResampler, RejectsBadRatesAndAudioAfterTheEnd) {
  EXPECT_THROW(StreamingResampler(0, 16000), Error);
  EXPECT_THROW(StreamingResampler(8000, -1), Error);
  EXPECT_THROW(StreamingResampler(16001, 16000), Error);  // a 1 Hz common factor: 16000 filter phases
  StreamingResampler r(8000, 16000);
  std::vector<float> x(100, 0.1f), y;
  r.Accept(SampleView::Float32(x.data(), x.size()), &y);
  r.Flush(&y);
  EXPECT_EQ(y.size(), 200u);
  EXPECT_THROW(r.Accept(SampleView::Float32(x.data(), x.size()), &y), Error);
  const float bad[] = {0.0f, NAN};
  StreamingResampler s(8000, 16000);
  EXPECT_THROW(s.Accept(SampleView::Float32(bad, 2), &y), Error);
}

}  // namespace
}  // namespace nemo_fast
