#include "nemo_fast/decoding/token_words.h"

namespace nemo_fast {
namespace {
const std::string kBoundary = "\xe2\x96\x81";     // U+2581
const std::string kUnknownWord = "\xe2\x81\x87";  // U+2047, SentencePiece's surface of <unk>

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

TokenWords::TokenWords(const Vocabulary& vocabulary, int blank_id)
    : vocabulary_(vocabulary), blank_id_(blank_id), info_(vocabulary.size()) {
  for (int id = 0; id < vocabulary.size(); ++id) {
    if (id == blank_id) continue;
    Info& info = info_[id];
    const std::string& token = vocabulary.token(id);
    if (vocabulary.type() == Vocabulary::Type::kCharacters) {
      info.starts_word = info.ends_word = token == " ";
      info.letters = token == " " ? "" : token;
      info.surface = token;
      continue;
    }
    if (token == "<unk>") {
      info.starts_word = info.ends_word = true;
      info.letters = kUnknownWord;
      info.surface = " " + kUnknownWord + " ";
      continue;
    }
    std::string letters = token;
    if (StartsWith(letters, kBoundary)) {
      info.starts_word = true;
      letters.erase(0, kBoundary.size());
    }
    if (EndsWith(letters, kBoundary)) {
      info.ends_word = true;
      letters.erase(letters.size() - kBoundary.size());
    }
    info.letters = letters;
    info.surface = (info.starts_word ? " " : "") + letters + (info.ends_word ? " " : "");
  }
}

}  // namespace nemo_fast
