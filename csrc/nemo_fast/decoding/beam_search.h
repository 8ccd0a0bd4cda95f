// Options of the beam searches and the word-level shallow fusion they share, as pyctcdecode (the library behind
// NeMo's "pyctcdecode" CTC strategy) defines it:
//   score = log P_model(tokens) + lm_weight * ln P_LM(words) + word_bonus * words + partial-word penalty
//           (+ hotword boosts),
// where an out-of-vocabulary word costs unknown_word_penalty (log10 units, under lm_weight) on top of its LM
// probability, and a word still being spelled costs unknown_word_penalty when no LM word begins with it (scaled
// up for words longer than 6 characters). Words of hotwords are exempt from both penalties (the LM gives them
// its <unk> probability). The LM scores a word when the next one starts and at the end of the
// input, followed by </s>.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>

#include "nemo_fast/decoding/arpa_lm.h"
#include "nemo_fast/decoding/hotwords.h"

namespace nemo_fast {

struct BeamSearchOptions {
  int beam_size = 8;
  // CTC: a frame's tokens below this log-prob are not expanded (the frame's best always is).
  float token_min_log_prob = -5.0f;
  // Hypotheses scoring this far below the best are dropped.
  float beam_prune_log_prob = -10.0f;
  std::shared_ptr<const ArpaLm> lm;  // null: no language model
  float lm_weight = 0.5f;
  float word_bonus = 1.5f;
  float unknown_word_penalty = -10.0f;
  std::shared_ptr<const HotwordGraph> hotwords;  // null: none
};

// A well-spread 64-bit hash of `seed` followed by `value` (splitmix64's finalizer over their combination): the
// identity of a hypothesis's token or word sequence, extended one item at a time.
inline uint64_t HashCombine(uint64_t seed, uint64_t value) {
  uint64_t x = seed ^ (value + 0x9E3779B97F4A7C15ULL + (seed << 6) + (seed >> 2));
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// log(exp(a) + exp(b)): the probability of a hypothesis reached two ways.
inline double LogAdd(double a, double b) {
  if (a < b) std::swap(a, b);
  return a + std::log1p(std::exp(b - a));
}

// The LM part of a hypothesis's score.
class WordFusion {
 public:
  explicit WordFusion(const BeamSearchOptions& options) : options_(options) {}

  bool enabled() const { return options_.lm != nullptr; }
  ArpaLm::State Start() const { return options_.lm ? options_.lm->BeginSentence() : ArpaLm::State(); }
  // The fused score of a finished word (empty: only </s> when last), and the LM state after it.
  double WordScore(const ArpaLm::State& state, const std::string& word, bool last, ArpaLm::State* next) const;
  // The penalty of an unfinished word.
  double PartialWordScore(const std::string& letters) const;

 private:
  const BeamSearchOptions& options_;
};

}  // namespace nemo_fast
