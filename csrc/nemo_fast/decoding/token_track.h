// The best hypothesis' tokens as parallel arrays (id, output frame, duration, confidence): what every decoder
// keeps for its stream, and how finished segments are taken off its front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nemo_fast {

struct TokenTrack {
  std::vector<int> ids;
  std::vector<int64_t> frames;  // the output frame of each token
  std::vector<int> durations;   // frames each token spans (transducers; empty for CTC)
  std::vector<float> confidences;
  int64_t last_dropped_frame = -1;  // the frame of the last token Drop took away; -1 before any

  void Push(int id, int64_t frame, float confidence) {
    ids.push_back(id);
    frames.push_back(frame);
    confidences.push_back(confidence);
  }
  void Push(int id, int64_t frame, int duration, float confidence) {
    Push(id, frame, confidence);
    durations.push_back(duration);
  }
  // Forgets the first `count` tokens.
  void Drop(size_t count) {
    if (count == 0) return;
    last_dropped_frame = frames[count - 1];
    ids.erase(ids.begin(), ids.begin() + count);
    frames.erase(frames.begin(), frames.begin() + count);
    confidences.erase(confidences.begin(), confidences.begin() + count);
    if (!durations.empty()) durations.erase(durations.begin(), durations.begin() + count);
  }
  // Empties the arrays (a beam search rewrites its best hypothesis); what was dropped stays dropped.
  void Clear() {
    ids.clear();
    frames.clear();
    durations.clear();
    confidences.clear();
  }
  void Reset() {
    Clear();
    last_dropped_frame = -1;
  }
  // The frame of the last token, dropped ones included; -1 before any.
  int64_t last_frame() const { return frames.empty() ? last_dropped_frame : frames.back(); }
};

}  // namespace nemo_fast
