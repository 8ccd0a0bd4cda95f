#include "nemo_fast/model/stream_caches.h"

#include <atomic>
#include <cstring>
#include <utility>

namespace nemo_fast {
namespace {

// memcpy on the host; a queued device copy when the encoder keeps its caches on a GPU.
void CopyFloats(const CudaMemory* device, float* dst, const float* src, int64_t count) {
  if (device) {
    device->Copy(dst, src, count * sizeof(float));
  } else {
    std::memcpy(dst, src, count * sizeof(float));
  }
}

uint64_t NewCacheVersion() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void StreamCaches::Reset(const NeMoCacheAwareConformer& encoder) {
  if (encoder.spec().streaming) {
    channel.Zeros(encoder.cache_last_channel_row_size(), encoder.device());
    time.Zeros(encoder.cache_last_time_row_size(), encoder.device());
  }
  length = length_next = 0;
  version = NewCacheVersion();
}

void StreamCaches::Advance() {
  std::swap(channel, channel_next);
  std::swap(time, time_next);
  std::swap(length, length_next);
  version = NewCacheVersion();
}

std::unique_ptr<StackedCaches> StackedCachePool::Take() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.empty()) return std::make_unique<StackedCaches>();
  auto stacked = std::move(idle_.back());
  idle_.pop_back();
  return stacked;
}

void StackedCachePool::Give(std::unique_ptr<StackedCaches> stacked) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(stacked));
}

EncoderOutput RunStreamingBatch(const NeMoCacheAwareConformer& encoder, StackedCachePool& pool,
                                const std::vector<StreamCaches*>& caches, int frames, const float* features,
                                int64_t drop) {
  const int batch = static_cast<int>(caches.size());
  const std::vector<int64_t> lengths(batch, frames);
  if (batch == 1) {
    StreamCaches& c = *caches[0];
    EncoderBatch eb{1,         frames,        features, lengths.data(), drop, c.channel.data(), c.time.data(),
                    &c.length, &c.length_next};
    EncoderOutput out = encoder.RunChunk(eb);
    c.channel_next.Adopt(std::move(out.cache_last_channel_next));
    c.time_next.Adopt(std::move(out.cache_last_time_next));
    c.Advance();
    return out;
  }
  // Given back however the call ends (its versions are cleared first: after a failure nothing is reused).
  struct Lease {
    StackedCachePool& pool;
    std::unique_ptr<StackedCaches> caches;
    ~Lease() { pool.Give(std::move(caches)); }
  } lease{pool, pool.Take()};
  StackedCaches& stacked = *lease.caches;
  const CudaMemory* device = encoder.device();
  const int64_t ch = encoder.cache_last_channel_row_size(), tm = encoder.cache_last_time_row_size();
  bool reuse = stacked.versions.size() == caches.size();
  for (int b = 0; reuse && b < batch; ++b) reuse = caches[b]->version == stacked.versions[b];
  stacked.versions.clear();  // cleared first: if the call throws, nothing is reused
  if (!reuse) {
    float* channel = stacked.channel.Owned(batch * ch, device);
    float* time = stacked.time.Owned(batch * tm, device);
    for (int b = 0; b < batch; ++b) {
      CopyFloats(device, channel + b * ch, caches[b]->channel.data(), ch);
      CopyFloats(device, time + b * tm, caches[b]->time.data(), tm);
    }
    if (device) device->Synchronize();
  }
  stacked.length.resize(batch);
  stacked.length_next.resize(batch);
  for (int b = 0; b < batch; ++b) stacked.length[b] = caches[b]->length;
  EncoderBatch eb{batch,
                  frames,
                  features,
                  lengths.data(),
                  drop,
                  stacked.channel.data(),
                  stacked.time.data(),
                  stacked.length.data(),
                  stacked.length_next.data()};
  EncoderOutput out = encoder.RunChunk(eb);
  stacked.channel.Adopt(std::move(out.cache_last_channel_next));
  stacked.time.Adopt(std::move(out.cache_last_time_next));
  for (int b = 0; b < batch; ++b) {
    StreamCaches& c = *caches[b];
    CopyFloats(device, c.channel_next.Owned(ch, device), stacked.channel.data() + b * ch, ch);
    CopyFloats(device, c.time_next.Owned(tm, device), stacked.time.data() + b * tm, tm);
    c.length_next = stacked.length_next[b];
    c.Advance();
    stacked.versions.push_back(c.version);
  }
  if (device) device->Synchronize();
  return out;
}

}  // namespace nemo_fast
