#include <chrono>

#include "bindings.h"
#include "nemo_fast/common/interrupt.h"

namespace nemo_fast::python {
namespace {

unsigned long main_thread_ident = 0;

// Lets Ctrl-C stop a long decode between two chunks: Python's signal handlers run only on the main thread, so
// other threads skip the check (and never wait for the GIL for it); the main thread looks at most every 50 ms.
void CheckPythonSignals() {
  if (PyThread_get_thread_ident() != main_thread_ident) return;
  using Clock = std::chrono::steady_clock;
  static Clock::time_point last_check;
  const Clock::time_point now = Clock::now();
  if (now - last_check < std::chrono::milliseconds(50)) return;
  last_check = now;
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

}  // namespace
}  // namespace nemo_fast::python

PYBIND11_MODULE(_core, m) {
  namespace python = nemo_fast::python;
  m.doc() = "nemo_fast C++ core (private; use the nemo_fast package)";
  python::main_thread_ident =
      python::py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  nemo_fast::SetInterruptCheck(&python::CheckPythonSignals);
  python::BindErrors(m);
  python::BindRuntime(m);
  python::BindFeatures(m);
  python::BindDecoding(m);
  python::BindRecognizer(m);
  python::BindVad(m);
}
