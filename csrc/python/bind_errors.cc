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
    case ErrorCode::kStreamBusy: return "StreamBusyError";
    case ErrorCode::kInvalidArgument: return "ArgumentError";
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
      py::object cls = py::module_::import("nemo_fast.errors").attr(PythonErrorName(e.code()));
      // Messages may quote file contents (metadata, token strings) that are not valid UTF-8.
      const std::string message = e.what();
      py::object text = py::reinterpret_steal<py::object>(
          PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "backslashreplace"));
      PyErr_SetObject(cls.ptr(), text.ptr());
    }
  });
}

}  // namespace nemo_fast::python
