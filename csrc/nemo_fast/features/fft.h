// Forward real FFT of a power-of-two size, computed as a half-size complex FFT plus a split step.
// Data is kept as separate real/imaginary arrays so the butterfly loops vectorize. Arithmetic is in
// double: NeMo's float32 FFT has its own rounding error near the noise floor, and a double FFT keeps ours
// from adding a second one.
#pragma once

#include <vector>

namespace nemo_fast {

class RealFft {
 public:
  // n must be a power of two >= 4.
  explicit RealFft(int n);

  int size() const { return n_; }

  // X[k] = sum_t x[t] exp(-2 pi i k t / n) for k = 0..n/2 (unnormalized, like torch.stft and numpy).
  // x has n values; re and im receive n/2 + 1 values each. Not thread-safe: uses internal scratch.
  void Forward(const double* x, float* re, float* im);

  // |X[k]|^2 for k = 0..n/2 written to power (n/2 + 1 values).
  void PowerSpectrum(const double* x, float* power);

 private:
  void ComplexHalf(const double* x);  // leaves the half-size complex FFT of x in zr_/zi_

  int n_;
  int half_;
  std::vector<int> bitrev_;          // half_ entries
  std::vector<double> stage_tw_re_;  // twiddles of each stage, stored stage after stage
  std::vector<double> stage_tw_im_;
  std::vector<double> split_tw_re_;  // exp(-2 pi i k / n), k = 0..half_
  std::vector<double> split_tw_im_;
  std::vector<double> zr_, zi_;
  std::vector<double> rev_r_, rev_i_, power_scratch_;
};

}  // namespace nemo_fast
