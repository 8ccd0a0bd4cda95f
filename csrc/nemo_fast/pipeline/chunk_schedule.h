// NeMo's cut of a streaming model's feature frames into encoder chunks, as CacheAwareStreamingAudioBuffer does
// it (offline models: pipeline/offline_windows.h). Pure arithmetic on frame counts: no audio, no ONNX Runtime.
//
// Streaming, per chunk (index 0: the first chunk, 1: later ones; see StreamingGeometry):
//   - the first chunk has its own size and shift, no pre-encode cache and drops nothing (mode kDefault), or
//     the later chunks' size and a zero cache and drops like them (kPadAndDropPreencoded);
//   - later chunks prepend pre_encode_cache_size frames of the audio before them (zeros before the start)
//     and the encoder drops drop_extra_pre_encoded output frames made from that cache;
//   - a chunk runs when it is full and at least one frame lies beyond its shift (so it is not the last);
//     after the input ends, the remaining frames run in chunks of at most the chunk size, the last with
//     keep_all_outputs; a final piece shorter than sampling_frames cannot be subsampled and is not run.
#pragma once

#include <cstdint>

#include "nemo_fast/model/model_spec.h"

namespace nemo_fast {

// NeMo's two ways of cutting the first chunk (CacheAwareStreamingAudioBuffer): by default the first chunk
// has its own size, no pre-encode cache and no dropped frames; with pad_and_drop_preencoded it has the size
// of later chunks, zero pre-encode cache and drops like every later chunk.
// kAuto: the model's own (kDefault, or kPadAndDropPreencoded for graphs that serve only that), resolved
// when the Recognizer opens the model.
enum class StreamingMode { kDefault, kPadAndDropPreencoded, kAuto };

// One encoder call's slice of the stream, in feature frames counted from the stream's start.
struct ChunkPlan {
  int64_t start = 0;     // first frame of the chunk proper
  int frames = 0;        // frames of the chunk proper
  int cache_frames = 0;  // pre-encode cache frames before it (zeros where they precede the audio)
  int shift = 0;         // the next chunk starts `shift` frames after this one
  int64_t drop = 0;      // encoder output frames to drop (drop_extra_pre_encoded)
  bool last = false;     // NeMo's keep_all_outputs
  int input_frames() const { return cache_frames + frames; }
};

class ChunkSchedule {
 public:
  // The schedule of a streaming model (spec.streaming).
  ChunkSchedule(const ModelSpec& spec, StreamingMode mode);

  // The next chunk, given the feature frames produced so far and whether the input has ended; false while
  // none is ready (or after the last).
  bool Next(int64_t num_frames, bool input_finished, ChunkPlan* plan) const;
  // The chunk Next gave was decoded.
  void Advance(const ChunkPlan& plan);
  // No chunk will run (e.g. the stream ended without audio).
  void Stop() { done_ = true; }
  // Frames before this one are never read again (later chunks and their pre-encode caches lie after it).
  int64_t first_frame_still_needed(int64_t num_frames) const;
  int steps() const { return step_; }
  void Reset();

 private:
  const StreamingGeometry geometry_;
  const int first_index_;  // geometry index of the first chunk: 0 (kDefault) or 1 (kPadAndDropPreencoded)
  int64_t next_start_ = 0;
  int step_ = 0;
  bool done_ = false;
};

}  // namespace nemo_fast
