#include <pybind11/stl.h>

#include <memory>

#include "bindings.h"
#include "nemo_fast/vad/silero_vad.h"

namespace nemo_fast::python {

void BindVad(py::module_& m) {
  py::class_<VadOptions>(m, "VadOptions")
      .def(py::init<>())
      .def_readwrite("threshold", &VadOptions::threshold)
      .def_readwrite("neg_threshold", &VadOptions::neg_threshold)
      .def_readwrite("min_speech_ms", &VadOptions::min_speech_ms)
      .def_readwrite("min_silence_ms", &VadOptions::min_silence_ms)
      .def_readwrite("speech_pad_ms", &VadOptions::speech_pad_ms)
      .def_readwrite("max_speech_seconds", &VadOptions::max_speech_seconds)
      .def_readwrite("min_silence_at_max_speech_ms", &VadOptions::min_silence_at_max_speech_ms)
      .def_readwrite("use_longest_silence_at_max_speech", &VadOptions::use_longest_silence_at_max_speech)
      .def("validate", &VadOptions::Validate);

  py::class_<SileroVadModel, std::shared_ptr<SileroVadModel>>(m, "SileroVadModel")
      .def(py::init([](const std::string& path, int threads) {
             SessionConfig config;
             config.intra_op_threads = threads;
             return std::make_shared<SileroVadModel>(path, config);
           }),
           py::arg("path"), py::arg("num_threads") = 1, py::call_guard<py::gil_scoped_release>());

  py::class_<VadStream>(m, "VadStream")
      .def(py::init([](std::shared_ptr<SileroVadModel> model, const py::handle& rate) {
             return std::make_unique<VadStream>(std::move(model), ToSampleRate(rate));
           }),
           py::arg("model"), py::arg("sample_rate"))
      .def(
          "accept_waveform",
          [](VadStream& self, const py::handle& samples) {
            const SampleView view = ToSampleView(samples);
            py::gil_scoped_release release;
            self.Accept(view);
          },
          py::arg("samples"))
      .def("input_finished", &VadStream::Finish, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("probabilities",
                             [](const VadStream& self) {
                               std::vector<float> copy = self.probabilities();
                               return ToNumpy(std::move(copy), 1).attr("reshape")(-1);
                             })
      .def_property_readonly("input_samples", &VadStream::input_samples)
      .def_property_readonly("model_rate", &VadStream::model_rate)
      .def_property_readonly("decimation", &VadStream::decimation);

  m.def(
      "speech_spans",
      [](const VadStream& stream, const VadOptions& options) {
        std::vector<std::pair<int64_t, int64_t>> out;
        for (const SpeechSpan& span : SpeechSpans(stream.probabilities(), stream.model_rate(), stream.decimation(),
                                                  stream.input_samples(), options)) {
          out.emplace_back(span.start, span.end);
        }
        return out;
      },
      py::arg("stream"), py::arg("options"), "get_speech_timestamps' spans (start, end) in input samples");
}

}  // namespace nemo_fast::python
