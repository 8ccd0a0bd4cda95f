#include "nemo_fast/features/mel_filterbank.h"

#include <algorithm>
#include <cmath>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/hot_loop.h"

namespace nemo_fast {
namespace {
constexpr double kMelLinearHzPerMel = 200.0 / 3.0;
constexpr double kMelLogStartHz = 1000.0;
constexpr double kMelLogStartMel = kMelLogStartHz / kMelLinearHzPerMel;
const double kMelLogStep = std::log(6.4) / 27.0;
}  // namespace

double HzToMel(double hz) {
  if (hz >= kMelLogStartHz) return kMelLogStartMel + std::log(hz / kMelLogStartHz) / kMelLogStep;
  return hz / kMelLinearHzPerMel;
}

double MelToHz(double mel) {
  if (mel >= kMelLogStartMel) return kMelLogStartHz * std::exp(kMelLogStep * (mel - kMelLogStartMel));
  return kMelLinearHzPerMel * mel;
}

MelFilterbank::MelFilterbank(int num_bins, int n_fft, double sample_rate, double low_freq_hz, double high_freq_hz,
                             MelNorm norm)
    : num_bins_(num_bins), num_fft_bins_(n_fft / 2 + 1) {
  if (num_bins < 1) Fail(ErrorCode::kInvalidConfig, "number of mel bins must be positive, got ", num_bins);
  if (!(low_freq_hz >= 0.0 && low_freq_hz < high_freq_hz && high_freq_hz <= sample_rate / 2.0)) {
    Fail(ErrorCode::kInvalidConfig, "mel frequency range must satisfy 0 <= lowfreq < highfreq <= sample_rate/2, got ",
         low_freq_hz, "..", high_freq_hz, " Hz at ", sample_rate, " Hz");
  }
  // numpy.linspace semantics: start + i * step, with the last point exactly `stop`.
  const int num_points = num_bins + 2;
  const double mel_low = HzToMel(low_freq_hz), mel_high = HzToMel(high_freq_hz);
  const double mel_step = (mel_high - mel_low) / (num_points - 1);
  std::vector<double> edges_hz(num_points);
  for (int i = 0; i < num_points; ++i) {
    double mel = (i == num_points - 1) ? mel_high : mel_low + i * mel_step;
    edges_hz[i] = MelToHz(mel);
  }
  // numpy.fft.rfftfreq: k * (1 / (n * d)) with d = 1 / sample_rate.
  const double bin_hz = 1.0 / (n_fft * (1.0 / sample_rate));
  std::vector<double> row(num_fft_bins_);
  first_.resize(num_bins);
  offset_.resize(num_bins);
  length_.resize(num_bins);
  for (int m = 0; m < num_bins; ++m) {
    const double lower_width = edges_hz[m + 1] - edges_hz[m];
    const double upper_width = edges_hz[m + 2] - edges_hz[m + 1];
    const double enorm = norm == MelNorm::kSlaney ? 2.0 / (edges_hz[m + 2] - edges_hz[m]) : 1.0;
    for (int k = 0; k < num_fft_bins_; ++k) {
      const double f = k * bin_hz;
      const double rising = -(edges_hz[m] - f) / lower_width;
      const double falling = (edges_hz[m + 2] - f) / upper_width;
      row[k] = std::max(0.0, std::min(rising, falling)) * enorm;
    }
    AddFilter(m, row.data());
  }
}

MelFilterbank::MelFilterbank(int num_bins, int n_fft, const std::vector<float>& dense)
    : num_bins_(num_bins), num_fft_bins_(n_fft / 2 + 1) {
  if (num_bins < 1 || dense.size() != static_cast<std::size_t>(num_bins) * num_fft_bins_) {
    Fail(ErrorCode::kInvalidConfig, "mel filterbank matrix has ", dense.size(), " weights; expected ", num_bins, " x ",
         num_fft_bins_);
  }
  first_.resize(num_bins);
  offset_.resize(num_bins);
  length_.resize(num_bins);
  std::vector<double> row(num_fft_bins_);
  for (int m = 0; m < num_bins; ++m) {
    for (int k = 0; k < num_fft_bins_; ++k) row[k] = dense[static_cast<std::size_t>(m) * num_fft_bins_ + k];
    AddFilter(m, row.data());
  }
}

void MelFilterbank::AddFilter(int m, const double* row) {
  int first = -1, last = -1;
  for (int k = 0; k < num_fft_bins_; ++k) {
    if (static_cast<float>(row[k]) != 0.0f) {
      if (first < 0) first = k;
      last = k;
    }
  }
  if (first < 0) first = last = 0;  // an empty filter (too many bins for n_fft) gives 0, as librosa
  first_[m] = first;
  offset_[m] = static_cast<int>(weights_.size());
  length_[m] = last - first + 1;
  for (int k = first; k <= last; ++k) weights_.push_back(static_cast<float>(row[k]));
}

NEMO_FAST_HOT_LOOP
void MelFilterbank::Apply(const float* power, float* mel) const {
  const float* w = weights_.data();
  for (int m = 0; m < num_bins_; ++m) {
    const float* p = power + first_[m];
    const float* wm = w + offset_[m];
    float acc = 0.0f;
    for (int k = 0, n = length_[m]; k < n; ++k) acc += wm[k] * p[k];
    mel[m] = acc;
  }
}

std::vector<float> MelFilterbank::Dense() const {
  std::vector<float> dense(static_cast<size_t>(num_bins_) * num_fft_bins_, 0.0f);
  for (int m = 0; m < num_bins_; ++m) {
    for (int k = 0; k < length_[m]; ++k) {
      dense[static_cast<size_t>(m) * num_fft_bins_ + first_[m] + k] = weights_[offset_[m] + k];
    }
  }
  return dense;
}

}  // namespace nemo_fast
