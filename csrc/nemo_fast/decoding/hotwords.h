// Hotwords (contextual biasing): phrases whose recognition a beam search favours. The phrases form an
// Aho-Corasick graph over the text the tokens spell (not over one tokenization of the phrase), so a phrase is
// matched however the model splits it into tokens. A hypothesis earns its phrase's boost a character at a time
// while its text follows the phrase, loses what it earned when the text leaves the phrase, keeps it when the
// phrase completes, and loses an unfinished match at the end of the input: partial matches are never rewarded
// in a final result.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "nemo_fast/decoding/token_words.h"

namespace nemo_fast {

struct Hotword {
  std::string phrase;
  float boost = 0.0f;  // added to a hypothesis's log-score when it holds the whole phrase; <= 0: the default
};

class HotwordGraph {
 public:
  // Phrases are matched at word starts, in the casing the vocabulary has (lower-cased when it has no capitals,
  // upper-cased when it has no lower-case letters). Throws kInvalidConfig naming a phrase that is empty or holds
  // a character no token spells.
  HotwordGraph(const std::vector<Hotword>& hotwords, float default_boost, const TokenWords& words);

  static constexpr int kRoot = 0;
  // Moves the state over the text `surface` and returns the change of the hypothesis's hotword score.
  float Advance(int* state, const std::string& surface) const;
  // The score an unfinished match at `state` has earned (taken back at the end).
  float Pending(int state) const { return nodes_[state].earned; }
  size_t num_phrases() const { return num_phrases_; }
  // Whether a word of some phrase is `word` / begins with `letters` (the language model does not penalize
  // them as unknown: hotwords are often words it has never seen).
  bool HasWord(const std::string& word) const { return words_.count(word) > 0; }
  bool HasWordPrefix(const std::string& letters) const { return word_prefixes_.count(letters) > 0; }

 private:
  struct Node {
    std::map<unsigned char, int> next;
    int fail = kRoot;
    float earned = 0.0f;     // boost earned on the way from the root
    bool completes = false;  // a phrase ends here (or at a node of its fail chain)
  };
  float Step(int* state, unsigned char c) const;

  std::vector<Node> nodes_;
  size_t num_phrases_ = 0;
  std::unordered_set<std::string> words_, word_prefixes_;
};

// Reads a hotwords file: one phrase per line, optionally followed by " :BOOST" (as sherpa-onnx's files); blank
// lines and lines starting with '#' are skipped. Throws kModelFileNotFound / kInvalidConfig naming the line.
std::vector<Hotword> ReadHotwordsFile(const std::string& path);

}  // namespace nemo_fast
