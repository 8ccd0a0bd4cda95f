#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "bindings.h"
#include "nemo_fast/common/error.h"
#include "nemo_fast/features/improved_fbank.h"

namespace nemo_fast::python {

SampleView ToSampleView(const py::handle& object) {
  if (!py::isinstance<py::array>(object)) {
    Fail(ErrorCode::kInvalidAudio, "audio must be a 1-D numpy array of samples (float32, float64 or int16), got ",
         std::string(py::str(py::type::of(object).attr("__name__"))));
  }
  const auto samples = py::reinterpret_borrow<py::array>(object);
  if (samples.ndim() != 1) {
    std::string shape;
    for (py::ssize_t i = 0; i < samples.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(samples.shape(i));
    Fail(ErrorCode::kInvalidAudio, "audio must be a 1-D mono array of samples, got shape (", shape,
         "); mix down or select one channel first");
  }
  SampleView view;
  view.data = samples.data();
  view.size = static_cast<std::size_t>(samples.shape(0));
  view.stride_bytes = samples.strides(0);
  const py::dtype dt = samples.dtype();
  if (dt.is(py::dtype::of<float>())) {
    view.type = SampleType::kFloat32;
  } else if (dt.is(py::dtype::of<double>())) {
    view.type = SampleType::kFloat64;
  } else if (dt.is(py::dtype::of<std::int16_t>())) {
    view.type = SampleType::kInt16;
  } else {
    Fail(ErrorCode::kInvalidAudio, "audio dtype ", std::string(py::str(dt)),
         " is not supported; pass float32 or float64 samples in [-1, 1], or int16 PCM");
  }
  return view;
}

py::array_t<float> ToNumpy(std::vector<float>&& values, py::ssize_t cols) {
  auto* owner = new std::vector<float>(std::move(values));
  py::capsule free_owner(owner, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  const py::ssize_t rows = cols > 0 ? static_cast<py::ssize_t>(owner->size()) / cols : 0;
  return py::array_t<float>({rows, cols},
                            {cols * static_cast<py::ssize_t>(sizeof(float)), static_cast<py::ssize_t>(sizeof(float))},
                            owner->data(), free_owner);
}

int ToSampleRate(const py::handle& rate) {
  // Integers only (Python or numpy); bool is an int to Python but never a rate.
  const bool integer = (PyLong_Check(rate.ptr()) && !PyBool_Check(rate.ptr())) ||
                       py::isinstance(rate, py::module_::import("numpy").attr("integer"));
  if (!integer) {
    Fail(ErrorCode::kInvalidConfig, "sample_rate must be an integer number of Hz, got ",
         std::string(py::str(py::repr(rate))));
  }
  const auto hz = rate.cast<long long>();
  if (hz < kMinSampleRate || hz > kMaxSampleRate) {
    Fail(ErrorCode::kInvalidConfig, "sample rate ", hz, " Hz is out of range (", kMinSampleRate, "..", kMaxSampleRate,
         " Hz)");
  }
  return static_cast<int>(hz);
}

void CheckSampleRate(int given, int expected, const char* who) {
  if (given != expected) {
    Fail(ErrorCode::kSampleRateMismatch, "audio sample rate is ", given, " Hz but ", who, " expects ", expected,
         " Hz; resample the audio first");
  }
}

void BindFeatures(py::module_& m) {
  py::class_<FbankOptions>(m, "FbankOptions",
                           "Options of ImprovedFbank (NeMo's AudioToMelSpectrogramPreprocessor in inference mode).\n"
                           "Build them from a NeMo preprocessor config with nemo_fast.fbank_options_from_nemo().")
      .def(py::init<>())
      .def_static("from_key_values", &FbankOptions::FromKeyValues, py::arg("key_values"),
                  "Options from the flat string form stored in model metadata; unknown or missing keys are errors.")
      .def("to_key_values", &FbankOptions::ToKeyValues)
      .def(
          "with_model_buffers",
          [](const FbankOptions& self,
             std::optional<py::array_t<float, py::array::c_style | py::array::forcecast>> window,
             std::optional<py::array_t<float, py::array::c_style | py::array::forcecast>> mel_weights) {
            FbankOptions copy = self;
            if (window) copy.window_taps.assign(window->data(), window->data() + window->size());
            if (mel_weights) copy.mel_weights.assign(mel_weights->data(), mel_weights->data() + mel_weights->size());
            copy.Validate();
            return copy;
          },
          py::arg("window_taps") = py::none(), py::arg("mel_weights") = py::none(),
          "A copy using a checkpoint's own window taps (win_length) and mel matrix (features x n_fft/2+1).")
      .def_property_readonly("has_model_buffers",
                             [](const FbankOptions& o) { return !o.window_taps.empty() || !o.mel_weights.empty(); })
      .def("num_valid_frames", &FbankOptions::NumValidFrames, py::arg("num_samples"),
           "Frames NeMo marks valid for this many samples.")
      .def_readonly("sample_rate", &FbankOptions::sample_rate)
      .def_readonly("num_mel_bins", &FbankOptions::num_mel_bins)
      .def_readonly("win_length_samples", &FbankOptions::win_length_samples)
      .def_readonly("hop_length_samples", &FbankOptions::hop_length_samples)
      .def_readonly("n_fft", &FbankOptions::n_fft)
      .def_readonly("pad_to", &FbankOptions::pad_to)
      .def_property_readonly("normalize", [](const FbankOptions& o) { return std::string(EnumName(o.normalize)); })
      .def("__repr__", &FbankOptions::ToString)
      .def("__eq__", [](const FbankOptions& a, const FbankOptions& b) { return a.ToKeyValues() == b.ToKeyValues(); });

  // Registered before the methods that return it, so that their signatures name the Python class.
  py::class_<FbankStream, std::shared_ptr<FbankStream>> fbank_stream(
      m, "FbankStream", "Incremental features of one utterance. Use from one thread at a time.");

  py::class_<ImprovedFbank, std::shared_ptr<ImprovedFbank>>(
      m, "ImprovedFbank",
      "Log-mel features identical to NeMo's preprocessor. Immutable; safe to share between threads.")
      .def(py::init<const FbankOptions&>(), py::arg("options"))
      .def_property_readonly("options", &ImprovedFbank::options)
      .def_property_readonly("feature_dim", &ImprovedFbank::feature_dim)
      .def(
          "compute",
          [](const ImprovedFbank& self, const py::object& samples, const py::object& rate) {
            CheckSampleRate(ToSampleRate(rate), self.options().sample_rate, "the feature extractor");
            SampleView view = ToSampleView(samples);
            std::vector<float> frames;
            {
              py::gil_scoped_release release;
              frames = self.Compute(view);
            }
            return ToNumpy(std::move(frames), self.feature_dim());
          },
          py::arg("samples"), py::arg("sample_rate"),
          "Features of a whole utterance: float32 array (num_valid_frames, feature_dim).")
      .def(
          "create_stream",
          [](const std::shared_ptr<ImprovedFbank>& self) { return std::shared_ptr<FbankStream>(self->CreateStream()); },
          py::keep_alive<0, 1>(), "A new incremental feature stream.")
      .def(
          "mel_filterbank",
          [](const ImprovedFbank& self) {
            const MelFilterbank& mel = self.mel_filterbank();
            return ToNumpy(mel.Dense(), mel.num_fft_bins());
          },
          "The (num_mel_bins, n_fft/2+1) mel weight matrix.")
      .def("window", [](const ImprovedFbank& self) {
        std::vector<float> w(self.window().begin(), self.window().end());
        return ToNumpy(std::move(w), static_cast<py::ssize_t>(w.size())).attr("reshape")(-1);
      });

  fbank_stream
      .def(
          "accept_waveform",
          [](FbankStream& self, const py::object& samples, const py::object& rate) {
            CheckSampleRate(ToSampleRate(rate), self.options().sample_rate, "the feature extractor");
            SampleView view = ToSampleView(samples);
            std::vector<float> frames;
            {
              py::gil_scoped_release release;
              self.AcceptWaveform(view, &frames);
            }
            return ToNumpy(std::move(frames), self.feature_dim());
          },
          py::arg("samples"), py::arg("sample_rate"),
          "Feed samples (any count, zero included); returns the frames that became final, shape (n, feature_dim).")
      .def(
          "input_finished",
          [](FbankStream& self) {
            std::vector<float> frames;
            {
              py::gil_scoped_release release;
              self.InputFinished(&frames);
            }
            return ToNumpy(std::move(frames), self.feature_dim());
          },
          "Mark the end of the audio; returns the remaining frames.")
      .def("reset", &FbankStream::Reset)
      .def_property_readonly("num_samples", &FbankStream::num_samples)
      .def_property_readonly("num_frames", &FbankStream::num_frames_emitted)
      .def_property_readonly("input_is_finished", &FbankStream::input_finished);
}

}  // namespace nemo_fast::python
