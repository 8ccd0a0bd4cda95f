// Greedy transducer decoding (RNN-T and TDT) with its state carried from chunk to chunk: the same tokens
// as NeMo's greedy decoding with partial hypotheses (GreedyRNNTInfer / GreedyTDTInfer):
// - the prediction network starts from NeMo's start-of-sequence step (zero embedding, zero state) and
//   keeps that until the first token;
// - RNN-T: at each frame, emit the argmax token until blank or max_symbols_per_step tokens (NeMo's "none"
//   is bounded at kMaxSymbolsPerFrame);
// - TDT: the argmax duration moves the frame index (0 stays on the frame, up to max_symbols_per_step
//   steps); the frame index restarts at each call, as NeMo's does for each chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nemo_fast/decoding/confidence.h"
#include "nemo_fast/decoding/stream_decoder.h"
#include "nemo_fast/model/transducer.h"

namespace nemo_fast {

class TransducerGreedyDecoder : public StreamDecoder {
 public:
  TransducerGreedyDecoder(const NeMoTransducerHead& head, int vocab_size, int blank_id);

  // Consumes num_frames rows of projected encoder output (row-major, joint_hidden each).
  void Accept(const float* encoder_frames, int num_frames) override;
  void Reset() override;

  // Accept in steps, for decoding many streams with one joint call per step (DecodeTransducerGreedyBatch):
  // BeginChunk, then while WantsJoint(), the joint of JointEncoderRow() and JointDecoderRow() given to
  // TakeJoint, then EndChunk. Accept is exactly this with a joint of one row.
  void BeginChunk(const float* encoder_frames, int num_frames);
  bool WantsJoint() const { return max_symbols_ > 0 && t_ < chunk_frames_; }
  const float* JointEncoderRow() const;
  const float* JointDecoderRow();  // runs the prediction network after a new token
  void TakeJoint(const float* log_probs, const float* duration_log_probs);
  void EndChunk();
  int vocab_size() const { return static_cast<int>(log_probs_.size()); }

  // Frames each token spans in NeMo's timestamps: TDT's predicted duration of its step; 1 for RNN-T.
  const int* token_durations() const override { return track_.durations.data(); }
  // Token confidences are NeMo's: the frame confidence of the joint's token distribution at the emitting step.
  int64_t num_frames() const override { return num_frames_; }
  void SetNextFrame(int64_t frame) override { num_frames_ = frame; }
  // The last output frame that emitted a token; -1 before any.
  int64_t last_speech_frame() const override { return track_.last_frame(); }

 private:
  friend void DecodeTransducerGreedyBatch(const NeMoTransducerHead&, const std::vector<TransducerGreedyDecoder*>&,
                                          const std::vector<const float*>&, const std::vector<int>&);
  void Emit(int token, int64_t frame, int duration, const float* log_probs);

  const NeMoTransducerHead& head_;
  int blank_id_;
  int max_symbols_;  // tokens per frame at most (TransducerSpec::symbols_per_frame_limit)
  int64_t last_label_;
  bool decoder_output_valid_ = false;
  int64_t num_frames_ = 0;
  // The chunk being decoded: its frames, the frame index and the symbols emitted at it so far.
  const float* chunk_ = nullptr;
  int chunk_frames_ = 0;
  int t_ = 0;
  int symbols_ = 0;
  TsallisConfidence confidence_;
  // Buffers reused for every step.
  std::vector<float> state_h_, state_c_, next_h_, next_c_;
  std::vector<float> decoder_output_, log_probs_, duration_log_probs_;
};

// Greedy decoding of one chunk for each of many streams (decoders[i] consumes counts[i] rows at frames[i]):
// each step runs the joint once for every stream that still has frames, and the prediction network once for
// every stream that emitted a token, each as one batched call. Each stream gets exactly the tokens its own
// Accept would give: ONNX Runtime computes every row of a batched joint or LSTM step as it does a single row.
void DecodeTransducerGreedyBatch(const NeMoTransducerHead& head, const std::vector<TransducerGreedyDecoder*>& decoders,
                                 const std::vector<const float*>& frames, const std::vector<int>& counts);

}  // namespace nemo_fast
