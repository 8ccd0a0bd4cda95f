#include "nemo_fast/runtime/onnxruntime_loader.h"

#include <dlfcn.h>

#include <mutex>

#include "nemo_fast/common/error.h"
#include "nemo_fast/runtime/ort.h"

namespace nemo_fast {
namespace {
std::mutex g_mutex;
bool g_loaded = false;
RuntimeInfo g_info;
}  // namespace

const RuntimeInfo& LoadOnnxRuntime(const std::string& library_path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_loaded) {
    if (library_path != g_info.library_path) {
      Fail(ErrorCode::kOnnxRuntime, "ONNX Runtime is already loaded from ", g_info.library_path,
           "; refusing to load a second copy from ", library_path);
    }
    return g_info;
  }
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    Fail(ErrorCode::kOnnxRuntime, "cannot load ONNX Runtime library ", library_path, ": ", why ? why : "unknown error");
  }
  using GetApiBaseFn = const OrtApiBase* (*)();
  auto get_api_base = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
  if (get_api_base == nullptr) {
    Fail(ErrorCode::kOnnxRuntime, library_path, " is not an ONNX Runtime library (no OrtGetApiBase symbol)");
  }
  const OrtApiBase* base = get_api_base();
  const char* version = base->GetVersionString();
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    Fail(ErrorCode::kOnnxRuntime, "ONNX Runtime ", version, " at ", library_path, " does not offer C API version ",
         ORT_API_VERSION, " (nemo_fast needs onnxruntime >= 1.", ORT_API_VERSION, ")");
  }
  Ort::InitApi(api);
  // The library stays loaded for the life of the process: sessions and environments refer to it.
  g_info.library_path = library_path;
  g_info.version = version ? version : "";
  g_info.api_version = ORT_API_VERSION;
  g_loaded = true;
  return g_info;
}

bool OnnxRuntimeLoaded() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_loaded;
}

const RuntimeInfo& GetRuntimeInfo() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_loaded) Fail(ErrorCode::kOnnxRuntime, "ONNX Runtime is not loaded yet");
  return g_info;
}

}  // namespace nemo_fast
