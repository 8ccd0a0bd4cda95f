#include "nemo_fast/vad/silero_vad.h"

#include <algorithm>
#include <cmath>

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

const char* const kInputNames[] = {"input", "state", "sr"};
const char* const kOutputNames[] = {"output", "stateN"};

Ort::MemoryInfo& CpuMemory() {
  static Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return memory;
}

}  // namespace

void VadOptions::Validate() const {
  if (!(threshold > 0.0f && threshold < 1.0f))
    Fail(ErrorCode::kInvalidConfig, "threshold must be in (0, 1), not ", threshold);
  if (neg_threshold >= 0.0f && !(neg_threshold < threshold)) {
    Fail(ErrorCode::kInvalidConfig, "neg_threshold must be below threshold (", threshold, "), not ", neg_threshold);
  }
  if (min_speech_ms < 0 || min_silence_ms < 0 || speech_pad_ms < 0 || min_silence_at_max_speech_ms < 0) {
    Fail(ErrorCode::kInvalidConfig, "min_speech_ms, min_silence_ms, speech_pad_ms and min_silence_at_max_speech_ms ",
         "must be >= 0");
  }
  if (!(max_speech_seconds > 0.0))
    Fail(ErrorCode::kInvalidConfig, "max_speech_seconds must be > 0, not ", max_speech_seconds);
}

SileroVadModel::SileroVadModel(const std::string& path, const SessionConfig& config)
    : session_(std::make_unique<OnnxSession>(path, config)) {
  const std::vector<std::string> inputs(kInputNames, kInputNames + 3), outputs(kOutputNames, kOutputNames + 2);
  if (session_->input_names() != inputs || session_->output_names() != outputs) {
    Fail(ErrorCode::kInvalidModel, path, " is not the Silero VAD model (inputs input, state, sr; outputs output, ",
         "stateN): give the silero_vad.onnx of the silero-vad package");
  }
}

float SileroVadModel::Run(const float* input, int model_rate, float* state) const {
  const int64_t length = Context(model_rate) + Window(model_rate);
  const int64_t input_shape[] = {1, length};
  const int64_t state_shape[] = {2, 1, 128};
  int64_t rate = model_rate;
  float probability = 0.0f;
  std::vector<float> next_state(kStateSize);
  const int64_t output_shape[] = {1, 1};
  Ort::MemoryInfo& memory = CpuMemory();
  Ort::Value inputs[] = {Ort::Value::CreateTensor<float>(memory, const_cast<float*>(input), length, input_shape, 2),
                         Ort::Value::CreateTensor<float>(memory, state, kStateSize, state_shape, 3),
                         Ort::Value::CreateTensor<int64_t>(memory, &rate, 1, nullptr, 0)};
  Ort::Value outputs[] = {Ort::Value::CreateTensor<float>(memory, &probability, 1, output_shape, 2),
                          Ort::Value::CreateTensor<float>(memory, next_state.data(), kStateSize, state_shape, 3)};
  try {
    session_->get().Run(Ort::RunOptions{nullptr}, kInputNames, inputs, 3, kOutputNames, outputs, 2);
  } catch (const Ort::Exception& e) {
    Fail(ErrorCode::kOnnxRuntime, session_->path(), ": ", e.what());
  }
  std::copy(next_state.begin(), next_state.end(), state);
  return probability;
}

VadStream::VadStream(std::shared_ptr<const SileroVadModel> model, int sample_rate) : model_(std::move(model)) {
  if (sample_rate == 8000 || sample_rate == 16000) {
    model_rate_ = sample_rate;
  } else if (sample_rate > 16000 && sample_rate % 16000 == 0) {
    step_ = sample_rate / 16000;
  } else {
    Fail(ErrorCode::kInvalidConfig, "Silero VAD takes 8000 or 16000 Hz (or a multiple of 16000), not ", sample_rate,
         " Hz");
  }
  input_.assign(SileroVadModel::Context(model_rate_), 0.0f);
  state_.assign(SileroVadModel::kStateSize, 0.0f);
}

void VadStream::Accept(const SampleView& samples) {
  if (finished_) Fail(ErrorCode::kInvalidState, "audio after the VAD stream's end");
  CheckFinite(samples);
  const size_t full = static_cast<size_t>(SileroVadModel::Context(model_rate_) + SileroVadModel::Window(model_rate_));
  for (size_t i = 0; i < samples.size; ++i, ++input_samples_) {
    if (input_samples_ % step_ != 0) continue;  // the package's x[::step]
    input_.push_back(samples.At(i));
    if (input_.size() == full) RunWindow();
  }
}

void VadStream::Finish() {
  if (finished_) return;
  const size_t context = static_cast<size_t>(SileroVadModel::Context(model_rate_));
  if (input_.size() > context) {
    input_.resize(context + static_cast<size_t>(SileroVadModel::Window(model_rate_)), 0.0f);
    RunWindow();
  }
  finished_ = true;
}

void VadStream::RunWindow() {
  probabilities_.push_back(model_->Run(input_.data(), model_rate_, state_.data()));
  const size_t context = static_cast<size_t>(SileroVadModel::Context(model_rate_));
  std::copy(input_.end() - static_cast<std::ptrdiff_t>(context), input_.end(), input_.begin());
  input_.resize(context);
}

std::vector<SpeechSpan> SpeechSpans(const std::vector<float>& probabilities, int model_rate, int decimation,
                                    int64_t input_samples, const VadOptions& options) {
  options.Validate();
  // In model samples, as the package computes them; mapped back to the input's at the end.
  const int64_t length = (input_samples + decimation - 1) / decimation;
  const double window = SileroVadModel::Window(model_rate);
  const double rate = model_rate;
  const double min_speech = rate * options.min_speech_ms / 1000.0;
  const double pad = rate * options.speech_pad_ms / 1000.0;
  const double max_speech = rate * options.max_speech_seconds - window - 2 * pad;
  const double min_silence = rate * options.min_silence_ms / 1000.0;
  const double min_silence_at_max = rate * options.min_silence_at_max_speech_ms / 1000.0;
  const float threshold = options.threshold;
  const float neg_threshold =
      options.neg_threshold >= 0.0f ? options.neg_threshold : std::max(threshold - 0.15f, 0.01f);

  std::vector<SpeechSpan> spans;
  bool triggered = false;
  bool has_current = false;  // the package's current_speech is not empty
  SpeechSpan current;
  int64_t temp_end = 0, prev_end = 0, next_start = 0;
  std::vector<std::pair<int64_t, int64_t>> possible_ends;  // (silence start, its length)
  auto reset = [&] {
    prev_end = next_start = temp_end = 0;
    possible_ends.clear();
  };
  for (size_t i = 0; i < probabilities.size(); ++i) {
    const float p = probabilities[i];
    const int64_t sample = static_cast<int64_t>(window) * static_cast<int64_t>(i);
    if (p >= threshold && temp_end) {
      const int64_t silence = sample - temp_end;
      if (silence > min_silence_at_max) possible_ends.emplace_back(temp_end, silence);
      temp_end = 0;
      if (next_start < prev_end) next_start = sample;
    }
    if (p >= threshold && !triggered) {
      triggered = true;
      current = {sample, 0};
      has_current = true;
      continue;
    }
    if (triggered && static_cast<double>(sample - current.start) > max_speech) {
      if (options.use_longest_silence_at_max_speech && !possible_ends.empty()) {
        auto longest = possible_ends.front();  // the first of the longest, as Python's max
        for (const auto& e : possible_ends) {
          if (e.second > longest.second) longest = e;
        }
        prev_end = longest.first;
        current.end = prev_end;
        spans.push_back(current);
        has_current = false;
        next_start = prev_end + longest.second;
        if (next_start < prev_end + sample) {
          current = {next_start, 0};
          has_current = true;
        } else {
          triggered = false;
        }
        reset();
      } else if (prev_end) {
        current.end = prev_end;
        spans.push_back(current);
        has_current = false;
        if (next_start < prev_end) {
          triggered = false;
        } else {
          current = {next_start, 0};
          has_current = true;
        }
        reset();
      } else {
        current.end = sample;
        spans.push_back(current);
        has_current = false;
        reset();
        triggered = false;
        continue;
      }
    }
    if (p < neg_threshold && triggered) {
      if (!temp_end) temp_end = sample;
      const int64_t silence_now = sample - temp_end;
      if (!options.use_longest_silence_at_max_speech && static_cast<double>(silence_now) > min_silence_at_max) {
        prev_end = temp_end;
      }
      if (static_cast<double>(silence_now) < min_silence) continue;
      current.end = temp_end;
      if (static_cast<double>(current.end - current.start) > min_speech) spans.push_back(current);
      has_current = false;
      reset();
      triggered = false;
      continue;
    }
  }
  if (has_current && static_cast<double>(length - current.start) > min_speech) {
    current.end = length;
    spans.push_back(current);
  }
  // Padding, as the package: int() of float sums; halves of short silences between spans.
  for (size_t i = 0; i < spans.size(); ++i) {
    SpeechSpan& span = spans[i];
    if (i == 0) span.start = static_cast<int64_t>(std::max(0.0, static_cast<double>(span.start) - pad));
    if (i + 1 != spans.size()) {
      const int64_t silence = spans[i + 1].start - span.end;
      if (static_cast<double>(silence) < 2 * pad) {
        span.end += silence / 2;
        spans[i + 1].start = std::max<int64_t>(0, spans[i + 1].start - silence / 2);
      } else {
        span.end = static_cast<int64_t>(std::min(static_cast<double>(length), static_cast<double>(span.end) + pad));
        spans[i + 1].start = static_cast<int64_t>(std::max(0.0, static_cast<double>(spans[i + 1].start) - pad));
      }
    } else {
      span.end = static_cast<int64_t>(std::min(static_cast<double>(length), static_cast<double>(span.end) + pad));
    }
  }
  for (SpeechSpan& span : spans) {
    span.start *= decimation;
    span.end *= decimation;
  }
  return spans;
}

}  // namespace nemo_fast
