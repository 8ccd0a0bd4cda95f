// Per-frame confidence as NeMo's default ConfidenceMethodConfig computes it: Tsallis entropy with alpha 0.33,
// mapped to [0, 1] by the exponential normalization ("entropy_tsallis_exp"). 1 for a one-hot distribution,
// 0 for a uniform one.
#pragma once

#include <cmath>

namespace nemo_fast {

class TsallisConfidence {
 public:
  static constexpr double kAlpha = 0.33;

  explicit TsallisConfidence(int num_classes)
      : floor_(std::exp((1.0 - std::pow(static_cast<double>(num_classes), 1.0 - kAlpha)) / (1.0 - kAlpha))) {}

  // log_probs: a normalized log-distribution over num_classes (blank included).
  float operator()(const float* log_probs, int num_classes) const {
    double sum = 0.0;  // sum_i p_i^alpha; -inf and NaN count as probability 0, as NeMo's nan_to_num
    for (int i = 0; i < num_classes; ++i) {
      const float x = log_probs[i];
      if (x == x) sum += std::exp(kAlpha * static_cast<double>(x));
    }
    return static_cast<float>((std::exp((1.0 - sum) / (1.0 - kAlpha)) - floor_) / (1.0 - floor_));
  }

 private:
  double floor_;  // the exponential of the negated maximum entropy (a uniform distribution)
};

}  // namespace nemo_fast
