// Greedy CTC decoding that carries its state from chunk to chunk: the same tokens as NeMo's greedy
// decoding of the whole sequence (collapse repeats, then drop blanks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nemo_fast/decoding/confidence.h"
#include "nemo_fast/decoding/stream_decoder.h"

namespace nemo_fast {

class CtcGreedyDecoder : public StreamDecoder {
 public:
  CtcGreedyDecoder(int blank_id, int vocab_size)
      : blank_id_(blank_id), vocab_size_(vocab_size), previous_(blank_id), confidence_(vocab_size) {}

  // Consumes num_frames rows of log-probs (row-major, vocab_size each).
  void Accept(const float* log_probs, int num_frames) override;
  void Reset() override;

  // Token confidences are NeMo's: the least frame confidence over the frames where the token's argmax held.
  int64_t num_frames() const override { return num_frames_; }
  void SetNextFrame(int64_t frame) override { num_frames_ = frame; }
  // The last output frame whose argmax was not blank (a token or its repetition); -1 before any.
  int64_t last_speech_frame() const override { return last_speech_frame_; }

 private:
  int blank_id_;
  int vocab_size_;
  int previous_;
  int64_t num_frames_ = 0;
  int64_t last_speech_frame_ = -1;
  TsallisConfidence confidence_;
};

}  // namespace nemo_fast
