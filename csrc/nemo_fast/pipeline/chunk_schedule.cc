#include "nemo_fast/pipeline/chunk_schedule.h"

#include <algorithm>

namespace nemo_fast {

ChunkSchedule::ChunkSchedule(const ModelSpec& spec, StreamingMode mode)
    : geometry_(spec.geometry), first_index_(mode == StreamingMode::kPadAndDropPreencoded ? 1 : 0) {}

void ChunkSchedule::Reset() {
  next_start_ = 0;
  step_ = 0;
  done_ = false;
}

bool ChunkSchedule::Next(int64_t num_frames, bool input_finished, ChunkPlan* plan) const {
  if (done_) return false;
  const StreamingGeometry& g = geometry_;
  const bool first = step_ == 0;
  const int index = first ? first_index_ : 1;
  const int chunk = g.chunk_size_frames[index];
  const int shift = g.shift_size_frames[index];
  const int64_t start = next_start_;
  if (input_finished) {
    if (start >= num_frames) return false;
    const int64_t available = std::min<int64_t>(chunk, num_frames - start);
    if (available < g.sampling_frames[first ? 0 : 1]) return false;  // too short to subsample: NeMo stops
    plan->frames = static_cast<int>(available);
    plan->last = start + shift >= num_frames;
  } else {
    // A full chunk, and proof that it is not the last one: at least one frame beyond the shift.
    if (num_frames < start + chunk || num_frames <= start + shift) return false;
    plan->frames = chunk;
    plan->last = false;
  }
  plan->start = start;
  plan->shift = shift;
  plan->cache_frames = g.pre_encode_cache_size_frames[index];
  plan->drop = (first && first_index_ == 0) ? 0 : g.drop_extra_pre_encoded;
  return true;
}

void ChunkSchedule::Advance(const ChunkPlan& plan) {
  ++step_;
  next_start_ = plan.start + plan.shift;
  if (plan.last) done_ = true;
}

int64_t ChunkSchedule::first_frame_still_needed(int64_t num_frames) const {
  return std::min(num_frames, next_start_ - geometry_.pre_encode_cache_size_frames[1]);
}

}  // namespace nemo_fast
