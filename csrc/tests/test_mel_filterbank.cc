#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/features/mel_filterbank.h"

namespace nemo_fast {
namespace {

TEST(MelScale, SlaneyIsLinearBelow1kHzAndLogAbove) {
  EXPECT_DOUBLE_EQ(HzToMel(0.0), 0.0);
  EXPECT_NEAR(HzToMel(1000.0), 15.0, 1e-12);
  EXPECT_NEAR(HzToMel(500.0), 7.5, 1e-12);
  // 6.4 kHz is 27 log-steps above 1 kHz.
  EXPECT_NEAR(HzToMel(6400.0), 15.0 + 27.0, 1e-9);
  for (double hz : {0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0, 24000.0}) {
    EXPECT_NEAR(MelToHz(HzToMel(hz)), hz, 1e-9 * (1.0 + hz));
  }
}

TEST(MelFilterbank, TrianglesPeakInsideTheirBandAndAreNonNegative) {
  const int n_fft = 512;
  MelFilterbank mel(80, n_fft, 16000.0, 0.0, 8000.0, MelNorm::kNone);
  auto dense = mel.Dense();
  const int bins = n_fft / 2 + 1;
  ASSERT_EQ(static_cast<int>(dense.size()), 80 * bins);
  for (int m = 0; m < 80; ++m) {
    float peak = 0.0f;
    for (int k = 0; k < bins; ++k) {
      EXPECT_GE(dense[m * bins + k], 0.0f);
      peak = std::max(peak, dense[m * bins + k]);
    }
    // Without normalization every triangle reaches at most 1, and the wider upper filters nearly 1.
    EXPECT_LE(peak, 1.0f + 1e-6f);
    if (m > 40) EXPECT_GT(peak, 0.5f) << "filter " << m;
  }
}

TEST(MelFilterbank, SlaneyNormGivesEqualAreaPerHz) {
  // With Slaney normalization each triangle has height 2 / (upper - lower edge in Hz), so its area in
  // Hz is 1 for every filter wide enough to be sampled well by the FFT bins.
  const int n_fft = 4096;
  const double sr = 16000.0;
  MelFilterbank mel(40, n_fft, sr, 0.0, sr / 2, MelNorm::kSlaney);
  auto dense = mel.Dense();
  const int bins = n_fft / 2 + 1;
  const double bin_hz = sr / n_fft;
  for (int m = 10; m < 40; ++m) {
    double area = 0.0;
    for (int k = 0; k < bins; ++k) area += dense[m * bins + k] * bin_hz;
    EXPECT_NEAR(area, 1.0, 0.02) << "filter " << m;
  }
}

TEST(MelFilterbank, ApplyEqualsDenseProduct) {
  const int n_fft = 512, bins = n_fft / 2 + 1;
  MelFilterbank mel(128, n_fft, 16000.0, 20.0, 7600.0, MelNorm::kSlaney);
  std::vector<float> power(bins);
  for (int k = 0; k < bins; ++k) power[k] = 1.0f + 0.01f * k;
  std::vector<float> out(128);
  mel.Apply(power.data(), out.data());
  auto dense = mel.Dense();
  for (int m = 0; m < 128; ++m) {
    double expected = 0.0;
    for (int k = 0; k < bins; ++k) expected += static_cast<double>(dense[m * bins + k]) * power[k];
    EXPECT_NEAR(out[m], expected, 1e-5 * (1.0 + std::fabs(expected))) << "filter " << m;
  }
}

TEST(MelFilterbank, RejectsBadRanges) {
  EXPECT_THROW(MelFilterbank(80, 512, 16000.0, 5000.0, 4000.0, MelNorm::kSlaney), Error);
  EXPECT_THROW(MelFilterbank(80, 512, 16000.0, 0.0, 9000.0, MelNorm::kSlaney), Error);
  EXPECT_THROW(MelFilterbank(0, 512, 16000.0, 0.0, 8000.0, MelNorm::kSlaney), Error);
}

}  // namespace
}  // namespace nemo_fast
