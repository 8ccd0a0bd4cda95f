// Mel filterbank identical to librosa.filters.mel (Slaney mel scale, htk=False), which NeMo uses.
// Weights are computed in double and stored as float, as NeMo casts librosa's matrix to float32.
#pragma once

#include <vector>

namespace nemo_fast {

enum class MelNorm { kNone, kSlaney };

class MelFilterbank {
 public:
  MelFilterbank(int num_bins, int n_fft, double sample_rate, double low_freq_hz, double high_freq_hz, MelNorm norm);
  // A filterbank given as a dense row-major (num_bins x n_fft/2+1) matrix, e.g. a model's own weights.
  MelFilterbank(int num_bins, int n_fft, const std::vector<float>& dense);

  int num_bins() const { return num_bins_; }
  int num_fft_bins() const { return num_fft_bins_; }

  // mel[m] = sum_k weight(m, k) * power[k]; power has n_fft/2 + 1 values.
  void Apply(const float* power, float* mel) const;

  // The dense (num_bins x n_fft/2+1) matrix, row-major, for tests and comparison.
  std::vector<float> Dense() const;

 private:
  int num_bins_;
  int num_fft_bins_;
  std::vector<int> first_;   // first nonzero FFT bin of each filter
  std::vector<int> offset_;  // start of each filter's weights in weights_
  std::vector<int> length_;  // number of stored weights of each filter
  std::vector<float> weights_;

  void AddFilter(int m, const double* row);  // stores row's nonzero span as filter m
};

// Slaney-style Hz <-> mel conversion (linear below 1 kHz, logarithmic above), as librosa with htk=False.
double HzToMel(double hz);
double MelToHz(double mel);

}  // namespace nemo_fast
