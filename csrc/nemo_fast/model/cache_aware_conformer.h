// NeMoCacheAwareConformer: one ONNX Runtime session of an exported NeMo FastConformer encoder with its
// heads' per-frame outputs, run chunk by chunk with the attention and convolution caches carried as NeMo's
// conformer_stream_step does (or once per utterance for offline models). Immutable; Run may be called
// from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nemo_fast/model/model_spec.h"
#include "nemo_fast/runtime/cuda_memory.h"
#include "nemo_fast/runtime/session.h"

namespace nemo_fast {

// One batched encoder call. Input buffers are owned by the caller and read in place: features (B, F, T) and
// the caches (B, ...) in batch-first layout, the caches in the encoder's device() memory when it has one. The next
// channel and time caches come back in EncoderOutput as ONNX Runtime allocated them; the next cache lengths are written
// to cache_last_channel_len_out.
struct EncoderBatch {
  int batch = 0;
  int frames = 0;  // T of the features (every row padded to it)
  const float* features = nullptr;
  const int64_t* lengths = nullptr;
  int64_t drop_extra_pre_encoded = 0;
  const float* cache_last_channel = nullptr;
  const float* cache_last_time = nullptr;
  const int64_t* cache_last_channel_len = nullptr;
  int64_t* cache_last_channel_len_out = nullptr;
};

struct EncoderOutput {
  // (B, frames, dim) row-major: CTC log-probs (dim = vocab) or the transducer joint's encoder projection
  // (dim = joint_hidden), whichever head the encoder was opened for.
  std::vector<float> frames_data;
  int dim = 0;
  std::vector<int64_t> lengths;  // valid output frames per row
  int frames = 0;
  // Streaming models: the next caches, (B, ...) batch-first.
  Ort::Value cache_last_channel_next{nullptr};
  Ort::Value cache_last_time_next{nullptr};
};

class NeMoCacheAwareConformer {
 public:
  // decoder: the head whose per-frame outputs Run returns ("ctc", "rnnt", "tdt"); empty or "default": the
  // model's default.
  NeMoCacheAwareConformer(const std::string& onnx_path, const SessionConfig& config, const std::string& decoder);

  const ModelSpec& spec() const { return spec_; }
  const std::vector<std::string>& providers() const { return session_->providers(); }
  const std::string& decoder() const { return decoder_; }
  const OnnxSession& session() const { return *session_; }
  std::string EndProfiling() const { return session_->EndProfiling(); }  // see OnnxSession::EndProfiling
  // The GPU memory the caches stay in between chunks (IO binding: no host round trip per step), or nullptr
  // when the encoder runs on the CPU.
  const CudaMemory* device() const { return device_.get(); }
  // Where the caches live: "cuda:N", "host", or "host (...)" with the reason a GPU session could not keep
  // them on its device (it then runs with a host round trip per step rather than not at all).
  std::string cache_memory() const;
  int64_t cache_last_channel_row_size() const;  // floats per batch row
  int64_t cache_last_time_row_size() const;

  // Streaming models: one chunk for every row of the batch.
  EncoderOutput RunChunk(const EncoderBatch& batch) const;
  // Offline models: whole utterances (features padded to `frames`).
  EncoderOutput RunUtterances(int batch, int frames, const float* features, const int64_t* lengths) const;

 private:
  EncoderOutput CollectOutputs(std::vector<Ort::Value>& outputs, int batch) const;

  std::unique_ptr<OnnxSession> session_;
  std::unique_ptr<CudaMemory> device_;
  std::string device_unavailable_;  // why a GPU session keeps its caches on the host
  ModelSpec spec_;
  std::string decoder_;
  int head_dim_ = 0;
  std::vector<std::string> requested_outputs_;
  std::vector<const char*> input_names_;
  std::vector<const char*> output_names_;
};

}  // namespace nemo_fast
