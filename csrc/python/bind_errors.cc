#include <string>

#include "bindings.h"
#include "nemo_fast/common/error.h"

namespace nemo_fast::python {
namespace {

// The Python class (in nemo_fast.errors) raised for each core error code.
const char* PythonErrorName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidConfig: return "ConfigError";
    case ErrorCode::kInvalidAudio: return "AudioError";
    case ErrorCode::kNonFiniteAudio: return "NonFiniteAudioError";
    case ErrorCode::kEmptyAudio: return "EmptyAudioError";
    case ErrorCode::kSampleRateMismatch: return "SampleRateMismatchError";
    case ErrorCode::kModelFileNotFound: return "ModelFileNotFoundError";
    case ErrorCode::kInvalidModel: return "ModelError";
    case ErrorCode::kInvalidState: return "StreamStateError";
    case ErrorCode::kOnnxRuntime: return "OnnxRuntimeError";
  }
  return "NemoFastError";
}

}  // namespace

void BindErrors(py::module_&) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object errors = py::module_::import("nemo_fast.errors");
      py::object cls = errors.attr(PythonErrorName(e.code()));
      PyErr_SetString(cls.ptr(), e.what());
    }
  });
}

}  // namespace nemo_fast::python
