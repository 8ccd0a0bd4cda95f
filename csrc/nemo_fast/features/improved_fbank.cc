#include "nemo_fast/features/improved_fbank.h"

#include <algorithm>
#include <cmath>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/hot_loop.h"
#include "nemo_fast/features/fast_log.h"

namespace nemo_fast {
namespace {

// torch.*_window(win_length, periodic=False) in torch's own float32 arithmetic, zero-padded to n_fft in
// the middle as torch.stft does. Bit-equal windows matter: a last-bit difference in a tap leaks a loud
// bin's energy into quiet bins far above the 1e-4 log-mel tolerance.
std::vector<double> MakeWindow(const FbankOptions& o, int* begin, int* end) {
  std::vector<double> window(o.n_fft, 0.0);
  const int n = o.win_length_samples;
  const int offset = (o.n_fft - n) / 2;
  *begin = offset;
  *end = offset + n;
  if (!o.window_taps.empty()) {
    std::copy(o.window_taps.begin(), o.window_taps.end(), window.begin() + offset);
    return window;
  }
  const float step = n > 1 ? static_cast<float>(2.0 * M_PI / static_cast<double>(n - 1)) : 0.0f;
  const float bartlett_step = n > 1 ? static_cast<float>(2.0 / static_cast<double>(n - 1)) : 0.0f;
  for (int i = 0; i < n; ++i) {
    float w = 1.0f;
    if (n > 1) {
      const float phase = static_cast<float>(i) * step;
      switch (o.window) {
        case WindowType::kHann: w = std::cos(phase) * -0.5f + 0.5f; break;
        case WindowType::kHamming: w = std::cos(phase) * -0.46f + 0.54f; break;
        case WindowType::kBlackman: w = std::cos(phase * 2.0f) * 0.08f - std::cos(phase) * 0.5f + 0.42f; break;
        case WindowType::kBartlett: {
          const float ramp = static_cast<float>(i) * bartlett_step;
          w = i < ((n - 1) >> 1) + 1 ? ramp : ramp * -1.0f + 2.0f;
          break;
        }
      }
    }
    window[offset + i] = w;
  }
  return window;
}

// Enough samples per internal block to amortize bookkeeping while staying in cache.
constexpr std::size_t kBlockSamples = 1 << 15;

}  // namespace

ImprovedFbank::ImprovedFbank(const FbankOptions& options)
    : options_((options.Validate(), options)),
      window_(MakeWindow(options_, &window_begin_, &window_end_)),
      mel_(options_.mel_weights.empty()
               ? MelFilterbank(options_.num_mel_bins, options_.n_fft, options_.sample_rate, options_.low_freq_hz,
                               options_.effective_high_freq_hz(), options_.mel_norm)
               : MelFilterbank(options_.num_mel_bins, options_.n_fft, options_.mel_weights)),
      fft_prototype_(options_.n_fft) {}

std::vector<float> ImprovedFbank::Compute(const SampleView& samples) const {
  if (samples.size == 0) Fail(ErrorCode::kEmptyAudio, "audio is empty (0 samples)");
  FbankStream stream(*this);
  std::vector<float> frames;
  frames.reserve(static_cast<std::size_t>(options_.NumValidFrames(samples.size)) * feature_dim());
  stream.AcceptWaveform(samples, &frames);
  stream.InputFinished(&frames);
  return frames;
}

std::unique_ptr<FbankStream> ImprovedFbank::CreateStream() const { return std::make_unique<FbankStream>(*this); }

FbankStream::FbankStream(const ImprovedFbank& fbank)
    : fbank_(fbank),
      fft_(fbank.fft_prototype_),
      frame_(fbank.options_.n_fft, 0.0),
      power_(fbank.options_.n_fft / 2 + 1, 0.0f) {}

void FbankStream::Reset() {
  signal_.clear();
  signal_begin_ = 0;
  num_samples_ = 0;
  last_sample_ = 0.0;
  next_frame_ = 0;
  finished_ = false;
  held_frames_.clear();
}

void FbankStream::AcceptWaveform(const SampleView& samples, std::vector<float>* frames) {
  if (finished_) Fail(ErrorCode::kInvalidState, "accept_waveform() called after input_finished(); call reset() first");
  CheckFinite(samples);
  const double preemph = fbank_.options_.preemphasis ? fbank_.options_.preemph : 0.0;
  for (std::size_t block = 0; block < samples.size; block += kBlockSamples) {
    const std::size_t n = std::min(kBlockSamples, samples.size - block);
    const std::size_t old_size = signal_.size();
    signal_.resize(old_size + n);
    double* out = signal_.data() + old_size;
    // NeMo: y[0] = x[0], y[t] = x[t] - preemph * x[t-1].
    double prev = last_sample_;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = samples.At(block + i);
      out[i] = (num_samples_ == 0 && i == 0) ? x : x - preemph * prev;
      prev = x;
    }
    last_sample_ = prev;
    num_samples_ += static_cast<std::int64_t>(n);
    EmitReadyFrames(frames);
  }
}

void FbankStream::InputFinished(std::vector<float>* frames) {
  if (finished_) return;
  finished_ = true;
  EmitReadyFrames(frames);
  if (HoldsFrames()) {
    const std::int64_t count = static_cast<std::int64_t>(held_frames_.size()) / feature_dim();
    Normalize(held_frames_.data(), count);
    frames->insert(frames->end(), held_frames_.begin(), held_frames_.end());
    held_frames_.clear();
  }
}

void FbankStream::EmitReadyFrames(std::vector<float>* frames) {
  const FbankOptions& o = fbank_.options_;
  const int dim = feature_dim();
  const std::int64_t hop = o.hop_length_samples;
  const std::int64_t left_pad = o.left_pad_samples();
  const std::int64_t valid = o.NumValidFrames(num_samples_);
  std::vector<float>* sink = HoldsFrames() ? &held_frames_ : frames;
  while (next_frame_ < valid) {
    // The frame is final once every sample under the window has arrived (later ones are zero padding),
    // and is known not to fall in the tail that NeMo masks.
    const std::int64_t last_needed = next_frame_ * hop - left_pad + fbank_.window_end_ - 1;
    if (!finished_ && last_needed + o.masked_tail_samples() >= num_samples_) break;
    const std::size_t old_size = sink->size();
    sink->resize(old_size + dim);
    ComputeFrame(next_frame_, sink->data() + old_size);
    ++next_frame_;
  }
  // Drop samples no future frame reads.
  const std::int64_t first_needed = next_frame_ * hop - left_pad + fbank_.window_begin_;
  const std::int64_t drop =
      std::min<std::int64_t>(first_needed - signal_begin_, static_cast<std::int64_t>(signal_.size()));
  if (drop > 0) {
    signal_.erase(signal_.begin(), signal_.begin() + drop);
    signal_begin_ += drop;
  }
}

NEMO_FAST_HOT_LOOP
void FbankStream::ComputeFrame(std::int64_t frame_index, float* out) {
  const FbankOptions& o = fbank_.options_;
  const std::int64_t frame_start = frame_index * o.hop_length_samples - o.left_pad_samples();
  // Window support [begin, end) of the frame; samples outside [0, num_samples_) are zero padding. The
  // rest of frame_ stays zero from construction.
  const int begin = fbank_.window_begin_, end = fbank_.window_end_;
  const int first_sample = static_cast<int>(std::clamp<std::int64_t>(-frame_start, begin, end));
  // Before the end of input, ready frames never reach the masked tail (see EmitReadyFrames).
  const std::int64_t usable_samples = num_samples_ - o.masked_tail_samples();
  const int last_sample = static_cast<int>(std::clamp<std::int64_t>(usable_samples - frame_start, first_sample, end));
  double* __restrict frame = frame_.data();
  const double* __restrict window = fbank_.window_.data();
  const double* __restrict signal = signal_.data() + (frame_start - signal_begin_);
  for (int j = begin; j < first_sample; ++j) frame[j] = 0.0;
  for (int j = first_sample; j < last_sample; ++j) frame[j] = window[j] * signal[j];
  for (int j = last_sample; j < end; ++j) frame[j] = 0.0;

  fft_.PowerSpectrum(frame, power_.data());
  if (o.mag_power != 2.0f) {
    // NeMo takes the magnitude first, then raises it to mag_power.
    for (float& p : power_) p = std::pow(std::sqrt(p), o.mag_power);
  }
  fbank_.mel_.Apply(power_.data(), out);
  const int dim = feature_dim();
  if (o.log) {
    const float guard = o.log_guard_value;
    if (o.log_guard == LogGuard::kAdd) {
      for (int m = 0; m < dim; ++m) out[m] += guard;
    } else {
      for (int m = 0; m < dim; ++m) out[m] = std::max(out[m], guard);
    }
    LogArray(out, out, dim);
  }
  if (o.normalize == FeatureNormalize::kFixed) {
    // NeMo's float32 (x - mean) / std; a division, not a multiplication by 1/std, to match it bit for bit.
    for (int m = 0; m < dim; ++m) out[m] = (out[m] - o.fixed_mean[m]) / o.fixed_std[m];
  }
}

void FbankStream::Normalize(float* frames, std::int64_t num_frames) const {
  constexpr double kStdGuard = 1e-5;  // NeMo's CONSTANT added to the standard deviation
  const int dim = feature_dim();
  if (num_frames == 0) return;
  if (fbank_.options_.normalize == FeatureNormalize::kPerFeature) {
    std::vector<double> mean(dim, 0.0), sq(dim, 0.0);
    for (std::int64_t t = 0; t < num_frames; ++t)
      for (int m = 0; m < dim; ++m) mean[m] += frames[t * dim + m];
    for (int m = 0; m < dim; ++m) mean[m] /= static_cast<double>(num_frames);
    for (std::int64_t t = 0; t < num_frames; ++t)
      for (int m = 0; m < dim; ++m) {
        const double d = frames[t * dim + m] - mean[m];
        sq[m] += d * d;
      }
    std::vector<float> mean_f(dim), inv_std(dim);
    for (int m = 0; m < dim; ++m) {
      // One frame: NeMo's unbiased std is NaN, which it replaces by 0.
      const double std_dev = num_frames > 1 ? std::sqrt(sq[m] / static_cast<double>(num_frames - 1)) : 0.0;
      mean_f[m] = static_cast<float>(mean[m]);
      inv_std[m] = static_cast<float>(1.0 / (std_dev + kStdGuard));
    }
    for (std::int64_t t = 0; t < num_frames; ++t)
      for (int m = 0; m < dim; ++m) frames[t * dim + m] = (frames[t * dim + m] - mean_f[m]) * inv_std[m];
  } else if (fbank_.options_.normalize == FeatureNormalize::kAllFeatures) {
    const std::int64_t n = num_frames * dim;
    double mean = 0.0, sq = 0.0;
    for (std::int64_t i = 0; i < n; ++i) mean += frames[i];
    mean /= static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i) sq += (frames[i] - mean) * (frames[i] - mean);
    const double std_dev = std::sqrt(sq / static_cast<double>(n - 1));
    const float mean_f = static_cast<float>(mean);
    const float inv_std = static_cast<float>(1.0 / (std_dev + kStdGuard));
    for (std::int64_t i = 0; i < n; ++i) frames[i] = (frames[i] - mean_f) * inv_std;
  }
}

}  // namespace nemo_fast
