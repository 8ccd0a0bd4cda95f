// Token strings of a model (SentencePiece pieces or characters) and their conversion to text.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace nemo_fast {

class Vocabulary {
 public:
  enum class Type { kSentencePiece, kCharacters };

  // Reads a tokens file (one token per line, line i is token id i; the blank's line is a placeholder).
  static Vocabulary FromFile(const std::string& path, Type type, int expected_size);
  Vocabulary(std::vector<std::string> tokens, Type type);

  int size() const { return static_cast<int>(tokens_.size()); }
  const std::string& token(int id) const { return tokens_.at(static_cast<size_t>(id)); }
  Type type() const { return type_; }

  // Text of a token sequence, always valid UTF-8: SentencePiece pieces join with U+2581 as a space (leading
  // space dropped, <0xNN> byte pieces decoded); characters simply join. Bytes that form no character become
  // U+FFFD, except that a partial result (final = false) holds back a character whose bytes are still coming.
  // As NeMo's transcripts, one white-space character before each punctuation mark of the vocabulary is
  // removed (NeMo's decode_tokens_to_str_with_strip_punctuation); `raw` keeps it (NeMo's word texts).
  std::string Detokenize(const std::vector<int>& ids, bool final = true, bool raw = false) const;
  // Whether a character is one of the vocabulary's punctuation marks: NeMo's extract_punctuation_from_vocab,
  // the Unicode punctuation (P*) in tokens that are not special ([...], <...>, ##..., ▁..., blank).
  bool IsPunctuation(char32_t code_point) const { return punctuation_.count(code_point) > 0; }
  bool has_punctuation() const { return !punctuation_.empty(); }
  // The raw bytes of one token appended to *bytes; *at_start carries SentencePiece's leading-space rule.
  void AppendBytes(int id, bool* at_start, std::string* bytes) const;

 private:
  std::vector<std::string> tokens_;
  Type type_;
  std::set<char32_t> punctuation_;
};

// The text of a growing token sequence, built as tokens arrive: each call costs in proportion to the new
// tokens, not to the text so far (a live caption asks for the text after every piece of audio).
class IncrementalText {
 public:
  explicit IncrementalText(const Vocabulary& vocabulary, bool raw = false) : vocabulary_(vocabulary), raw_(raw) {}
  void Append(const int* ids, size_t count);
  // Valid UTF-8, as Vocabulary::Detokenize: without an unfinished last character, or (final) with it as U+FFFD.
  std::string Text(bool final) const;
  void Reset();

 private:
  const Vocabulary& vocabulary_;
  bool raw_;  // keep the white space before punctuation
  bool at_start_ = true;
  std::string complete_;  // repaired text of every byte but an unfinished last character
  std::string pending_;   // the bytes of that character so far
};

}  // namespace nemo_fast
