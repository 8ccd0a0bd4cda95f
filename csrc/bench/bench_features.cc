// Times ImprovedFbank (whole utterance and streaming in 10 ms chunks) on synthetic speech-like audio.
// Usage: bench_features [seconds=600] [repeats=5] [num_mel_bins=80]
// Prints the median x real-time of each mode over the repeats (one thread).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench_common.h"
#include "nemo_fast/features/improved_fbank.h"

using nemo_fast::bench::MedianSeconds;
using nemo_fast::bench::SyntheticAudio;

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 600.0;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  nemo_fast::FbankOptions options;
  options.num_mel_bins = argc > 3 ? std::atoi(argv[3]) : 80;
  const nemo_fast::ImprovedFbank fbank(options);
  const auto audio = SyntheticAudio(static_cast<std::size_t>(seconds * options.sample_rate), options.sample_rate);
  const auto view = nemo_fast::SampleView::Float32(audio.data(), audio.size());

  std::size_t frames = 0;
  const double whole = MedianSeconds(repeats, [&] { frames = fbank.Compute(view).size(); });
  const std::size_t chunk = options.sample_rate / 100;
  const double streaming = MedianSeconds(repeats, [&] {
    auto stream = fbank.CreateStream();
    std::vector<float> out;
    out.reserve(frames);
    for (std::size_t i = 0; i < audio.size(); i += chunk) {
      stream->AcceptWaveform(nemo_fast::SampleView::Float32(audio.data() + i, std::min(chunk, audio.size() - i)), &out);
    }
    stream->InputFinished(&out);
  });
  std::printf(
      "{\"audio_seconds\": %.1f, \"num_mel_bins\": %d, \"repeats\": %d, "
      "\"whole_x_realtime\": %.0f, \"streaming_10ms_x_realtime\": %.0f}\n",
      seconds, options.num_mel_bins, repeats, seconds / whole, seconds / streaming);
  return 0;
}
