#include "nemo_fast/decoding/endpoint.h"

#include "nemo_fast/common/error.h"

namespace nemo_fast {

void EndpointConfig::Validate() const {
  const EndpointRule* rules[] = {&rule1, &rule2, &rule3};
  for (int i = 0; i < 3; ++i) {
    const EndpointRule& r = *rules[i];
    if (!(r.min_trailing_silence >= 0.0) || !(r.min_segment_length >= 0.0)) {
      Fail(ErrorCode::kInvalidConfig, "endpoint rule", i + 1, ": durations must be >= 0 seconds");
    }
    if (enabled && r.min_trailing_silence == 0.0 && r.min_segment_length == 0.0) {
      Fail(ErrorCode::kInvalidConfig, "endpoint rule", i + 1,
           " needs a minimum trailing silence or segment length: it would end every segment at once");
    }
  }
}

}  // namespace nemo_fast
