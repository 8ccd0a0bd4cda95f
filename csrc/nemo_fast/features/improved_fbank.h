// ImprovedFbank: log-mel features identical to NeMo's AudioToMelSpectrogramPreprocessor (inference mode),
// whole-utterance and incremental. Frames are row-major (num_frames x num_mel_bins) float32.
//
// Thread-safety: ImprovedFbank is immutable after construction and may be shared by any number of threads.
// An FbankStream belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nemo_fast/common/samples.h"
#include "nemo_fast/features/fbank_options.h"
#include "nemo_fast/features/fft.h"
#include "nemo_fast/features/mel_filterbank.h"

namespace nemo_fast {

class FbankStream;

class ImprovedFbank {
 public:
  explicit ImprovedFbank(const FbankOptions& options);

  const FbankOptions& options() const { return options_; }
  int feature_dim() const { return options_.num_mel_bins; }
  const MelFilterbank& mel_filterbank() const { return mel_; }
  const std::vector<double>& window() const { return window_; }  // n_fft values, zero outside the window

  // The frames NeMo marks valid for the whole utterance, normalized as configured. Empty input is an
  // error here (kEmptyAudio); a stream that receives no samples simply yields no frames.
  std::vector<float> Compute(const SampleView& samples) const;

  std::unique_ptr<FbankStream> CreateStream() const;

 private:
  friend class FbankStream;
  FbankOptions options_;
  int window_begin_;  // first and one-past-last index of the window's support within the frame
  int window_end_;
  std::vector<double> window_;
  MelFilterbank mel_;
  RealFft fft_prototype_;
};

// Incremental feature extraction. Frames come out as soon as no later sample can change them, and are
// bit-for-bit the frames of ImprovedFbank::Compute whatever the chunking. With per_feature or
// all_features normalization every frame depends on the whole utterance, so frames come out only at
// InputFinished.
class FbankStream {
 public:
  explicit FbankStream(const ImprovedFbank& fbank);

  // Appends the frames that became final to *frames (row-major). Throws on non-finite samples or after
  // InputFinished, leaving the stream unchanged.
  void AcceptWaveform(const SampleView& samples, std::vector<float>* frames);
  // Appends the remaining frames (zero padding at the end as NeMo's STFT does).
  void InputFinished(std::vector<float>* frames);
  void Reset();

  bool input_finished() const { return finished_; }
  std::int64_t num_samples() const { return num_samples_; }
  std::int64_t num_frames_emitted() const { return next_frame_; }
  int feature_dim() const { return fbank_.feature_dim(); }
  const FbankOptions& options() const { return fbank_.options(); }

 private:
  void EmitReadyFrames(std::vector<float>* frames);
  void ComputeFrame(std::int64_t frame_index, float* out);
  void Normalize(float* frames, std::int64_t num_frames) const;
  // Whole-utterance normalization (per_feature, all_features) holds frames until the end of the input; fixed
  // statistics apply frame by frame, so those frames stream.
  bool HoldsFrames() const {
    return fbank_.options_.normalize == FeatureNormalize::kPerFeature ||
           fbank_.options_.normalize == FeatureNormalize::kAllFeatures;
  }

  const ImprovedFbank& fbank_;
  RealFft fft_;
  // Preemphasis and windowing run in double, like NeMo's featurizer in float64 (see fft.h).
  std::vector<double> frame_;
  std::vector<float> power_;
  // Preemphasized samples from absolute index signal_begin_ to num_samples_.
  std::vector<double> signal_;
  std::int64_t signal_begin_ = 0;
  std::int64_t num_samples_ = 0;
  double last_sample_ = 0.0;
  std::int64_t next_frame_ = 0;
  bool finished_ = false;
  std::vector<float> held_frames_;  // frames held back until InputFinished when normalizing
};

}  // namespace nemo_fast
