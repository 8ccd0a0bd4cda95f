// The encoder caches of one stream between cache-aware steps, and the batched step over many streams:
// their caches stacked into one batch (as sherpa-onnx's StackStates), one encoder call, the next caches
// unstacked back into each stream.
#pragma once

#include <cstdint>
#include <vector>

#include "nemo_fast/model/cache_aware_conformer.h"

namespace nemo_fast {

struct StreamCaches {
  // Double-buffered: a step reads channel/time/length and writes *_next; Advance makes those the inputs.
  CacheTensor channel, channel_next;
  CacheTensor time, time_next;
  int64_t length = 0, length_next = 0;  // valid frames in the attention cache
  uint64_t version = 0;                 // new, process-wide unique value whenever the caches change

  // NeMo's get_initial_cache_state: zeros, and zero valid cache frames.
  void Reset(const NeMoCacheAwareConformer& encoder);
  // The last step's outputs become the next step's inputs.
  void Advance();
};

// One chunk of every stream in `caches` (features (B, F, frames), batch-first, equal shapes and drop) as one
// encoder call; each stream's caches move on to the call's outputs. A calling thread keeps the stacked
// caches of its last batch: when the same streams come back in the same order with the caches that call
// gave them (lock-step serving), those outputs are the next inputs and nothing is gathered.
EncoderOutput RunStreamingBatch(const NeMoCacheAwareConformer& encoder, const std::vector<StreamCaches*>& caches,
                                int frames, const float* features, int64_t drop);

}  // namespace nemo_fast
