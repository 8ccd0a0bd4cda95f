#include "nemo_fast/model/cache_tensor.h"

#include <utility>

namespace nemo_fast {

void CacheTensor::Zeros(size_t count, const CudaMemory* device) {
  if (device) {
    device->Zero(Owned(count, device), count * sizeof(float));
    return;
  }
  value_ = Ort::Value{nullptr};
  owned_device_ = nullptr;
  owned_.assign(count, 0.0f);
  data_ = owned_.data();
  size_ = count;
}

float* CacheTensor::Owned(size_t count, const CudaMemory* device) {
  if (device) {
    // A device buffer of this size allocated here earlier is reused: the stacked caches of a batch.
    if (owned_device_ != device || size_ != count) {
      owned_.clear();
      value_ = device->Allocate(static_cast<int64_t>(count));
      owned_device_ = device;
    }
    float* data = value_.GetTensorMutableData<float>();
    data_ = data;
    size_ = count;
    return data;
  }
  value_ = Ort::Value{nullptr};
  owned_device_ = nullptr;
  owned_.resize(count);
  data_ = owned_.data();
  size_ = count;
  return owned_.data();
}

void CacheTensor::Adopt(Ort::Value value) {
  owned_device_ = nullptr;
  value_ = std::move(value);
  data_ = value_.GetTensorData<float>();
  size_ = value_.GetTensorTypeAndShapeInfo().GetElementCount();
}

}  // namespace nemo_fast
