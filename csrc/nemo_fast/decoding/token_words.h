// How each token of a vocabulary builds words, for decoders that score words (language models) or text
// (hotwords) while they search: whether it starts a word, its letters without word-boundary marks, and the
// text it adds. Word boundaries follow pyctcdecode's reading of a vocabulary: a SentencePiece piece starting
// with "▁" starts a word; in a character vocabulary the space token ends one; <unk> is a word of its own ("⁇").
#pragma once

#include <string>
#include <vector>

#include "nemo_fast/decoding/vocabulary.h"

namespace nemo_fast {

class TokenWords {
 public:
  TokenWords(const Vocabulary& vocabulary, int blank_id);

  int blank_id() const { return blank_id_; }
  bool starts_word(int id) const { return info_[id].starts_word; }
  bool ends_word(int id) const { return info_[id].ends_word; }  // the next token starts a new word
  const std::string& letters(int id) const { return info_[id].letters; }
  // The text the token adds, a word boundary as one space (" the" for "▁the").
  const std::string& surface(int id) const { return info_[id].surface; }
  const Vocabulary& vocabulary() const { return vocabulary_; }

 private:
  struct Info {
    bool starts_word = false;
    bool ends_word = false;
    std::string letters;
    std::string surface;
  };
  const Vocabulary& vocabulary_;
  int blank_id_;
  std::vector<Info> info_;
};

}  // namespace nemo_fast
