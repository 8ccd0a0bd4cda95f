// Helpers shared by the C++ benchmark programs.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace nemo_fast::bench {

// A few drifting harmonics under an amplitude envelope, plus a noise floor: speech-like dynamic range.
inline std::vector<float> SyntheticAudio(std::size_t n, int sample_rate) {
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

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median wall time of `run` over `repeats` calls, after one warm-up call.
template <typename F>
double MedianSeconds(int repeats, F&& run) {
  run();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return Median(times);
}

}  // namespace nemo_fast::bench
