// The C API (include/nemo_fast/c_api.h) over the pipeline: handles own the C++ objects, errors become status
// codes with a per-thread message, results are copied into storage the stream handle owns.
#include "nemo_fast/c_api.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/pipeline/recognizer.h"
#include "nemo_fast/runtime/onnxruntime_loader.h"

struct nf_model {
  std::unique_ptr<nemo_fast::Recognizer> recognizer;
  std::string decoding;
};

struct nf_stream {
  const nf_model* model = nullptr;
  std::unique_ptr<nemo_fast::RecognizerStream> stream;
  // What the last nf_stream_get_result handed out.
  nemo_fast::RecognitionResult result;
  std::vector<nemo_fast::Segment> segments;
  std::vector<std::vector<nf_word>> words;
  std::vector<nf_segment> c_segments;
};

namespace {

using nemo_fast::ErrorCode;

thread_local std::string last_error;

nf_status StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return NF_ERROR_INVALID_ARGUMENT;
    case ErrorCode::kInvalidConfig: return NF_ERROR_INVALID_CONFIG;
    case ErrorCode::kModelFileNotFound:
    case ErrorCode::kInvalidModel: return NF_ERROR_MODEL;
    case ErrorCode::kInvalidAudio:
    case ErrorCode::kNonFiniteAudio:
    case ErrorCode::kEmptyAudio:
    case ErrorCode::kSampleRateMismatch: return NF_ERROR_AUDIO;
    case ErrorCode::kInvalidState:
    case ErrorCode::kStreamBusy: return NF_ERROR_STATE;
    case ErrorCode::kOnnxRuntime: return NF_ERROR_RUNTIME;
  }
  return NF_ERROR_OTHER;
}

nf_status Failed(nf_status status, const std::string& message) {
  last_error = message;
  return status;
}

// Runs `body`, turning what it throws into a status and the thread's last error: nothing crosses into C.
template <typename Body>
nf_status Guarded(Body&& body) {
  try {
    body();
    return NF_OK;
  } catch (const nemo_fast::Error& e) {
    return Failed(StatusOf(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return Failed(NF_ERROR_OTHER, "out of memory");
  } catch (const std::exception& e) {
    return Failed(NF_ERROR_OTHER, e.what());
  }
}

nf_status NullArgument(const char* what) { return Failed(NF_ERROR_INVALID_ARGUMENT, std::string(what) + " is null"); }

// Whether a struct the caller sized holds the field ending at `end` bytes.
bool Holds(size_t struct_size, size_t end) { return struct_size >= end; }

#define NF_HOLDS(s, field) \
  Holds((s)->struct_size, offsetof(std::remove_pointer_t<decltype(s)>, field) + sizeof((s)->field))

nemo_fast::RecognizerConfig ConfigOf(const nf_model_options& o) {
  nemo_fast::RecognizerConfig config;
  if (NF_HOLDS(&o, decoder) && o.decoder != nullptr) config.decoder = o.decoder;
  if (NF_HOLDS(&o, num_threads)) config.session.intra_op_threads = o.num_threads;
  if (NF_HOLDS(&o, decoding)) {
    switch (o.decoding) {
      case NF_DECODING_MODEL_DEFAULT: config.decoding.method = nemo_fast::DecodingMethod::kModelDefault; break;
      case NF_DECODING_GREEDY: config.decoding.method = nemo_fast::DecodingMethod::kGreedy; break;
      case NF_DECODING_BEAM: config.decoding.method = nemo_fast::DecodingMethod::kBeam; break;
      default:
        nemo_fast::Fail(ErrorCode::kInvalidConfig, "decoding must be NF_DECODING_MODEL_DEFAULT, _GREEDY or _BEAM, not ",
                        static_cast<int>(o.decoding));
    }
  }
  if (NF_HOLDS(&o, beam_size) && o.beam_size != 0) config.decoding.beam_size = o.beam_size;
  if (NF_HOLDS(&o, lm_path) && o.lm_path != nullptr) config.decoding.lm_path = std::string(o.lm_path);
  if (NF_HOLDS(&o, lm_weight) && !std::isnan(o.lm_weight)) config.decoding.lm_weight = o.lm_weight;
  if (NF_HOLDS(&o, word_bonus) && !std::isnan(o.word_bonus)) config.decoding.word_bonus = o.word_bonus;
  if (NF_HOLDS(&o, hotwords_file) && o.hotwords_file != nullptr && *o.hotwords_file != '\0') {
    config.decoding.hotwords = nemo_fast::ReadHotwordsFile(o.hotwords_file);
  }
  if (NF_HOLDS(&o, endpoints)) config.endpoint.enabled = o.endpoints != 0;
  return config;
}

}  // namespace

extern "C" {

int nf_c_api_version(void) { return NF_C_API_VERSION; }

const char* nf_last_error(void) { return last_error.c_str(); }

nf_status nf_load_onnxruntime(const char* library_path) {
  if (library_path == nullptr) return NullArgument("library_path");
  return Guarded([&] { nemo_fast::LoadOnnxRuntime(library_path); });
}

void nf_model_options_init(nf_model_options* options) {
  if (options == nullptr) return;
  *options = nf_model_options{};
  options->struct_size = sizeof(nf_model_options);
  options->num_threads = 1;
  options->decoding = NF_DECODING_MODEL_DEFAULT;
  options->lm_weight = NAN;
  options->word_bonus = NAN;
  options->endpoints = 1;
}

nf_status nf_model_create(const char* model_dir, const nf_model_options* options, nf_model** model) {
  if (model == nullptr) return NullArgument("model (the handle's address)");
  *model = nullptr;
  if (model_dir == nullptr) return NullArgument("model_dir");
  nf_model_options defaults;
  nf_model_options_init(&defaults);
  if (options != nullptr && options->struct_size < offsetof(nf_model_options, decoder)) {
    return Failed(NF_ERROR_INVALID_ARGUMENT, "nf_model_options.struct_size is not set (sizeof(nf_model_options))");
  }
  return Guarded([&] {
    auto created = std::make_unique<nf_model>();
    created->recognizer =
        std::make_unique<nemo_fast::Recognizer>(model_dir, ConfigOf(options != nullptr ? *options : defaults));
    created->decoding = nemo_fast::DecodingMethodName(created->recognizer->config().decoding.method);
    *model = created.release();
  });
}

void nf_model_destroy(nf_model* model) { delete model; }

int nf_model_sample_rate(const nf_model* model) {
  return model == nullptr ? 0 : model->recognizer->spec().features.sample_rate;
}

const char* nf_model_decoder(const nf_model* model) {
  return model == nullptr ? "" : model->recognizer->decoder().c_str();
}

const char* nf_model_decoding(const nf_model* model) { return model == nullptr ? "" : model->decoding.c_str(); }

nf_status nf_stream_create(const nf_model* model, nf_stream** stream) {
  if (stream == nullptr) return NullArgument("stream (the handle's address)");
  *stream = nullptr;
  if (model == nullptr) return NullArgument("model");
  return Guarded([&] {
    auto created = std::make_unique<nf_stream>();
    created->model = model;
    created->stream = model->recognizer->CreateStream();
    *stream = created.release();
  });
}

void nf_stream_destroy(nf_stream* stream) { delete stream; }

nf_status nf_stream_accept_waveform_only(nf_stream* stream, const float* samples, size_t count, int sample_rate) {
  if (stream == nullptr) return NullArgument("stream");
  if (samples == nullptr && count > 0) return NullArgument("samples");
  return Guarded([&] { stream->stream->AcceptWaveform(nemo_fast::SampleView::Float32(samples, count), sample_rate); });
}

nf_status nf_stream_accept_waveform(nf_stream* stream, const float* samples, size_t count, int sample_rate) {
  const nf_status accepted = nf_stream_accept_waveform_only(stream, samples, count, sample_rate);
  if (accepted != NF_OK) return accepted;
  return Guarded([&] { stream->model->recognizer->DecodeStreams({stream->stream.get()}); });
}

nf_status nf_stream_input_finished(nf_stream* stream) {
  if (stream == nullptr) return NullArgument("stream");
  return Guarded([&] {
    stream->stream->InputFinished();
    stream->model->recognizer->DecodeStreams({stream->stream.get()});
  });
}

nf_status nf_stream_reset(nf_stream* stream) {
  if (stream == nullptr) return NullArgument("stream");
  return Guarded([&] { stream->stream->Reset(); });
}

nf_status nf_stream_get_result(nf_stream* stream, nf_result* result) {
  if (stream == nullptr) return NullArgument("stream");
  if (result == nullptr) return NullArgument("result");
  if (result->struct_size < offsetof(nf_result, text) + sizeof(result->text)) {
    return Failed(NF_ERROR_INVALID_ARGUMENT, "nf_result.struct_size is not set (sizeof(nf_result))");
  }
  return Guarded([&] {
    stream->result = stream->stream->Result();
    stream->segments = stream->stream->Segments();
    stream->words.assign(stream->segments.size(), {});
    stream->c_segments.clear();
    for (size_t i = 0; i < stream->segments.size(); ++i) {
      const nemo_fast::Segment& s = stream->segments[i];
      for (const nemo_fast::Word& w : s.words) {
        stream->words[i].push_back({w.text.c_str(), w.start_seconds, w.end_seconds, w.confidence});
      }
      stream->c_segments.push_back({s.text.c_str(), s.start_seconds, s.end_seconds, s.final ? 1 : 0,
                                    stream->words[i].size(), stream->words[i].data()});
    }
    const nemo_fast::RecognitionResult& r = stream->result;
    nf_result filled{};
    filled.struct_size = result->struct_size;
    filled.text = r.text.c_str();
    filled.num_tokens = r.token_ids.size();
    filled.token_ids = r.token_ids.data();
    filled.token_times_seconds = r.token_times_seconds.data();
    filled.token_confidences = r.token_confidences.data();
    filled.num_segments = stream->c_segments.size();
    filled.segments = stream->c_segments.data();
    std::memcpy(result, &filled, std::min(result->struct_size, sizeof(nf_result)));
  });
}

nf_status nf_decode_streams(const nf_model* model, nf_stream* const* streams, size_t count) {
  if (model == nullptr) return NullArgument("model");
  if (streams == nullptr && count > 0) return NullArgument("streams");
  std::vector<nemo_fast::RecognizerStream*> inner;
  for (size_t i = 0; i < count; ++i) {
    if (streams[i] == nullptr) return NullArgument("a stream");
    if (streams[i]->model != model) {
      return Failed(NF_ERROR_INVALID_ARGUMENT, "nf_decode_streams: a stream of another model");
    }
    inner.push_back(streams[i]->stream.get());
  }
  return Guarded([&] { model->recognizer->DecodeStreams(inner); });
}

}  // extern "C"
