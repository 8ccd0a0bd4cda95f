// What a stream asks of its decoder, greedy or beam: it is fed the head's output chunk by chunk and holds the
// best transcript so far as tokens with their output frames and confidences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nemo_fast/decoding/token_track.h"

namespace nemo_fast {

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;

  // Consumes num_frames rows of the head's output: CTC log-probs, or a transducer's projected encoder frames.
  virtual void Accept(const float* rows, int num_frames) = 0;
  // The input ended: a beam search picks its final hypothesis (end-of-sentence LM score, unfinished hotwords
  // taken back).
  virtual void Finish() {}
  // An endpoint: the tokens so far stay as they are (a beam search keeps only its best hypothesis).
  virtual void Commit() {}
  virtual void Reset() = 0;
  // The next rows are output frames from `frame` on (a window of a long input of an offline model starts
  // there); the decoding state carries on.
  virtual void SetNextFrame(int64_t frame) = 0;
  // Forgets the first `count` tokens (taken away as finished segments, after Commit); decoding goes on unchanged.
  virtual void DropTokens(size_t count) { track_.Drop(count); }

  // The best hypothesis. A beam search may revise its earlier tokens until Commit or Finish.
  const std::vector<int>& tokens() const { return track_.ids; }
  const std::vector<int64_t>& token_frames() const { return track_.frames; }  // the output frame of each token
  // Frames each token spans in NeMo's timestamps (TDT); null when the head has no durations.
  virtual const int* token_durations() const { return nullptr; }
  const std::vector<float>& token_confidences() const { return track_.confidences; }
  virtual int64_t num_frames() const = 0;
  // The last output frame with speech (a token, or a CTC frame whose best class is not blank); -1 before any.
  virtual int64_t last_speech_frame() const = 0;

 protected:
  TokenTrack track_;
};

}  // namespace nemo_fast
