/* nemo_fast's C API: NeMo FastConformer speech recognition (cache-aware streaming or whole utterances) on ONNX
 * Runtime, for C and for languages that call C (ctypes, cffi, Go, Rust, C#). Link the installed library
 * (find_package(nemo_fast) -> nemo_fast::c_api, libnemo_fast.so).
 *
 *   nf_load_onnxruntime("/path/to/libonnxruntime.so.1.xx");          once per process
 *   nf_model* model; nf_model_create("model_dir", NULL, &model);     NULL options: the defaults
 *   nf_stream* stream; nf_stream_create(model, &stream);
 *   nf_stream_accept_waveform(stream, samples, n, 16000);            any piece size; decodes what is ready
 *   nf_stream_input_finished(stream);                                flush: every word is in
 *   nf_result result = {0}; result.struct_size = sizeof result;
 *   nf_stream_get_result(stream, &result);                          result.text, .segments[i].words
 *   nf_stream_destroy(stream); nf_model_destroy(model);
 *
 * Every function that can fail returns an nf_status; on failure nf_last_error() gives the message (for the
 * calling thread, until its next failing call). Structs begin with struct_size, which the caller sets to
 * sizeof(struct): a library newer than the program reads and fills only the fields the program knows.
 * Threads: a model is immutable (share it); a stream is used by one thread at a time.
 */
#ifndef NEMO_FAST_C_API_H_
#define NEMO_FAST_C_API_H_

#include <stddef.h>

#if defined(_WIN32)
#define NF_API __declspec(dllexport)
#else
#define NF_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NF_C_API_VERSION 1

typedef enum nf_status {
  NF_OK = 0,
  NF_ERROR_INVALID_ARGUMENT = 1, /* a null handle, a bad piece of audio, a struct_size too small */
  NF_ERROR_INVALID_CONFIG = 2,   /* options out of range, a damaged decoding.json */
  NF_ERROR_MODEL = 3,            /* a model file missing or damaged */
  NF_ERROR_AUDIO = 4,            /* samples that are not finite, a sample rate out of range */
  NF_ERROR_STATE = 5,            /* a stream used after input_finished, or by two threads at once */
  NF_ERROR_RUNTIME = 6,          /* ONNX Runtime not loaded or failing */
  NF_ERROR_OTHER = 7
} nf_status;

typedef enum nf_decoding {
  NF_DECODING_MODEL_DEFAULT = 0, /* the model folder's decoding.json, else greedy */
  NF_DECODING_GREEDY = 1,
  NF_DECODING_BEAM = 2
} nf_decoding;

typedef struct nf_model nf_model;
typedef struct nf_stream nf_stream;

typedef struct nf_model_options {
  size_t struct_size;
  const char* decoder; /* "ctc", "rnnt", "tdt"; NULL or "": the model's default */
  int num_threads;     /* ONNX Runtime intra-op threads of one encoder call (1) */
  nf_decoding decoding;
  /* Beam search settings; 0 / NULL / NaN: the model's decoding.json, else the defaults (docs/decoding.md). */
  int beam_size;
  const char* lm_path; /* an ARPA word n-gram model; "": none */
  float lm_weight;
  float word_bonus;
  const char* hotwords_file; /* one phrase per line, optionally "PHRASE :BOOST"; NULL: none */
  /* Endpoints cut the transcript into segments (NeMo-style rules, docs/usage.md); 0: off, 1: on (the default). */
  int endpoints;
} nf_model_options;

typedef struct nf_word {
  const char* text;
  double start_seconds; /* NeMo's word timestamps */
  double end_seconds;
  float confidence;
} nf_word;

typedef struct nf_segment {
  const char* text;
  double start_seconds;
  double end_seconds;
  int final; /* 1: ended by an endpoint or the end of the input; its text no longer changes */
  size_t num_words;
  const nf_word* words;
} nf_segment;

/* A stream's transcript so far; the pointers stay valid until the next call on the stream (or its destroy). */
typedef struct nf_result {
  size_t struct_size;
  const char* text; /* UTF-8 */
  size_t num_tokens;
  const int* token_ids;
  const double* token_times_seconds;
  const float* token_confidences;
  size_t num_segments;
  const nf_segment* segments;
} nf_result;

NF_API int nf_c_api_version(void);
NF_API const char* nf_last_error(void);

/* Loads ONNX Runtime's shared library (once per process; later calls with the same path do nothing). */
NF_API nf_status nf_load_onnxruntime(const char* library_path);

/* Sets every field to its default (struct_size included). */
NF_API void nf_model_options_init(nf_model_options* options);
NF_API nf_status nf_model_create(const char* model_dir, const nf_model_options* options, nf_model** model);
NF_API void nf_model_destroy(nf_model* model);
NF_API int nf_model_sample_rate(const nf_model* model);
/* The decoder in use ("ctc", "rnnt", "tdt") and the decoding ("greedy", "beam"); owned by the model. */
NF_API const char* nf_model_decoder(const nf_model* model);
NF_API const char* nf_model_decoding(const nf_model* model);

NF_API nf_status nf_stream_create(const nf_model* model, nf_stream** stream);
NF_API void nf_stream_destroy(nf_stream* stream);
/* Mono samples in [-1, 1] at any rate from 1 kHz to 768 kHz (resampled to the model's); decodes every chunk
 * that becomes ready. */
NF_API nf_status nf_stream_accept_waveform(nf_stream* stream, const float* samples, size_t count, int sample_rate);
/* As nf_stream_accept_waveform without decoding; nf_decode_streams decodes many streams in one batch. */
NF_API nf_status nf_stream_accept_waveform_only(nf_stream* stream, const float* samples, size_t count, int sample_rate);
NF_API nf_status nf_stream_input_finished(nf_stream* stream);
NF_API nf_status nf_stream_reset(nf_stream* stream);
NF_API nf_status nf_stream_get_result(nf_stream* stream, nf_result* result);
/* Decodes the ready chunks of these streams of one model, equal chunk shapes in one batched encoder call. */
NF_API nf_status nf_decode_streams(const nf_model* model, nf_stream* const* streams, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* NEMO_FAST_C_API_H_ */
