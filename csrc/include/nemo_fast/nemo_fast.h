// nemo_fast's public C++ API: NeMo FastConformer speech recognition (cache-aware streaming or whole
// utterances) on ONNX Runtime, exact to NeMo. This header exposes no ONNX Runtime type; link the installed
// CMake package (find_package(nemo_fast) -> nemo_fast::nemo_fast).
//
//   nemo_fast::LoadOnnxRuntime("/path/to/libonnxruntime.so.1.xx");  // once per process
//   nemo_fast::Model model("model_dir");                             // immutable: share it across threads
//   auto stream = model.CreateStream();                              // one utterance, one thread at a time
//   stream->AcceptWaveform(samples, n, 16000);                       // any piece size; decodes what is ready
//   stream->InputFinished();                                         // flush: every token is in
//   std::string text = stream->GetResult().text;
//
// Errors are thrown as nemo_fast::Error (a std::runtime_error with a code), never as a process exit.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/runtime/onnxruntime_loader.h"  // LoadOnnxRuntime(library_path): once per process

namespace nemo_fast {

// How tokens are found: the model folder's default (its decoding.json, e.g. the shipped model's beam search with
// its language model; greedy without the file), NeMo's greedy decoding, or beam search (docs/decoding.md).
enum class Decoding { kModelDefault, kGreedy, kBeam };

// Where a stream's transcript is cut into segments (utterances): a segment ends when any enabled rule holds,
// judged on the decoder's output (trailing frames without speech), so the words are the same either way.
struct EndpointRuleOptions {
  bool must_contain_speech = false;   // the segment must hold a word
  double min_trailing_silence = 0.0;  // seconds without speech at its end (0: not required)
  double min_segment_length = 0.0;    // seconds since it started (0: not required)
};

struct EndpointOptions {
  bool enabled = true;
  EndpointRuleOptions rule1{false, 2.4, 0.0};   // nothing said and a long silence (the segment is dropped)
  EndpointRuleOptions rule2{true, 1.2, 0.0};    // a pause after speech
  EndpointRuleOptions rule3{false, 0.0, 20.0};  // the segment has grown too long
};

// The twin of Python's RecognizerOptions: the same options and defaults (here lm_path is its lm, hotwords_file its
// hotwords, pad_and_drop_preencoded its streaming_mode; keep_log_probs and profile are Python's only).
struct ModelOptions {
  std::string decoder;                 // "ctc", "rnnt" or "tdt"; empty or "default": the model's default
  int num_threads = 1;                 // ONNX Runtime intra-op threads of one encoder call
  std::vector<std::string> providers;  // "cuda", "tensorrt", "cpu" in order of preference; empty: the CPU
  // ONNX Runtime's options per provider, e.g. {"cuda": {{"device_id", "1"}}}.
  std::map<std::string, std::map<std::string, std::string>> provider_options;
  int graph_optimization_level = 99;                          // ONNX Runtime's 0, 1, 2 or 99 (all)
  std::map<std::string, std::string> session_config_entries;  // extra ONNX Runtime session keys
  bool pad_and_drop_preencoded = false;  // NeMo's other streaming mode (false: the model's own mode)
  int max_batch_size = 32;               // most streams decoded in one batched encoder call
  double max_window_seconds = 0.0;  // offline models: longest window of a long input (0: 30 s or the model's limit)
  std::string vad_model;            // offline models: a Silero VAD model to cut long inputs at (empty: energy)
  Decoding decoding = Decoding::kModelDefault;
  // Beam search settings; unset: the model's decoding.json (when the decoding is beam), else the defaults of
  // docs/decoding.md.
  std::optional<int> beam_size;
  std::optional<std::string> lm_path;  // an ARPA word n-gram model for shallow fusion; "": none
  std::optional<float> lm_weight;
  std::optional<float> word_bonus;
  std::optional<float> hotword_boost;
  std::optional<float> token_min_log_prob;
  std::optional<float> beam_prune_log_prob;
  std::string hotwords_file;  // one phrase per line, optionally "PHRASE :BOOST"; empty: none
  EndpointOptions endpoint;
};

struct WordResult {
  std::string text;
  double start_seconds = 0.0;  // NeMo's word timestamps
  double end_seconds = 0.0;
  float confidence = 0.0f;  // NeMo's default word confidence, in [0, 1]
};

struct SegmentResult {
  std::string text;
  double start_seconds = 0.0;
  double end_seconds = 0.0;
  bool final = false;  // ended by an endpoint or the end of the input: it no longer changes
  std::vector<WordResult> words;
};

struct TranscriptionResult {
  std::string text;  // valid UTF-8
  std::vector<int> token_ids;
  std::vector<double> token_times_seconds;  // start of the encoder frame that emitted each token
  std::vector<float> token_confidences;     // NeMo's default token confidence
  std::vector<SegmentResult> segments;      // the transcript cut at endpoints, with its words
};

class RecognizerStream;  // implementation
class Recognizer;        // implementation

class Stream {
 public:
  ~Stream();
  // Mono samples in [-1, 1] at any rate from 1 kHz to 768 kHz (resampled to the model's); decodes every
  // chunk that becomes ready.
  void AcceptWaveform(const float* samples, std::size_t count, int sample_rate);
  // End of the audio: decodes the rest.
  void InputFinished();
  TranscriptionResult GetResult() const;
  void Reset();

 private:
  friend class Model;
  Stream(const Recognizer& recognizer, std::unique_ptr<RecognizerStream> stream);
  const Recognizer& recognizer_;
  std::unique_ptr<RecognizerStream> stream_;
};

class Model {
 public:
  // model_dir: a directory written by `nemo-fast export` (model.onnx, tokens.txt, transducer graphs).
  explicit Model(const std::string& model_dir, const ModelOptions& options = {});
  ~Model();

  std::unique_ptr<Stream> CreateStream() const;
  // Decodes the ready chunks of many streams of this model, equal chunk shapes in one batched call.
  void DecodeStreams(const std::vector<Stream*>& streams) const;
  // A whole utterance at once.
  TranscriptionResult Transcribe(const float* samples, std::size_t count, int sample_rate) const;

  int sample_rate() const;
  const std::string& decoder() const;  // the decoder in use

 private:
  std::unique_ptr<Recognizer> recognizer_;
};

}  // namespace nemo_fast
