#include "nemo_fast/features/resampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

// Pass band to 94.5% of the lower Nyquist frequency; 64 zero crossings of the sinc on each side and a
// Kaiser window of beta 9 give about 90 dB of stop-band attenuation with a transition of about +-5%.
constexpr double kRolloff = 0.945;
constexpr int kZeroCrossings = 64;
constexpr double kKaiserBeta = 9.0;
constexpr std::size_t kMaxFilterCoefficients = std::size_t{1} << 20;  // 4 MB

double BesselI0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 200 && term > 1e-17 * sum; ++k) {
    const double f = x / (2.0 * k);
    term *= f * f;
    sum += term;
  }
  return sum;
}

}  // namespace

ResamplingFilter::ResamplingFilter(int input_rate, int output_rate)
    : input_rate_(input_rate), output_rate_(output_rate) {
  for (int rate : {input_rate, output_rate}) {
    if (rate < kMinSampleRate || rate > kMaxSampleRate) {
      Fail(ErrorCode::kInvalidConfig, "sample rate ", rate, " Hz is out of range (", kMinSampleRate, "..",
           kMaxSampleRate, " Hz)");
    }
  }
  const int g = std::gcd(input_rate, output_rate);
  up_ = output_rate / g;
  down_ = input_rate / g;
  // Cut-off relative to the input's Nyquist frequency: below the lower of the two rates' Nyquists.
  const double cutoff = kRolloff * std::min(1.0, static_cast<double>(up_) / static_cast<double>(down_));
  const double reach = kZeroCrossings / cutoff;  // filter half-length in input samples
  half_taps_ = static_cast<int>(std::ceil(reach));
  const std::size_t taps = 2 * static_cast<std::size_t>(half_taps_);
  if (static_cast<std::size_t>(up_) * taps > kMaxFilterCoefficients) {
    Fail(ErrorCode::kInvalidConfig, "cannot resample ", input_rate, " Hz to ", output_rate,
         " Hz: the rates share too small a factor (", g, " Hz) for a filter table; resample the audio first");
  }
  coefficients_.resize(static_cast<std::size_t>(up_) * taps);
  const double i0_beta = BesselI0(kKaiserBeta);
  std::vector<double> h(taps);
  for (std::int64_t phase = 0; phase < up_; ++phase) {
    // Output instant = base input sample + phase / up_; tap j weighs input sample base - half_taps_ + 1 + j,
    // which lies (half_taps_ - 1 - j + phase / up_) input samples before the instant.
    float* row = coefficients_.data() + phase * taps;
    double sum = 0.0;
    std::fill(h.begin(), h.end(), 0.0);
    for (std::size_t j = 0; j < taps; ++j) {
      const double t = static_cast<double>(half_taps_) - 1.0 - static_cast<double>(j) +
                       static_cast<double>(phase) / static_cast<double>(up_);
      const double x = t / reach;
      if (std::abs(x) >= 1.0) continue;
      const double arg = M_PI * cutoff * t;
      const double sinc = (arg == 0.0) ? 1.0 : std::sin(arg) / arg;
      h[j] = cutoff * sinc * BesselI0(kKaiserBeta * std::sqrt(1.0 - x * x)) / i0_beta;
      sum += h[j];
    }
    // Unit gain at DC in every phase (no ripple at the output rate from the window's truncation).
    for (std::size_t j = 0; j < taps; ++j) row[j] = static_cast<float>(h[j] / sum);
  }
}

StreamingResampler::StreamingResampler(std::shared_ptr<const ResamplingFilter> filter) : filter_(std::move(filter)) {}

void StreamingResampler::Reset() {
  input_.clear();
  input_begin_ = num_input_ = next_output_ = 0;
  flushed_ = false;
}

float StreamingResampler::Output(std::int64_t n) const {
  const ResamplingFilter& f = *filter_;
  const std::int64_t position = n * f.down_;
  const std::int64_t base = position / f.up_;
  const std::int64_t phase = position % f.up_;
  const std::size_t taps = 2 * static_cast<std::size_t>(f.half_taps_);
  const float* h = f.coefficients_.data() + phase * static_cast<std::int64_t>(taps);
  const std::int64_t first = base - f.half_taps_ + 1;
  // Input outside [0, num_input_) is zero.
  const std::int64_t lo = std::max<std::int64_t>(first, 0);
  const std::int64_t hi = std::min<std::int64_t>(first + static_cast<std::int64_t>(taps), num_input_);
  const float* w = h + (lo - first);
  const float* x = input_.data() + (lo - input_begin_);
  const std::int64_t count = hi - lo;
  // Eight independent partial sums, so that the compiler vectorizes the dot product (a single float sum
  // is a dependency chain it may not reorder). The order depends on the output index alone: any split
  // of the input gives the same bits.
  float partial[8] = {};
  std::int64_t k = 0;
  for (; k + 8 <= count; k += 8) {
    for (int lane = 0; lane < 8; ++lane) partial[lane] += w[k + lane] * x[k + lane];
  }
  for (; k < count; ++k) partial[k % 8] += w[k] * x[k];
  return ((partial[0] + partial[4]) + (partial[1] + partial[5])) +
         ((partial[2] + partial[6]) + (partial[3] + partial[7]));
}

void StreamingResampler::Emit(std::int64_t end, std::vector<float>* out) {
  for (; next_output_ < end; ++next_output_) out->push_back(Output(next_output_));
  // Keep only the input that later outputs can still reach.
  const ResamplingFilter& f = *filter_;
  const std::int64_t keep_from =
      std::max<std::int64_t>(input_begin_, next_output_ * f.down_ / f.up_ - f.half_taps_ + 1);
  if (keep_from > input_begin_) {
    const std::int64_t drop = std::min<std::int64_t>(keep_from, num_input_) - input_begin_;
    input_.erase(input_.begin(), input_.begin() + drop);
    input_begin_ += drop;
  }
}

void StreamingResampler::Accept(const SampleView& samples, std::vector<float>* out) {
  if (flushed_) Fail(ErrorCode::kInvalidState, "resampler: audio after the end of input; call reset() first");
  CheckFinite(samples);
  input_.reserve(input_.size() + samples.size);
  for (std::size_t i = 0; i < samples.size; ++i) input_.push_back(samples.At(i));
  num_input_ += static_cast<std::int64_t>(samples.size);
  // Output n is complete once input sample floor(n * down / up) + half_taps_ has arrived, that is for
  // floor(n * down / up) < complete_bases.
  const ResamplingFilter& f = *filter_;
  const std::int64_t complete_bases = num_input_ - f.half_taps_;
  const std::int64_t end = complete_bases <= 0 ? 0 : (complete_bases * f.up_ + f.down_ - 1) / f.down_;
  Emit(std::max(end, next_output_), out);
}

void StreamingResampler::Flush(std::vector<float>* out) {
  if (flushed_) return;
  flushed_ = true;
  Emit((num_input_ * filter_->up_ + filter_->down_ - 1) / filter_->down_, out);
}

}  // namespace nemo_fast
