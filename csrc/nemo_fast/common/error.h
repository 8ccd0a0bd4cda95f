// Typed errors of the core. The Python bindings map each code to a Python exception class that also
// subclasses the matching builtin (ValueError, FileNotFoundError, RuntimeError).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace nemo_fast {

enum class ErrorCode {
  kInvalidConfig,       // an option or config value is out of range or unknown
  kInvalidAudio,        // wrong shape or dtype of samples
  kNonFiniteAudio,      // NaN or Inf samples
  kEmptyAudio,          // no samples where some are required
  kSampleRateMismatch,  // audio sample rate differs from the model's
  kModelFileNotFound,   // a model file is missing
  kInvalidModel,        // a model file is malformed, has missing metadata or is unsupported
  kInvalidState,        // a call that the object's state does not allow (e.g. audio after input_finished)
  kStreamBusy,          // a stream is in use by another call (another thread) at this moment
  kInvalidArgument,     // an argument of a call is unusable (e.g. a stream listed twice)
  kOnnxRuntime,         // ONNX Runtime could not be loaded or failed
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

namespace detail {
template <typename... Args>
std::string Concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

// Throws Error(code, message) where message is the concatenation of the arguments.
template <typename... Args>
[[noreturn]] void Fail(ErrorCode code, Args&&... args) {
  throw Error(code, detail::Concat(std::forward<Args>(args)...));
}

}  // namespace nemo_fast
