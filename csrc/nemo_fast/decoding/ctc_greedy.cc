#include "nemo_fast/decoding/ctc_greedy.h"

#include <algorithm>

namespace nemo_fast {

void CtcGreedyDecoder::Accept(const float* log_probs, int num_frames) {
  const int vocab_size = vocab_size_;
  for (int t = 0; t < num_frames; ++t) {
    const float* row = log_probs + static_cast<int64_t>(t) * vocab_size;
    // First maximum wins on ties, as torch.argmax.
    int best = 0;
    for (int v = 1; v < vocab_size; ++v) {
      if (row[v] > row[best]) best = v;
    }
    if (best != blank_id_) {
      last_speech_frame_ = num_frames_ + t;
      const float confidence = confidence_(row, vocab_size);
      if (best != previous_) {
        track_.Push(best, num_frames_ + t, confidence);
      } else if (!track_.confidences.empty()) {
        track_.confidences.back() = std::min(track_.confidences.back(), confidence);
      }
    }
    previous_ = best;
  }
  num_frames_ += num_frames;
}

void CtcGreedyDecoder::Reset() {
  previous_ = blank_id_;
  num_frames_ = 0;
  last_speech_frame_ = -1;
  track_.Reset();
}

}  // namespace nemo_fast
