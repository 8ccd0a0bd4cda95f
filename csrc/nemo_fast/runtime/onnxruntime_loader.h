// Loads the ONNX Runtime shared library at run time (dlopen + OrtGetApiBase) and initializes the C++ API
// (built with ORT_API_MANUAL_INIT). This binds to whatever ONNX Runtime the user has installed, usually
// the library inside the `onnxruntime` wheel, as long as it offers the API version of our headers.
#pragma once

#include <string>

namespace nemo_fast {

struct RuntimeInfo {
  std::string library_path;  // the file that was loaded
  std::string version;       // the library's own version string, e.g. "1.31.1"
  int api_version = 0;       // the C API version nemo_fast uses (that of its headers)
};

// Loads library_path once per process; later calls with another path are an error (two copies of ONNX
// Runtime in one process cause subtle breakage). Thread-safe. Throws kOnnxRuntime on failure.
const RuntimeInfo& LoadOnnxRuntime(const std::string& library_path);

// Whether LoadOnnxRuntime has succeeded.
bool OnnxRuntimeLoaded();

// The loaded runtime; throws kOnnxRuntime if none is loaded yet.
const RuntimeInfo& GetRuntimeInfo();

}  // namespace nemo_fast
