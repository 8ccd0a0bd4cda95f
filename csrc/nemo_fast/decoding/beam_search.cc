#include "nemo_fast/decoding/beam_search.h"

#include <cmath>

namespace nemo_fast {
namespace {
constexpr double kLn10 = 2.302585092994046;
constexpr size_t kTypicalWordLength = 6;  // pyctcdecode's AVG_TOKEN_LEN

size_t CountCharacters(const std::string& utf8) {
  size_t count = 0;
  for (unsigned char c : utf8) count += (c & 0xC0) != 0x80;
  return count;
}
}  // namespace

double WordFusion::WordScore(const ArpaLm::State& state, const std::string& word, bool last,
                             ArpaLm::State* next) const {
  const ArpaLm& lm = *options_.lm;
  double log10_prob = 0.0;
  *next = state;
  if (!word.empty()) {
    log10_prob = lm.Score(state, lm.WordId(word), next);
    const bool hotword = options_.hotwords && options_.hotwords->HasWord(word);
    if (!lm.Contains(word) && !hotword) log10_prob += options_.unknown_word_penalty;
  }
  if (last) {
    ArpaLm::State after;
    log10_prob += lm.Score(*next, lm.end_of_sentence(), &after);
  }
  return options_.lm_weight * log10_prob * kLn10 + (word.empty() ? 0.0 : options_.word_bonus);
}

double WordFusion::PartialWordScore(const std::string& letters) const {
  if (letters.empty() || options_.lm->IsWordPrefix(letters)) return 0.0;
  if (options_.hotwords && options_.hotwords->HasWordPrefix(letters)) return 0.0;
  const size_t length = CountCharacters(letters);
  double penalty = options_.unknown_word_penalty;
  if (length > kTypicalWordLength) penalty *= static_cast<double>(length) / kTypicalWordLength;
  return penalty;
}

}  // namespace nemo_fast
