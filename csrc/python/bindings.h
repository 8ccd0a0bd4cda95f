// Shared helpers of the binding files: numpy <-> core conversions without copies.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "nemo_fast/common/samples.h"

namespace nemo_fast::python {

namespace py = pybind11;

void BindErrors(py::module_& m);
void BindFeatures(py::module_& m);
void BindRuntime(py::module_& m);
void BindRecognizer(py::module_& m);
void BindDecoding(py::module_& m);
void BindVad(py::module_& m);

// A view of a 1-D float32/float64/int16 numpy array (any stride), without copying. The array must stay
// referenced by the caller while the view is used. Anything else is refused with kInvalidAudio.
SampleView ToSampleView(const py::handle& samples);

// A sample rate argument: an integer (Python or numpy) within kMinSampleRate..kMaxSampleRate.
int ToSampleRate(const py::handle& rate);

// Throws kSampleRateMismatch unless the audio's rate is the one `who` ("the model", ...) expects.
void CheckSampleRate(int given, int expected, const char* who);

// Moves a row-major vector into a (rows, cols) numpy array that owns it.
py::array_t<float> ToNumpy(std::vector<float>&& values, py::ssize_t cols);

}  // namespace nemo_fast::python
