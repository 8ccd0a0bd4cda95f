#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/features/fft.h"

namespace nemo_fast {
namespace {

// Reference DFT in double precision.
std::vector<std::complex<double>> NaiveDft(const std::vector<double>& x) {
  const int n = static_cast<int>(x.size());
  std::vector<std::complex<double>> out(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) {
    std::complex<double> acc = 0;
    for (int t = 0; t < n; ++t) acc += x[t] * std::polar(1.0, -2.0 * M_PI * k * t / n);
    out[k] = acc;
  }
  return out;
}

std::vector<double> RandomSignal(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = dist(rng);
  return x;
}

class RealFftSizes : public ::testing::TestWithParam<int> {};

TEST_P(RealFftSizes, MatchesNaiveDft) {
  const int n = GetParam();
  RealFft fft(n);
  auto x = RandomSignal(n, 1234 + n);
  std::vector<float> re(n / 2 + 1), im(n / 2 + 1), power(n / 2 + 1);
  fft.Forward(x.data(), re.data(), im.data());
  fft.PowerSpectrum(x.data(), power.data());
  auto ref = NaiveDft(x);
  // Outputs are float32: allow their rounding, relative to the spectrum's scale sqrt(n).
  const double tolerance = 1e-6 * std::sqrt(static_cast<double>(n)) * std::log2(static_cast<double>(n));
  for (int k = 0; k <= n / 2; ++k) {
    EXPECT_NEAR(re[k], ref[k].real(), tolerance) << "bin " << k;
    EXPECT_NEAR(im[k], ref[k].imag(), tolerance) << "bin " << k;
    EXPECT_NEAR(power[k], std::norm(ref[k]), tolerance * (2 * std::abs(ref[k]) + tolerance)) << "bin " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(PowersOfTwo, RealFftSizes, ::testing::Values(4, 8, 16, 64, 256, 512, 1024, 2048));

TEST(RealFft, PureToneLandsInItsBin) {
  const int n = 512;
  std::vector<double> x(n);
  for (int t = 0; t < n; ++t) x[t] = std::cos(2.0 * M_PI * 37 * t / n);
  RealFft fft(n);
  std::vector<float> power(n / 2 + 1);
  fft.PowerSpectrum(x.data(), power.data());
  for (int k = 0; k <= n / 2; ++k) {
    if (k == 37) {
      EXPECT_NEAR(power[k], (n / 2.0) * (n / 2.0), 1e-1);
    } else {
      EXPECT_LT(power[k], 1e-12) << "bin " << k;
    }
  }
}

TEST(RealFft, RejectsSizesThatAreNotPowersOfTwo) {
  EXPECT_THROW(RealFft(400), Error);
  EXPECT_THROW(RealFft(2), Error);
  EXPECT_THROW(RealFft(0), Error);
}

}  // namespace
}  // namespace nemo_fast
