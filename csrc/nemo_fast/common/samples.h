// A read-only view of audio samples owned by the caller (a numpy buffer, a C++ vector), so that
// audio crosses the Python boundary without a copy. Conversion to float happens in the consumer's loop.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nemo_fast/common/error.h"

namespace nemo_fast {

enum class SampleType { kFloat32, kFloat64, kInt16 };

// Sample rates audio may come at: telephone audio and below down to 1 kHz, studio rates up to 768 kHz. A
// lower "rate" is a mistake that would turn a few samples into hours of resampled audio.
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;

struct SampleView {
  const void* data = nullptr;
  std::ptrdiff_t stride_bytes = sizeof(float);
  std::size_t size = 0;
  SampleType type = SampleType::kFloat32;

  static SampleView Float32(const float* p, std::size_t n) { return {p, sizeof(float), n, SampleType::kFloat32}; }

  // Sample i as float; int16 is scaled by 1/32768 as NeMo's audio loading does.
  float At(std::size_t i) const {
    const char* p = static_cast<const char*>(data) + static_cast<std::ptrdiff_t>(i) * stride_bytes;
    switch (type) {
      case SampleType::kFloat32: return *reinterpret_cast<const float*>(p);
      case SampleType::kFloat64: return static_cast<float>(*reinterpret_cast<const double*>(p));
      case SampleType::kInt16: return static_cast<float>(*reinterpret_cast<const std::int16_t*>(p)) * (1.0f / 32768.0f);
    }
    return 0.0f;
  }
};

// Throws kNonFiniteAudio naming the first NaN/Inf sample. Called before any state changes so that a
// rejected chunk leaves a stream as it was.
void CheckFinite(const SampleView& samples);

}  // namespace nemo_fast
