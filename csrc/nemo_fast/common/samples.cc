#include "nemo_fast/common/samples.h"

#include <cmath>

namespace nemo_fast {

void CheckFinite(const SampleView& samples) {
  if (samples.type == SampleType::kInt16) return;
  for (std::size_t i = 0; i < samples.size; ++i) {
    float v = samples.At(i);
    if (!std::isfinite(v)) {
      Fail(ErrorCode::kNonFiniteAudio, "audio contains a non-finite sample (", v, ") at index ", i);
    }
  }
}

}  // namespace nemo_fast
