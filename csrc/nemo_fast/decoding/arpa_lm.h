// A word n-gram language model read from an ARPA file, queried with Katz back-off: the log10 probabilities
// KenLM's query gives for the same file (KenLM's own binary format is not read). Immutable after loading:
// one model serves every stream and thread.
//
// Why not KenLM as a library: no wheel on PyPI ships its C++ headers or a shared library, building it would
// add Boost to the build, and the query side is small enough to own and test against KenLM's Python module.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace nemo_fast {

class ArpaLm {
 public:
  static constexpr int kMaxOrder = 8;

  // The words before the next one, oldest first (at most order - 1).
  struct State {
    std::array<int32_t, kMaxOrder - 1> words{};
    int size = 0;
  };

  // Throws kModelFileNotFound when the file is missing and kInvalidModel naming the line when it is not ARPA.
  explicit ArpaLm(const std::string& path);

  int order() const { return order_; }
  size_t num_words() const { return words_.size(); }
  const std::string& path() const { return path_; }

  // The id of a word; unknown words map to <unk>'s id (as KenLM's vocabulary).
  int32_t WordId(const std::string& word) const;
  bool Contains(const std::string& word) const { return words_.count(word) > 0 && word != "<unk>"; }
  // Whether `prefix` begins some word of the model other than <s>, </s> and <unk> (or is one).
  bool IsWordPrefix(const std::string& prefix) const { return word_prefixes_.count(prefix) > 0; }

  State BeginSentence() const;  // the context "<s>"
  State NullContext() const { return State(); }
  // log10 p(word | state), and the state after it.
  float Score(const State& state, int32_t word, State* next) const;
  int32_t end_of_sentence() const { return end_of_sentence_; }

 private:
  struct Entry {
    float log_prob = 0.0f;
    float backoff = 0.0f;
  };
  // One n-gram's key: its word ids, each 4 bytes.
  static std::string Key(const int32_t* ids, int count);
  const Entry* Find(const int32_t* ids, int count) const;

  std::string path_;
  int order_ = 0;
  std::unordered_map<std::string, int32_t> words_;
  std::vector<std::unordered_map<std::string, Entry>> ngrams_;  // by order - 1
  std::unordered_map<std::string, char> word_prefixes_;
  int32_t unknown_ = 0;
  int32_t begin_of_sentence_ = -1;
  int32_t end_of_sentence_ = -1;
};

}  // namespace nemo_fast
