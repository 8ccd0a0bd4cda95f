// NeMoTransducerHead: the prediction network (one step) and the joint of an exported NeMo RNN-T or TDT
// head, each an ONNX Runtime session. Immutable; the Run methods may be called from several threads.
// Every buffer belongs to the caller, so a decoding loop allocates nothing per step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nemo_fast/model/model_spec.h"
#include "nemo_fast/runtime/session.h"

namespace nemo_fast {

class NeMoTransducerHead {
 public:
  // model_dir holds the graphs named in spec.transducer. encoder_on_cpu: whether the encoder's session runs
  // on the CPU provider, which decides the heads' threads (see the constructor).
  NeMoTransducerHead(const std::string& model_dir, const ModelSpec& spec, const SessionConfig& config,
                     bool encoder_on_cpu);

  int state_size() const;  // floats in one of the LSTM states (h or c) of one batch row: layers * hidden
  int joint_hidden() const { return spec_.joint_hidden; }
  int num_durations() const { return static_cast<int>(spec_.durations.size()); }
  const TransducerSpec& spec() const { return spec_; }

  // One prediction-network step for `batch` rows: targets (B) (the blank id: NeMo's start-of-sequence
  // step), states (L, B, H). Writes decoder_output (B, joint_hidden) and the next states.
  void Predict(int batch, const int64_t* targets, const float* states_h, const float* states_c, float* decoder_output,
               float* states_h_next, float* states_c_next) const;
  // The joint for `batch` rows of projected encoder and decoder outputs (B, joint_hidden): token
  // log-probs (B, vocab) and, for TDT, duration log-probs (B, durations).
  void Joint(int batch, const float* encoder_output, const float* decoder_output, float* log_probs,
             float* duration_log_probs) const;

 private:
  TransducerSpec spec_;
  int vocab_size_;
  std::unique_ptr<OnnxSession> decoder_;
  std::unique_ptr<OnnxSession> joiner_;
};

}  // namespace nemo_fast
