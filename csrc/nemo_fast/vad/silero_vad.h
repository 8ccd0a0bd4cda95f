// Silero VAD (the ONNX model the silero-vad package ships) run through the same ONNX Runtime as the recognizer:
// speech probabilities of 32 ms windows with the model's state and context carried across calls, and the
// package's get_speech_timestamps rules turning them into speech spans, so that both give the package's
// numbers (probabilities to float rounding, spans to the sample).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nemo_fast/common/samples.h"
#include "nemo_fast/runtime/session.h"

namespace nemo_fast {

// get_speech_timestamps' parameters, with its defaults.
struct VadOptions {
  float threshold = 0.5f;       // a window at or above it is speech
  float neg_threshold = -1.0f;  // below it speech ends; < 0: max(threshold - 0.15, 0.01), the package's
  int min_speech_ms = 250;      // shorter spans are dropped
  int min_silence_ms = 100;     // silence this long ends a span
  int speech_pad_ms = 30;       // spans are widened by this on each side
  double max_speech_seconds = std::numeric_limits<double>::infinity();  // longer spans are cut at a silence
  int min_silence_at_max_speech_ms = 98;                                // the silences a too-long span may be cut at
  bool use_longest_silence_at_max_speech = true;                        // cut at the longest of them, else at the last

  void Validate() const;  // kInvalidConfig naming the first bad field
};

struct SpeechSpan {
  int64_t start = 0;  // samples of the input (at its own rate)
  int64_t end = 0;
};

// The model: immutable once loaded; one Run per window, its state passed in and out (thread-safe).
class SileroVadModel {
 public:
  SileroVadModel(const std::string& path, const SessionConfig& config);

  static int Window(int model_rate) { return model_rate == 16000 ? 512 : 256; }
  static int Context(int model_rate) { return model_rate == 16000 ? 64 : 32; }
  static constexpr int kStateSize = 2 * 128;

  // The speech probability of `input` (Context + Window samples at model_rate, 8000 or 16000); `state`
  // (kStateSize floats) is read and replaced by the next state.
  float Run(const float* input, int model_rate, float* state) const;

 private:
  std::unique_ptr<OnnxSession> session_;
};

// One input's probabilities as audio arrives: every complete window is run at once; Finish() runs the last,
// zero-padded window (as get_speech_timestamps pads it). Rates: 8000, 16000 and multiples of 16000 (taken one
// sample in `rate / 16000`, as the package does).
class VadStream {
 public:
  VadStream(std::shared_ptr<const SileroVadModel> model, int sample_rate);

  void Accept(const SampleView& samples);  // kNonFiniteAudio (nothing taken) for a NaN or infinite sample
  void Finish();

  const std::vector<float>& probabilities() const { return probabilities_; }
  int64_t input_samples() const { return input_samples_; }  // at the input's rate
  int model_rate() const { return model_rate_; }
  int decimation() const { return step_; }  // input samples per model sample

 private:
  void RunWindow();

  std::shared_ptr<const SileroVadModel> model_;
  int model_rate_ = 16000;
  int step_ = 1;
  int64_t input_samples_ = 0;  // taken so far
  std::vector<float> input_;   // context then the window being filled
  std::vector<float> state_;
  std::vector<float> probabilities_;
  bool finished_ = false;
};

// get_speech_timestamps_from_probs: speech spans (in input samples) of the window probabilities of an input
// of `input_samples` samples.
std::vector<SpeechSpan> SpeechSpans(const std::vector<float>& probabilities, int model_rate, int decimation,
                                    int64_t input_samples, const VadOptions& options);

}  // namespace nemo_fast
