/* transcribe LIBONNXRUNTIME MODEL_DIR FILE.wav: streams a 16-bit PCM mono WAV file through a model with the C API
 * in 0.1 s pieces, as audio from a microphone would arrive; prints the transcript, then each word as
 * "START END WORD" (seconds). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemo_fast/c_api.h"

static uint32_t u32(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t u16(const unsigned char* p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The samples of a canonical 16-bit PCM mono WAV file, scaled to [-1, 1]; NULL when it is not one. */
static float* read_wav(const char* path, size_t* count, int* rate) {
  FILE* in = fopen(path, "rb");
  if (in == NULL) return NULL;
  fseek(in, 0, SEEK_END);
  const long size = ftell(in);
  fseek(in, 0, SEEK_SET);
  unsigned char* bytes = malloc(size > 0 ? (size_t)size : 1);
  const size_t got = fread(bytes, 1, size > 0 ? (size_t)size : 0, in);
  fclose(in);
  float* samples = NULL;
  *count = 0;
  *rate = 0;
  if (got < 12 || memcmp(bytes, "RIFF", 4) != 0 || memcmp(bytes + 8, "WAVE", 4) != 0) goto done;
  for (size_t at = 12; at + 8 <= got;) {
    const uint32_t chunk = u32(bytes + at + 4);
    if (memcmp(bytes + at, "fmt ", 4) == 0) {
      if (u16(bytes + at + 8) != 1 || u16(bytes + at + 10) != 1 || u16(bytes + at + 22) != 16) goto done;
      *rate = (int)u32(bytes + at + 12);
    } else if (memcmp(bytes + at, "data", 4) == 0) {
      const size_t n = (chunk < got - at - 8 ? chunk : got - at - 8) / 2;
      samples = malloc((n > 0 ? n : 1) * sizeof(float));
      for (size_t i = 0; i < n; ++i) samples[i] = (int16_t)u16(bytes + at + 8 + 2 * i) / 32768.0f;
      *count = n;
    }
    at += 8 + (size_t)chunk + (chunk & 1);
  }
done:
  free(bytes);
  if (*rate == 0) {
    free(samples);
    return NULL;
  }
  return samples;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s LIBONNXRUNTIME MODEL_DIR FILE.wav\n", argv[0]);
    return 2;
  }
  size_t count = 0;
  int rate = 0;
  float* audio = read_wav(argv[3], &count, &rate);
  if (audio == NULL) {
    fprintf(stderr, "error: %s is not a 16-bit PCM mono WAV file\n", argv[3]);
    return 1;
  }
  nf_model* model = NULL;
  nf_stream* stream = NULL;
  nf_status status = nf_load_onnxruntime(argv[1]);
  if (status == NF_OK) status = nf_model_create(argv[2], NULL, &model);
  if (status == NF_OK) status = nf_stream_create(model, &stream);
  const size_t piece = (size_t)rate / 10;
  for (size_t start = 0; status == NF_OK && start < count; start += piece) {
    status = nf_stream_accept_waveform(stream, audio + start, count - start < piece ? count - start : piece, rate);
  }
  if (status == NF_OK) status = nf_stream_input_finished(stream);
  nf_result result;
  memset(&result, 0, sizeof result);
  result.struct_size = sizeof result;
  if (status == NF_OK) status = nf_stream_get_result(stream, &result);
  if (status == NF_OK) {
    printf("%s\n", result.text);
    for (size_t s = 0; s < result.num_segments; ++s) {
      for (size_t w = 0; w < result.segments[s].num_words; ++w) {
        const nf_word* word = &result.segments[s].words[w];
        printf("%.3f %.3f %s\n", word->start_seconds, word->end_seconds, word->text);
      }
    }
  } else {
    fprintf(stderr, "error (%d): %s\n", (int)status, nf_last_error());
  }
  nf_stream_destroy(stream);
  nf_model_destroy(model);
  free(audio);
  return status == NF_OK ? 0 : 1;
}
