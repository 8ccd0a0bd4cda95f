// The encoder caches' storage between cache-aware steps.
#pragma once

#include <cstddef>
#include <vector>

#include "nemo_fast/runtime/cuda_memory.h"
#include "nemo_fast/runtime/ort.h"

namespace nemo_fast {

// A cache row (or stacked rows) held between encoder steps: zeros or a copy owned here, or an encoder output
// kept as ONNX Runtime returned it. Handing ONNX Runtime buffers to write the next caches into made it copy
// them out of its own (measured: 1.8 ms of a 53 ms step of the large model at [70,13]). With a `device`
// (an encoder on a GPU) the floats live in its memory and data() is a device pointer.
class CacheTensor {
 public:
  void Zeros(size_t count, const CudaMemory* device = nullptr);
  // A writable buffer of `count` floats owned here (its contents are left as they are).
  float* Owned(size_t count, const CudaMemory* device = nullptr);
  void Adopt(Ort::Value value);
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::vector<float> owned_;
  Ort::Value value_{nullptr};
  const CudaMemory* owned_device_ = nullptr;  // value_ is a device buffer allocated here
  const float* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace nemo_fast
