#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "bindings.h"
#include "nemo_fast/common/error.h"
#include "nemo_fast/common/utf8.h"
#include "nemo_fast/pipeline/recognizer.h"

namespace nemo_fast::python {
namespace {

py::dict SpecToDict(const ModelSpec& s) {
  py::dict d;
  d["schema_version"] = s.schema_version;
  d["model_class"] = s.model_class;
  d["nemo_version"] = s.nemo_version;
  d["decoders"] = s.decoders;
  d["default_decoder"] = s.default_decoder;
  d["mode"] = s.streaming ? "streaming" : "offline";
  d["feat_in"] = s.feat_in;
  d["subsampling_factor"] = s.subsampling_factor;
  d["vocab_size"] = s.vocab_size;
  d["blank_id"] = s.blank_id;
  d["vocabulary_type"] = s.vocabulary_type;
  d["tokens_file"] = s.tokens_file;
  d["frame_shift_seconds"] = s.frame_shift_seconds();
  d["features"] = s.features;
  if (s.streaming) {
    const auto& g = s.geometry;
    py::dict geo;
    geo["chunk_size"] = py::make_tuple(g.chunk_size_frames[0], g.chunk_size_frames[1]);
    geo["shift_size"] = py::make_tuple(g.shift_size_frames[0], g.shift_size_frames[1]);
    geo["pre_encode_cache_size"] = py::make_tuple(g.pre_encode_cache_size_frames[0], g.pre_encode_cache_size_frames[1]);
    geo["sampling_frames"] = py::make_tuple(g.sampling_frames[0], g.sampling_frames[1]);
    geo["drop_extra_pre_encoded"] = g.drop_extra_pre_encoded;
    geo["valid_out_len"] = g.valid_out_len;
    geo["last_channel_cache_size"] = g.last_channel_cache_size;
    geo["streaming_modes"] = g.drop_is_input ? std::vector<std::string>{"default", "pad_and_drop_preencoded"}
                                             : std::vector<std::string>{"pad_and_drop_preencoded"};
    d["att_context_size"] = py::make_tuple(s.att_context_size[0], s.att_context_size[1]);
    d["streaming"] = geo;
    const auto& c = s.cache_last_channel_shape;
    const auto& t = s.cache_last_time_shape;
    d["cache_last_channel_shape"] = py::make_tuple(c[0], c[1], c[2]);
    d["cache_last_time_shape"] = py::make_tuple(t[0], t[1], t[2]);
  } else if (s.max_encoder_frames > 0) {
    d["max_encoder_frames"] = s.max_encoder_frames;
  }
  if (s.has_transducer()) {
    const auto& t = s.transducer;
    py::dict td;
    td["decoder_file"] = t.decoder_file;
    td["joiner_file"] = t.joiner_file;
    td["pred_rnn_layers"] = t.pred_rnn_layers;
    td["pred_hidden"] = t.pred_hidden;
    td["joint_hidden"] = t.joint_hidden;
    td["max_symbols_per_step"] = t.max_symbols_per_step;
    td["durations"] = t.durations;
    d["transducer"] = td;
  }
  return d;
}

}  // namespace

void BindRecognizer(py::module_& m) {
  py::enum_<StreamingMode>(m, "StreamingMode")
      .value("DEFAULT", StreamingMode::kDefault)
      .value("PAD_AND_DROP_PREENCODED", StreamingMode::kPadAndDropPreencoded)
      .value("AUTO", StreamingMode::kAuto);

  py::class_<SessionConfig>(m, "SessionConfig")
      .def(py::init<>())
      .def_readwrite("intra_op_threads", &SessionConfig::intra_op_threads)
      .def_readwrite("inter_op_threads", &SessionConfig::inter_op_threads)
      .def_readwrite("graph_optimization_level", &SessionConfig::graph_optimization_level)
      .def_readwrite("config_entries", &SessionConfig::config_entries)
      .def_readwrite("providers", &SessionConfig::providers)
      .def_readwrite("provider_options", &SessionConfig::provider_options)
      .def_readwrite("profile_prefix", &SessionConfig::profile_prefix)
      .def("__repr__", &SessionConfig::ToString);

  py::class_<EndpointRule>(m, "EndpointRule", "One endpoint rule: a segment ends when all its conditions hold.")
      .def(py::init([](bool must_contain_speech, double min_trailing_silence, double min_segment_length) {
             return EndpointRule{must_contain_speech, min_trailing_silence, min_segment_length};
           }),
           py::arg("must_contain_speech") = false, py::arg("min_trailing_silence") = 0.0,
           py::arg("min_segment_length") = 0.0)
      .def_readwrite("must_contain_speech", &EndpointRule::must_contain_speech)
      .def_readwrite("min_trailing_silence", &EndpointRule::min_trailing_silence)
      .def_readwrite("min_segment_length", &EndpointRule::min_segment_length)
      .def("__repr__", [](const EndpointRule& r) {
        return "EndpointRule(must_contain_speech=" + std::string(r.must_contain_speech ? "True" : "False") +
               ", min_trailing_silence=" + std::to_string(r.min_trailing_silence) +
               ", min_segment_length=" + std::to_string(r.min_segment_length) + ")";
      });

  py::class_<EndpointConfig>(m, "EndpointConfig",
                             "Where transcripts are cut into segments; a segment ends when any rule holds.")
      .def(py::init([](bool enabled, const EndpointRule* rule1, const EndpointRule* rule2, const EndpointRule* rule3) {
             EndpointConfig c;
             c.enabled = enabled;
             if (rule1) c.rule1 = *rule1;
             if (rule2) c.rule2 = *rule2;
             if (rule3) c.rule3 = *rule3;
             return c;
           }),
           "The defaults are sherpa-onnx's rules; pass a rule to replace one.", py::arg("enabled") = true,
           py::arg("rule1") = nullptr, py::arg("rule2") = nullptr, py::arg("rule3") = nullptr)
      .def_readwrite("enabled", &EndpointConfig::enabled)
      .def_readwrite("rule1", &EndpointConfig::rule1)
      .def_readwrite("rule2", &EndpointConfig::rule2)
      .def_readwrite("rule3", &EndpointConfig::rule3)
      .def("validate", &EndpointConfig::Validate,
           "Raises ConfigError for negative durations or a rule that would end every segment at once.")
      .def(py::pickle(  // RecognizerOptions pickle (Ray actors, server workers)
          [](const EndpointConfig& c) {
            auto rule = [](const EndpointRule& r) {
              return py::make_tuple(r.must_contain_speech, r.min_trailing_silence, r.min_segment_length);
            };
            return py::make_tuple(c.enabled, rule(c.rule1), rule(c.rule2), rule(c.rule3));
          },
          [](const py::tuple& t) {
            auto rule = [](const py::handle& h) {
              const auto r = h.cast<py::tuple>();
              return EndpointRule{r[0].cast<bool>(), r[1].cast<double>(), r[2].cast<double>()};
            };
            EndpointConfig c;
            c.enabled = t[0].cast<bool>();
            c.rule1 = rule(t[1]);
            c.rule2 = rule(t[2]);
            c.rule3 = rule(t[3]);
            return c;
          }));

  py::class_<LongAudioConfig>(m, "LongAudioConfig",
                              "How offline models cut a long input into windows at pauses (see docs/usage.md).")
      .def(py::init([](double max_window_seconds, double cut_search_seconds, double quiet_seconds,
                       const std::string& vad_model) {
             LongAudioConfig c;
             c.max_window_seconds = max_window_seconds;
             c.cut_search_seconds = cut_search_seconds;
             c.quiet_seconds = quiet_seconds;
             c.vad_model = vad_model;
             return c;
           }),
           py::arg("max_window_seconds") = 0.0, py::arg("cut_search_seconds") = 10.0, py::arg("quiet_seconds") = 0.1,
           py::arg("vad_model") = "")
      .def_readwrite("max_window_seconds", &LongAudioConfig::max_window_seconds)
      .def_readwrite("cut_search_seconds", &LongAudioConfig::cut_search_seconds)
      .def_readwrite("quiet_seconds", &LongAudioConfig::quiet_seconds)
      .def_readwrite("vad_model", &LongAudioConfig::vad_model)
      .def("validate", &LongAudioConfig::Validate, "Raises ConfigError for values out of range.")
      .def("__repr__", &LongAudioConfig::ToString)
      .def(py::pickle(  // Ray actors take their recognizer's options pickled
          [](const LongAudioConfig& c) {
            return py::make_tuple(c.max_window_seconds, c.cut_search_seconds, c.quiet_seconds, c.vad_model);
          },
          [](const py::tuple& t) {
            LongAudioConfig c;
            c.max_window_seconds = t[0].cast<double>();
            c.cut_search_seconds = t[1].cast<double>();
            c.quiet_seconds = t[2].cast<double>();
            c.vad_model = t[3].cast<std::string>();
            return c;
          }));

  py::class_<Word>(m, "Word")
      .def_readonly("text", &Word::text)
      .def_readonly("start_frame", &Word::start_frame)
      .def_readonly("end_frame", &Word::end_frame)
      .def_readonly("start_seconds", &Word::start_seconds)
      .def_readonly("end_seconds", &Word::end_seconds)
      .def_readonly("onset_frame", &Word::onset_frame)
      .def_readonly("onset_seconds", &Word::onset_seconds)
      .def_readonly("confidence", &Word::confidence);

  py::class_<Segment>(m, "Segment")
      .def_readonly("text", &Segment::text)
      .def_readonly("token_ids", &Segment::token_ids)
      .def_readonly("token_times_seconds", &Segment::token_times_seconds)
      .def_readonly("token_confidences", &Segment::token_confidences)
      .def_readonly("words", &Segment::words)
      .def_readonly("start_seconds", &Segment::start_seconds)
      .def_readonly("end_seconds", &Segment::end_seconds)
      .def_readonly("final", &Segment::final);

  py::class_<RecognizerConfig>(m, "RecognizerConfig")
      .def(py::init<>())
      .def_readwrite("session", &RecognizerConfig::session)
      .def_readwrite("decoder", &RecognizerConfig::decoder)
      .def_readwrite("streaming_mode", &RecognizerConfig::streaming_mode)
      .def_readwrite("keep_log_probs", &RecognizerConfig::keep_log_probs)
      .def_readwrite("max_batch_size", &RecognizerConfig::max_batch_size)
      .def_readwrite("endpoint", &RecognizerConfig::endpoint)
      .def_readwrite("decoding", &RecognizerConfig::decoding)
      .def_readwrite("long_audio", &RecognizerConfig::long_audio)
      .def("__repr__", &RecognizerConfig::ToString);

  py::class_<RecognitionResult>(m, "RecognitionResult")
      .def_readonly("text", &RecognitionResult::text)
      .def_readonly("token_ids", &RecognitionResult::token_ids)
      .def_readonly("token_times_seconds", &RecognitionResult::token_times_seconds)
      .def_readonly("token_confidences", &RecognitionResult::token_confidences)
      .def_readonly("num_frames", &RecognitionResult::num_frames)
      .def_property_readonly("log_probs", [](const RecognitionResult& r) {
        std::vector<float> copy = r.log_probs;
        return ToNumpy(std::move(copy), r.vocab_size);
      });

  m.def(
      "model_spec_from_metadata",
      [](const std::map<std::string, std::string>& metadata, const std::string& source) {
        return SpecToDict(ModelSpec::FromMetadata(metadata, source));
      },
      py::arg("metadata"), py::arg("source"),
      "What a model's metadata says, as the core reads it when it loads the model (no graph is loaded).");

  py::class_<StreamUpdate>(m, "StreamUpdate", "What changed in a stream's transcript since the last pop_update.")
      .def_readonly("first_segment", &StreamUpdate::first_segment)
      .def_readonly("finals", &StreamUpdate::finals)
      .def_readonly("partial_changed", &StreamUpdate::partial_changed)
      .def_readonly("partial", &StreamUpdate::partial);

  // Registered before the methods that take or return it, so that their signatures name the Python class.
  py::class_<RecognizerStream, std::shared_ptr<RecognizerStream>> stream(m, "RecognizerStream");

  py::class_<Recognizer, std::shared_ptr<Recognizer>>(m, "Recognizer")
      .def(py::init([](const std::string& path, const RecognizerConfig& config) {
             py::gil_scoped_release release;
             return std::make_shared<Recognizer>(path, config);
           }),
           py::arg("model_path"), py::arg("config"))
      .def_property_readonly("spec", [](const Recognizer& r) { return SpecToDict(r.spec()); })
      .def_property_readonly("config", &Recognizer::config)
      .def_property_readonly("decoder", &Recognizer::decoder)
      .def_property_readonly("providers", &Recognizer::providers)
      .def_property_readonly("cache_memory", &Recognizer::cache_memory)
      .def_property_readonly("max_window_samples", &Recognizer::max_window_samples)
      .def(
          "window_starts",
          [](const Recognizer& self, const py::handle& samples) {
            const SampleView view = ToSampleView(samples);
            py::gil_scoped_release release;
            return self.WindowStarts(view);
          },
          py::arg("samples"))
      .def("end_profile", &Recognizer::EndProfile, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("tokens",
                             [](const Recognizer& r) {
                               std::vector<std::string> t;
                               for (int i = 0; i < r.vocabulary().size(); ++i)
                                 t.push_back(RepairUtf8(r.vocabulary().token(i)));
                               return t;
                             })
      .def(
          "create_stream",
          [](const std::shared_ptr<Recognizer>& self, const EndpointConfig* endpoint,
             const std::optional<std::vector<Hotword>>& hotwords) {
            const EndpointConfig& rules = endpoint ? *endpoint : self->config().endpoint;
            if (hotwords) return std::shared_ptr<RecognizerStream>(self->CreateStream(rules, *hotwords));
            return std::shared_ptr<RecognizerStream>(self->CreateStream(rules));
          },
          "A new stream; endpoint replaces the recognizer's endpoint rules and hotwords the recognizer's hotwords "
          "(beam decoding) for this stream.",
          py::arg("endpoint") = nullptr, py::arg("hotwords") = std::nullopt, py::keep_alive<0, 1>())
      .def(
          "decode_streams",
          [](const Recognizer& self, const std::vector<std::shared_ptr<RecognizerStream>>& streams) {
            std::vector<RecognizerStream*> raw;
            for (const auto& s : streams) raw.push_back(s.get());
            py::gil_scoped_release release;
            self.DecodeStreams(raw);
          },
          py::arg("streams"));

  stream
      .def(
          "accept_waveform",
          [](RecognizerStream& self, const py::object& samples, const py::object& rate) {
            SampleView view = ToSampleView(samples);
            const int sample_rate = ToSampleRate(rate);
            py::gil_scoped_release release;
            self.AcceptWaveform(view, sample_rate);
          },
          py::arg("samples"), py::arg("sample_rate"))
      .def("input_finished",
           [](RecognizerStream& self) {
             py::gil_scoped_release release;
             self.InputFinished();
           })
      .def_property_readonly("is_ready", &RecognizerStream::IsReady)
      .def_property_readonly("input_is_finished", &RecognizerStream::input_finished)
      .def_property_readonly("num_feature_frames", &RecognizerStream::num_feature_frames)
      .def_property_readonly("peak_abs_sample", &RecognizerStream::peak_abs_sample)
      .def("result", &RecognizerStream::Result)
      .def("segments", &RecognizerStream::Segments)
      .def("pop_segments", &RecognizerStream::PopSegments)
      .def("pop_update", &RecognizerStream::PopUpdate)
      .def("reset", &RecognizerStream::Reset);
}

}  // namespace nemo_fast::python
