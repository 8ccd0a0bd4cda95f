// Sample-rate conversion for audio that arrives in pieces (telephone, microphone, files at other rates):
// a polyphase Kaiser-windowed sinc low-pass between two integer rates. The output does not depend on how
// the input is split. NeMo resamples with librosa (soxr) instead, so audio at another rate than the
// model's gives close, not identical, features.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nemo_fast/common/samples.h"

namespace nemo_fast {

// The filter table of one pair of rates: immutable, so that every stream converting between them shares it.
class ResamplingFilter {
 public:
  // Throws kInvalidConfig for rates outside kMinSampleRate..kMaxSampleRate or a ratio whose filter table would be too
  // large (rates whose greatest common divisor is tiny, e.g. 16001 Hz).
  ResamplingFilter(int input_rate, int output_rate);

  int input_rate() const { return input_rate_; }
  int output_rate() const { return output_rate_; }

 private:
  friend class StreamingResampler;
  int input_rate_, output_rate_;
  std::int64_t up_, down_;           // output_rate / input_rate in lowest terms
  int half_taps_;                    // input samples taken on each side of an output instant
  std::vector<float> coefficients_;  // up_ phases x 2 * half_taps_
};

class StreamingResampler {
 public:
  explicit StreamingResampler(std::shared_ptr<const ResamplingFilter> filter);
  StreamingResampler(int input_rate, int output_rate)
      : StreamingResampler(std::make_shared<const ResamplingFilter>(input_rate, output_rate)) {}

  int input_rate() const { return filter_->input_rate(); }
  int output_rate() const { return filter_->output_rate(); }

  // Appends every output sample whose filter window lies inside the input received so far.
  void Accept(const SampleView& samples, std::vector<float>* out);
  // Appends the rest, with the signal taken as zero after its end: ceil(inputs * output_rate / input_rate)
  // output samples in all. Later Accept calls are an error until Reset.
  void Flush(std::vector<float>* out);
  void Reset();

 private:
  void Emit(std::int64_t end, std::vector<float>* out);  // output samples next_output_ .. end-1
  float Output(std::int64_t n) const;

  std::shared_ptr<const ResamplingFilter> filter_;
  std::vector<float> input_;  // input samples from input_begin_ on
  std::int64_t input_begin_ = 0;
  std::int64_t num_input_ = 0;
  std::int64_t next_output_ = 0;
  bool flushed_ = false;
};

}  // namespace nemo_fast
