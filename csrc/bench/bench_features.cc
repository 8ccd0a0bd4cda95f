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

#include "nemo_fast/features/improved_fbank.h"

namespace {

std::vector<float> SyntheticAudio(std::size_t n, int sample_rate) {
  // A few drifting harmonics under an amplitude envelope, plus a noise floor: speech-like dynamic range.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1e-3f);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / sample_rate;
    const double f0 = 120.0 + 30.0 * std::sin(2.0 * M_PI * 0.5 * t);
    const double envelope = 0.5 * (1.0 + std::sin(2.0 * M_PI * 3.0 * t));
    double v = 0.0;
    for (int h = 1; h <= 8; ++h) v += std::sin(2.0 * M_PI * f0 * h * t) / h;
    x[i] = static_cast<float>(0.1 * envelope * v) + noise(rng);
  }
  return x;
}

template <typename F>
double MedianSeconds(int repeats, F&& run) {
  run();  // warm-up
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

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
  std::printf("{\"audio_seconds\": %.1f, \"num_mel_bins\": %d, \"repeats\": %d, "
              "\"whole_x_realtime\": %.0f, \"streaming_10ms_x_realtime\": %.0f}\n",
              seconds, options.num_mel_bins, repeats, seconds / whole, seconds / streaming);
  return 0;
}
