// CudaMemory: the GPU memory of a session on the CUDA or TensorRT provider, where the tensors kept between
// runs (the encoder caches) stay, and the copies that stack and unstack them. The copies go through the CUDA
// runtime library that ONNX Runtime's CUDA provider has already loaded, so nemo_fast links no CUDA and runs
// unchanged where there is none. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "nemo_fast/runtime/session.h"

namespace nemo_fast {

struct CudaRuntime;  // the CUDA runtime functions used (cuda_memory.cc)

class CudaMemory {
 public:
  // The device of a session whose first provider is "cuda" or "tensorrt"; nullptr for a CPU session.
  static std::unique_ptr<CudaMemory> ForSession(OnnxSession& session, const SessionConfig& config);

  const Ort::MemoryInfo& info() const { return info_; }
  int device() const { return device_; }
  // `count` floats on the device, uninitialized; freed with the value.
  Ort::Value Allocate(int64_t count) const;
  // Any direction (CUDA's unified addressing tells host from device pointers). The copies of one batch are
  // queued; Synchronize waits for them before ONNX Runtime, on its own stream, reads the result.
  void Copy(void* dst, const void* src, size_t bytes) const;
  void Zero(void* dst, size_t bytes) const;  // waits until done
  void Synchronize() const;

 private:
  CudaMemory(const CudaRuntime& runtime, int device, Ort::Allocator allocator);
  void Check(int status, const char* what) const;

  const CudaRuntime& runtime_;
  int device_;
  Ort::MemoryInfo info_{nullptr};
  Ort::Allocator allocator_{nullptr};
};

}  // namespace nemo_fast
