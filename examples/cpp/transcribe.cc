// transcribe LIBONNXRUNTIME MODEL_DIR FILE.wav: streams a 16-bit PCM mono WAV file through a model in 0.1 s
// pieces, as audio from a microphone would arrive; prints the transcript, then each word as "START END WORD"
// (seconds).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nemo_fast/nemo_fast.h"

namespace {

// The samples of a canonical 16-bit PCM mono WAV file, scaled to [-1, 1].
std::vector<float> ReadWav(const std::string& path, int* sample_rate) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  auto u16 = [&](size_t at) {
    uint16_t v;
    std::memcpy(&v, bytes.data() + at, 2);
    return v;
  };
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 || std::memcmp(bytes.data() + 8, "WAVE", 4)) {
    throw std::runtime_error(path + " is not a WAV file");
  }
  std::vector<float> samples;
  for (size_t at = 12; at + 8 <= bytes.size();) {
    const uint32_t size = u32(at + 4);
    if (std::memcmp(bytes.data() + at, "fmt ", 4) == 0) {
      if (u16(at + 8) != 1 || u16(at + 10) != 1 || u16(at + 22) != 16) {
        throw std::runtime_error(path + ": only 16-bit PCM mono is read by this example");
      }
      *sample_rate = static_cast<int>(u32(at + 12));
    } else if (std::memcmp(bytes.data() + at, "data", 4) == 0) {
      const size_t count = std::min<size_t>(size, bytes.size() - at - 8) / 2;
      for (size_t i = 0; i < count; ++i) samples.push_back(static_cast<int16_t>(u16(at + 8 + 2 * i)) / 32768.0f);
    }
    at += 8 + size + (size & 1);
  }
  return samples;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LIBONNXRUNTIME MODEL_DIR FILE.wav\n", argv[0]);
    return 2;
  }
  nemo_fast::LoadOnnxRuntime(argv[1]);
  const nemo_fast::Model model(argv[2]);
  int rate = 0;
  const std::vector<float> audio = ReadWav(argv[3], &rate);
  auto stream = model.CreateStream();
  const size_t piece = static_cast<size_t>(rate) / 10;
  for (size_t start = 0; start < audio.size(); start += piece) {
    stream->AcceptWaveform(audio.data() + start, std::min(piece, audio.size() - start), rate);
  }
  stream->InputFinished();
  const nemo_fast::TranscriptionResult result = stream->GetResult();
  std::printf("%s\n", result.text.c_str());
  for (const auto& segment : result.segments) {
    for (const auto& word : segment.words) {
      std::printf("%.3f %.3f %s\n", word.start_seconds, word.end_seconds, word.text.c_str());
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
