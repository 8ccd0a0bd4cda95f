#include "bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "nemo_fast C++ core (private; use the nemo_fast package)";
  nemo_fast::python::BindErrors(m);
  nemo_fast::python::BindRuntime(m);
  nemo_fast::python::BindFeatures(m);
  nemo_fast::python::BindRecognizer(m);
}
