#include "nemo_fast/model/cache_aware_conformer.h"

#include <algorithm>
#include <cstring>

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

const std::vector<std::string> kStreamingInputs = {"audio_signal",           "length",
                                                   "cache_last_channel",     "cache_last_time",
                                                   "cache_last_channel_len", "drop_extra_pre_encoded"};
const std::vector<std::string> kCacheOutputs = {"cache_last_channel_next", "cache_last_time_next",
                                                "cache_last_channel_next_len"};
const std::vector<std::string> kOfflineInputs = {"audio_signal", "length"};
constexpr const char* kCtcOutput = "log_probs";
constexpr const char* kTransducerOutput = "transducer_encoder";

// The encoder graph's outputs as the exporter writes them for these heads (metadata.encoder_outputs).
std::vector<std::string> ExpectedOutputs(const ModelSpec& spec) {
  std::vector<std::string> names;
  if (spec.has_decoder("ctc")) names.push_back(kCtcOutput);
  if (spec.has_transducer()) names.push_back(kTransducerOutput);
  names.push_back("encoded_lengths");
  if (spec.streaming) names.insert(names.end(), kCacheOutputs.begin(), kCacheOutputs.end());
  return names;
}

void CheckNames(const std::vector<std::string>& actual, const std::vector<std::string>& expected, const char* what,
                const std::string& path) {
  if (actual != expected) {
    std::string a, e;
    for (const auto& n : actual) a += (a.empty() ? "" : ", ") + n;
    for (const auto& n : expected) e += (e.empty() ? "" : ", ") + n;
    Fail(ErrorCode::kInvalidModel, path, " has ", what, " [", a, "] but its metadata describes [", e, "]");
  }
}

// The element types nemo_fast exchanges with the encoder (OnnxSession::CheckElementTypes): int64 lengths,
// float32 everything else.
std::string ElementTypeLetters(const std::vector<std::string>& names) {
  std::string letters;
  for (const auto& name : names) {
    const bool length = name == "length" || name == "encoded_lengths" || name == "drop_extra_pre_encoded" ||
                        (name.size() > 4 && name.compare(name.size() - 4, 4, "_len") == 0);
    letters += length ? 'l' : 'f';
  }
  return letters;
}

}  // namespace

NeMoCacheAwareConformer::NeMoCacheAwareConformer(const std::string& onnx_path, const SessionConfig& config,
                                                 const std::string& decoder)
    : session_(std::make_unique<OnnxSession>(onnx_path, config)),
      spec_(ModelSpec::FromMetadata(session_->metadata(), onnx_path)),
      decoder_(decoder.empty() || decoder == "default" ? spec_.default_decoder : decoder) {
  try {
    device_ = CudaMemory::ForSession(*session_, config);
  } catch (const Error& e) {
    device_unavailable_ = e.what();
  } catch (const Ort::Exception& e) {
    device_unavailable_ = e.what();
  }
  if (!spec_.has_decoder(decoder_)) {
    std::string heads;
    for (const auto& d : spec_.decoders) heads += (heads.empty() ? "" : ", ") + d;
    Fail(ErrorCode::kInvalidConfig, "decoder '", decoder_, "' is not available in ", onnx_path, " (it has: ", heads,
         ")");
  }
  std::vector<std::string> inputs = spec_.streaming ? kStreamingInputs : kOfflineInputs;
  if (spec_.streaming && !spec_.geometry.drop_is_input) inputs.pop_back();
  CheckNames(session_->input_names(), inputs, "inputs", onnx_path);
  CheckNames(session_->output_names(), ExpectedOutputs(spec_), "outputs", onnx_path);
  session_->CheckElementTypes(ElementTypeLetters(session_->input_names()),
                              ElementTypeLetters(session_->output_names()));
  for (const auto& n : session_->input_names()) input_names_.push_back(n.c_str());
  // Only the chosen head's output is copied out.
  const bool ctc = decoder_ == "ctc";
  requested_outputs_ = {ctc ? kCtcOutput : kTransducerOutput, "encoded_lengths"};
  if (spec_.streaming) requested_outputs_.insert(requested_outputs_.end(), kCacheOutputs.begin(), kCacheOutputs.end());
  for (const auto& n : requested_outputs_) output_names_.push_back(n.c_str());
  head_dim_ = ctc ? spec_.vocab_size : spec_.transducer.joint_hidden;
  if (spec_.streaming) {
    // The declared cache shapes must agree with the metadata (dimension 0 is the batch).
    const auto channel = session_->InputShape(2);
    const auto time = session_->InputShape(3);
    for (int i = 0; i < 3; ++i) {
      if ((channel.size() == 4 && channel[i + 1] > 0 && channel[i + 1] != spec_.cache_last_channel_shape[i]) ||
          (time.size() == 4 && time[i + 1] > 0 && time[i + 1] != spec_.cache_last_time_shape[i])) {
        Fail(ErrorCode::kInvalidModel, onnx_path, ": cache shapes in the graph differ from its metadata");
      }
    }
  }
}

std::string NeMoCacheAwareConformer::cache_memory() const {
  if (device_) return "cuda:" + std::to_string(device_->device());
  return device_unavailable_.empty() ? "host" : "host (" + device_unavailable_ + ")";
}

int64_t NeMoCacheAwareConformer::cache_last_channel_row_size() const {
  const auto& s = spec_.cache_last_channel_shape;
  return s[0] * s[1] * s[2];
}

int64_t NeMoCacheAwareConformer::cache_last_time_row_size() const {
  const auto& s = spec_.cache_last_time_shape;
  return s[0] * s[1] * s[2];
}

EncoderOutput NeMoCacheAwareConformer::RunChunk(const EncoderBatch& b) const {
  if (!spec_.streaming) Fail(ErrorCode::kInvalidState, "RunChunk on an offline model");
  const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const int64_t B = b.batch;
  const auto& ch = spec_.cache_last_channel_shape;
  const auto& tm = spec_.cache_last_time_shape;
  const int64_t feature_shape[] = {B, spec_.feat_in, b.frames};
  const int64_t batch_shape[] = {B};
  const int64_t channel_shape[] = {B, ch[0], ch[1], ch[2]};
  const int64_t time_shape[] = {B, tm[0], tm[1], tm[2]};
  const int64_t feature_count = B * spec_.feat_in * b.frames;
  const int64_t channel_count = B * cache_last_channel_row_size();
  const int64_t time_count = B * cache_last_time_row_size();
  const Ort::MemoryInfo& caches_at = device_ ? device_->info() : memory;
  int64_t drop = b.drop_extra_pre_encoded;
  if (!spec_.geometry.drop_is_input && drop != spec_.geometry.drop_extra_pre_encoded) {
    Fail(ErrorCode::kInvalidState, "this encoder drops ", spec_.geometry.drop_extra_pre_encoded,
         " pre-encoded frames on every chunk; a chunk that drops ", drop, " needs the pad_and_drop_preencoded mode");
  }
  // ONNX Runtime's C++ API takes non-const pointers for inputs; it does not write to them.
  std::vector<Ort::Value> inputs;
  inputs.push_back(
      Ort::Value::CreateTensor<float>(memory, const_cast<float*>(b.features), feature_count, feature_shape, 3));
  inputs.push_back(Ort::Value::CreateTensor<int64_t>(memory, const_cast<int64_t*>(b.lengths), B, batch_shape, 1));
  inputs.push_back(Ort::Value::CreateTensor<float>(caches_at, const_cast<float*>(b.cache_last_channel), channel_count,
                                                   channel_shape, 4));
  inputs.push_back(
      Ort::Value::CreateTensor<float>(caches_at, const_cast<float*>(b.cache_last_time), time_count, time_shape, 4));
  inputs.push_back(
      Ort::Value::CreateTensor<int64_t>(memory, const_cast<int64_t*>(b.cache_last_channel_len), B, batch_shape, 1));
  if (spec_.geometry.drop_is_input) inputs.push_back(Ort::Value::CreateTensor<int64_t>(memory, &drop, 1, nullptr, 0));
  // ONNX Runtime allocates the outputs but the cache lengths: a caller's buffer for the next caches would
  // cost a copy of them (see cache_tensor.h). Through IO binding the next caches are allocated where the caches
  // live, device memory for an encoder on a GPU (no host round trip per step); the head's frames come to the
  // host. On the CPU binding costs nothing measurable (large model, [70,1], 1 thread: 0.998x a plain Run).
  Ort::Value length_out = Ort::Value::CreateTensor<int64_t>(memory, b.cache_last_channel_len_out, B, batch_shape, 1);
  std::vector<Ort::Value> outputs;
  try {
    Ort::IoBinding binding(session_->get());
    for (size_t i = 0; i < inputs.size(); ++i) binding.BindInput(input_names_[i], inputs[i]);
    binding.BindOutput(output_names_[0], memory);
    binding.BindOutput(output_names_[1], memory);
    binding.BindOutput(output_names_[2], caches_at);
    binding.BindOutput(output_names_[3], caches_at);
    binding.BindOutput(output_names_[4], length_out);
    session_->get().Run(Ort::RunOptions{nullptr}, binding);
    outputs = binding.GetOutputValues();
  } catch (const Ort::Exception& e) {
    Fail(ErrorCode::kOnnxRuntime, "encoder step failed: ", e.what());
  }
  EncoderOutput out = CollectOutputs(outputs, b.batch);
  const auto check = [&](const Ort::Value& cache, int64_t count, const char* name) {
    if (cache.GetTensorTypeAndShapeInfo().GetElementCount() != static_cast<size_t>(count)) {
      Fail(ErrorCode::kInvalidModel, name, " output has an unexpected size; expected ", count, " values");
    }
  };
  check(outputs[2], channel_count, output_names_[2]);
  check(outputs[3], time_count, output_names_[3]);
  for (int64_t i = 0; i < B; ++i) {
    const int64_t n = b.cache_last_channel_len_out[i];
    if (n < 0 || n > ch[1]) {
      Fail(ErrorCode::kInvalidModel, "cache_last_channel_next_len output ", n, " lies outside 0..", ch[1],
           " cache frames; the model or its streaming metadata is damaged");
    }
  }
  out.cache_last_channel_next = std::move(outputs[2]);
  out.cache_last_time_next = std::move(outputs[3]);
  return out;
}

EncoderOutput NeMoCacheAwareConformer::RunUtterances(int batch, int frames, const float* features,
                                                     const int64_t* lengths) const {
  if (spec_.streaming) Fail(ErrorCode::kInvalidState, "RunUtterances on a streaming model");
  const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const int64_t B = batch;
  const int64_t feature_shape[] = {B, spec_.feat_in, frames};
  const int64_t batch_shape[] = {B};
  std::vector<Ort::Value> inputs;
  inputs.push_back(Ort::Value::CreateTensor<float>(memory, const_cast<float*>(features), B * spec_.feat_in * frames,
                                                   feature_shape, 3));
  inputs.push_back(Ort::Value::CreateTensor<int64_t>(memory, const_cast<int64_t*>(lengths), B, batch_shape, 1));
  std::vector<Ort::Value> outputs;
  outputs.emplace_back(nullptr);
  outputs.emplace_back(nullptr);
  try {
    session_->get().Run(Ort::RunOptions{nullptr}, input_names_.data(), inputs.data(), inputs.size(),
                        output_names_.data(), outputs.data(), outputs.size());
  } catch (const Ort::Exception& e) {
    Fail(ErrorCode::kOnnxRuntime, "encoder failed: ", e.what());
  }
  return CollectOutputs(outputs, batch);
}

EncoderOutput NeMoCacheAwareConformer::CollectOutputs(std::vector<Ort::Value>& outputs, int batch) const {
  EncoderOutput out;
  const auto shape = outputs[0].GetTensorTypeAndShapeInfo().GetShape();
  if (shape.size() != 3 || shape[0] != batch || shape[2] != head_dim_) {
    Fail(ErrorCode::kInvalidModel, output_names_[0], " output has an unexpected shape; expected (", batch, ", T, ",
         head_dim_, ")");
  }
  out.frames = static_cast<int>(shape[1]);
  out.dim = head_dim_;
  const float* data = outputs[0].GetTensorData<float>();
  out.frames_data.assign(data, data + shape[0] * shape[1] * shape[2]);
  // Lengths the graph returns are checked before anything indexes with them.
  if (outputs[1].GetTensorTypeAndShapeInfo().GetElementCount() != static_cast<size_t>(batch)) {
    Fail(ErrorCode::kInvalidModel, "encoded_lengths output has an unexpected size; expected ", batch, " values");
  }
  const int64_t* len = outputs[1].GetTensorData<int64_t>();
  out.lengths.assign(len, len + batch);
  for (int64_t n : out.lengths) {
    if (n < 0 || n > out.frames) {
      Fail(ErrorCode::kInvalidModel, "encoded_lengths output ", n, " lies outside the ", out.frames,
           " frames the encoder returned; the model or its streaming metadata is damaged");
    }
  }
  return out;
}

}  // namespace nemo_fast
