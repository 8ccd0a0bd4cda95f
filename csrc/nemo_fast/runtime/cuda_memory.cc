#include "nemo_fast/runtime/cuda_memory.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "nemo_fast/common/error.h"

namespace nemo_fast {

// The CUDA runtime functions used here, resolved from the libcudart that ONNX Runtime's CUDA provider loaded.
struct CudaRuntime {
  int (*set_device)(int) = nullptr;
  int (*memcpy)(void*, const void*, size_t, int) = nullptr;
  int (*memset)(void*, int, size_t) = nullptr;
  int (*stream_synchronize)(void*) = nullptr;
  const char* (*error_string)(int) = nullptr;
  std::string library;
};

namespace {

constexpr int kCudaMemcpyDefault = 4;  // cudaMemcpyDefault: the direction follows from the pointers

template <typename Fn>
void Resolve(void* handle, const char* name, Fn* fn, const std::string& library) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*fn == nullptr) Fail(ErrorCode::kOnnxRuntime, library, " has no ", name);
}

const CudaRuntime& LoadRuntime() {
  static std::once_flag once;
  static CudaRuntime runtime;
  std::call_once(once, [] {
    // The provider's own copy first (already loaded: RTLD_NOLOAD), then any on the library path.
    void* handle = nullptr;
    for (int flags : {RTLD_NOW | RTLD_NOLOAD, RTLD_NOW}) {
      for (const char* name : {"libcudart.so.13", "libcudart.so.12", "libcudart.so"}) {
        handle = dlopen(name, flags);
        if (handle != nullptr) {
          runtime.library = name;
          break;
        }
      }
      if (handle != nullptr) break;
    }
    if (handle == nullptr) {
      Fail(ErrorCode::kOnnxRuntime, "the CUDA runtime library (libcudart) is not loaded; ONNX Runtime's CUDA ",
           "provider needs it (install onnxruntime-gpu with its CUDA dependencies)");
    }
    Resolve(handle, "cudaSetDevice", &runtime.set_device, runtime.library);
    Resolve(handle, "cudaMemcpy", &runtime.memcpy, runtime.library);
    Resolve(handle, "cudaMemset", &runtime.memset, runtime.library);
    Resolve(handle, "cudaStreamSynchronize", &runtime.stream_synchronize, runtime.library);
    Resolve(handle, "cudaGetErrorString", &runtime.error_string, runtime.library);
  });
  return runtime;
}

}  // namespace

std::unique_ptr<CudaMemory> CudaMemory::ForSession(OnnxSession& session, const SessionConfig& config) {
  const auto& providers = session.providers();
  if (providers.empty()) return nullptr;
  const bool cuda = providers[0] == "CUDAExecutionProvider";
  if (!cuda && providers[0] != "TensorrtExecutionProvider") return nullptr;
  int device = 0;
  const auto options = config.provider_options.find(cuda ? "cuda" : "tensorrt");
  if (options != config.provider_options.end()) {
    const auto id = options->second.find("device_id");
    if (id != options->second.end()) device = std::stoi(id->second);
  }
  Ort::MemoryInfo info("Cuda", OrtDeviceAllocator, device, OrtMemTypeDefault);
  Ort::Allocator allocator(session.get(), info);
  return std::unique_ptr<CudaMemory>(new CudaMemory(LoadRuntime(), device, std::move(allocator)));
}

CudaMemory::CudaMemory(const CudaRuntime& runtime, int device, Ort::Allocator allocator)
    : runtime_(runtime), device_(device), allocator_(std::move(allocator)) {
  info_ = Ort::MemoryInfo("Cuda", OrtDeviceAllocator, device_, OrtMemTypeDefault);
}

void CudaMemory::Check(int status, const char* what) const {
  if (status != 0) {
    Fail(ErrorCode::kOnnxRuntime, what, " on CUDA device ", device_, " failed: ", runtime_.error_string(status));
  }
}

Ort::Value CudaMemory::Allocate(int64_t count) const {
  const int64_t shape[] = {count};
  return Ort::Value::CreateTensor<float>(const_cast<Ort::Allocator&>(allocator_), shape, 1);
}

void CudaMemory::Copy(void* dst, const void* src, size_t bytes) const {
  Check(runtime_.set_device(device_), "cudaSetDevice");
  Check(runtime_.memcpy(dst, src, bytes, kCudaMemcpyDefault), "cudaMemcpy");
}

void CudaMemory::Zero(void* dst, size_t bytes) const {
  Check(runtime_.set_device(device_), "cudaSetDevice");
  Check(runtime_.memset(dst, 0, bytes), "cudaMemset");
  Synchronize();  // a new stream's caches: ONNX Runtime reads them on its own stream next
}

void CudaMemory::Synchronize() const { Check(runtime_.stream_synchronize(nullptr), "cudaStreamSynchronize"); }

}  // namespace nemo_fast
