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
#include "nemo_fast/runtime/session.h"

namespace nemo_fast {

// One batched encoder call. Buffers are owned by the caller and used in place: features (B, F, T) and the
// caches (B, ...) in batch-first layout; the next caches are written to the *_out buffers.
struct EncoderBatch {
  int batch = 0;
  int frames = 0;                  // T of the features (every row padded to it)
  const float* features = nullptr;
  const int64_t* lengths = nullptr;
  int64_t drop_extra_pre_encoded = 0;
  const float* cache_last_channel = nullptr;
  const float* cache_last_time = nullptr;
  const int64_t* cache_last_channel_len = nullptr;
  float* cache_last_channel_out = nullptr;
  float* cache_last_time_out = nullptr;
  int64_t* cache_last_channel_len_out = nullptr;
};

struct EncoderOutput {
  // (B, frames, dim) row-major: CTC log-probs (dim = vocab) or the transducer joint's encoder projection
  // (dim = joint_hidden), whichever head the encoder was opened for.
  std::vector<float> frames_data;
  int dim = 0;
  std::vector<int64_t> lengths;  // valid output frames per row
  int frames = 0;
};

class NeMoCacheAwareConformer {
 public:
  // decoder: the head whose per-frame outputs Run returns ("ctc", "rnnt", "tdt"); empty: the model's default.
  NeMoCacheAwareConformer(const std::string& onnx_path, const SessionConfig& config, const std::string& decoder);

  const ModelSpec& spec() const { return spec_; }
  const std::string& decoder() const { return decoder_; }
  const OnnxSession& session() const { return *session_; }
  int64_t cache_last_channel_row_size() const;  // floats per batch row
  int64_t cache_last_time_row_size() const;

  // Streaming models: one chunk for every row of the batch.
  EncoderOutput RunChunk(const EncoderBatch& batch) const;
  // Offline models: whole utterances (features padded to `frames`).
  EncoderOutput RunUtterances(int batch, int frames, const float* features, const int64_t* lengths) const;

 private:
  EncoderOutput CollectOutputs(std::vector<Ort::Value>& outputs, int batch) const;

  std::unique_ptr<OnnxSession> session_;
  ModelSpec spec_;
  std::string decoder_;
  int head_dim_ = 0;
  std::vector<std::string> requested_outputs_;
  std::vector<const char*> input_names_;
  std::vector<const char*> output_names_;
};

}  // namespace nemo_fast
