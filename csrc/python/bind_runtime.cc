#include "bindings.h"
#include "nemo_fast/runtime/onnxruntime_loader.h"
#include "nemo_fast/runtime/session.h"

namespace nemo_fast::python {
namespace {

py::dict InfoToDict(const RuntimeInfo& info) {
  py::dict d;
  d["library_path"] = info.library_path;
  d["version"] = info.version;
  d["api_version"] = info.api_version;
  py::list providers;
  for (const auto& name : AvailableProviders()) providers.append(name);
  d["providers"] = providers;
  return d;
}

}  // namespace

void BindRuntime(py::module_& m) {
  m.def(
      "load_onnxruntime", [](const std::string& path) { return InfoToDict(LoadOnnxRuntime(path)); }, py::arg("path"),
      "Load the ONNX Runtime shared library at `path` (once per process) and return what was loaded.");
  m.def("onnxruntime_loaded", &OnnxRuntimeLoaded);
  m.def("runtime_info", []() { return InfoToDict(GetRuntimeInfo()); });
}

}  // namespace nemo_fast::python
