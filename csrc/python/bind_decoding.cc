#include <pybind11/stl.h>

#include <memory>

#include "bindings.h"
#include "nemo_fast/common/error.h"
#include "nemo_fast/decoding/arpa_lm.h"
#include "nemo_fast/decoding/ctc_beam.h"
#include "nemo_fast/decoding/vocabulary.h"
#include "nemo_fast/pipeline/recognizer.h"

namespace nemo_fast::python {

void BindDecoding(py::module_& m) {
  py::class_<Hotword>(m, "Hotword")
      .def(py::init([](const std::string& phrase, float boost) { return Hotword{phrase, boost}; }), py::arg("phrase"),
           py::arg("boost") = 0.0f)
      .def_readwrite("phrase", &Hotword::phrase)
      .def_readwrite("boost", &Hotword::boost)
      .def("__repr__", [](const Hotword& h) { return "Hotword('" + h.phrase + "', " + std::to_string(h.boost) + ")"; });
  m.def("read_hotwords_file", &ReadHotwordsFile, py::arg("path"),
        "Phrases from a file: one per line, optionally followed by ' :BOOST'; '#' starts a comment line.");

  py::enum_<DecodingMethod>(m, "DecodingMethod")
      .value("model_default", DecodingMethod::kModelDefault)
      .value("greedy", DecodingMethod::kGreedy)
      .value("beam", DecodingMethod::kBeam);

  // Settings left None take the model's decoding.json (when the method resolves to beam), then the defaults.
  py::class_<DecodingConfig>(m, "DecodingConfig")
      .def(py::init<>())
      .def_readwrite("method", &DecodingConfig::method)
      .def_readwrite("beam_size", &DecodingConfig::beam_size)
      .def_readwrite("token_min_log_prob", &DecodingConfig::token_min_log_prob)
      .def_readwrite("beam_prune_log_prob", &DecodingConfig::beam_prune_log_prob)
      .def_readwrite("lm_path", &DecodingConfig::lm_path)
      .def_readwrite("lm_weight", &DecodingConfig::lm_weight)
      .def_readwrite("word_bonus", &DecodingConfig::word_bonus)
      .def_readwrite("unknown_word_penalty", &DecodingConfig::unknown_word_penalty)
      .def_readwrite("hotwords", &DecodingConfig::hotwords)
      .def_readwrite("hotword_boost", &DecodingConfig::hotword_boost)
      .def("__repr__", &DecodingConfig::ToString);

  py::class_<ArpaLm, std::shared_ptr<ArpaLm>>(m, "ArpaLm")
      .def(py::init([](const std::string& path) {
             py::gil_scoped_release release;
             return std::make_shared<ArpaLm>(path);
           }),
           py::arg("path"))
      .def_property_readonly("order", &ArpaLm::order)
      .def_property_readonly_static(
          "max_order", [](const py::object&) { return ArpaLm::kMaxOrder; },
          "The highest n-gram order the beam search reads.")
      .def("__contains__", &ArpaLm::Contains)
      .def(
          "score",
          [](const ArpaLm& lm, const std::vector<std::string>& context, const std::string& word, bool sentence_start) {
            ArpaLm::State state = sentence_start ? lm.BeginSentence() : lm.NullContext();
            ArpaLm::State next;
            for (const std::string& w : context) {
              lm.Score(state, lm.WordId(w), &next);
              state = next;
            }
            return lm.Score(state, lm.WordId(word), &next);
          },
          "log10 p(word | context), after <s> when sentence_start.", py::arg("context"), py::arg("word"),
          py::arg("sentence_start") = true);

  // Beam search over whole utterances' CTC log-probs, outside a stream (tests, evaluation scripts).
  struct CtcBeamSearch {
    Vocabulary vocabulary;
    TokenWords words;
    BeamSearchOptions options;
    CtcBeamSearch(const std::vector<std::string>& tokens, int blank_id, bool sentencepiece,
                  const DecodingConfig& config)
        : vocabulary(tokens, sentencepiece ? Vocabulary::Type::kSentencePiece : Vocabulary::Type::kCharacters),
          words(vocabulary, blank_id),
          options(MakeBeamSearchOptions(config, words)) {}
  };
  py::class_<CtcBeamSearch>(m, "CtcBeamSearch")
      .def(py::init<const std::vector<std::string>&, int, bool, const DecodingConfig&>(), py::arg("tokens"),
           py::arg("blank_id"), py::arg("sentencepiece"), py::arg("config"))
      .def(
          "decode",
          [](const CtcBeamSearch& self, py::array_t<float, py::array::c_style | py::array::forcecast> log_probs,
             bool keep_beam) {
            if (log_probs.ndim() != 2 || log_probs.shape(1) != self.vocabulary.size()) {
              Fail(ErrorCode::kInvalidArgument, "log_probs must be (frames, ", self.vocabulary.size(),
                   "), one column per token");
            }
            std::vector<std::pair<std::vector<int>, double>> beam;
            {
              py::gil_scoped_release release;
              CtcBeamDecoder decoder(self.words, self.vocabulary.size(), self.options);
              decoder.Accept(log_probs.data(), static_cast<int>(log_probs.shape(0)));
              if (!keep_beam) decoder.Finish();
              beam = decoder.Beam();
            }
            py::list out;
            for (const auto& [ids, score] : beam)
              out.append(py::make_tuple(ids, self.vocabulary.Detokenize(ids), score));
            return out;
          },
          "The final beam, best first, as (token ids, text, score) (keep_beam: the beam before the end of the "
          "input, without the end-of-sentence scores).",
          py::arg("log_probs"), py::arg("keep_beam") = false);
}

}  // namespace nemo_fast::python
