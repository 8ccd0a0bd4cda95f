#include "nemo_fast/decoding/vocabulary.h"

#include <cctype>
#include <cstdlib>
#include <fstream>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/utf8.h"

namespace nemo_fast {
namespace {
const std::string kSpaceMarker = "\xe2\x96\x81";  // U+2581, SentencePiece's word boundary
const std::string kUnknownPiece = "<unk>";
const std::string kUnknownSurface = " \xe2\x81\x87 ";  // SentencePiece's default unk_surface, " U+2047 "

bool IsBytePiece(const std::string& t) { return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>'; }
}  // namespace

Vocabulary::Vocabulary(std::vector<std::string> tokens, Type type) : tokens_(std::move(tokens)), type_(type) {
  for (const std::string& t : tokens_) {
    const bool special =
        (t.size() >= 2 && ((t.front() == '[' && t.back() == ']') || (t.front() == '<' && t.back() == '>'))) ||
        t.compare(0, 2, "##") == 0 || t.compare(0, kSpaceMarker.size(), kSpaceMarker) == 0 ||
        t.find_first_not_of(" \t\n\r\f\v") == std::string::npos;
    if (special) continue;
    for (char32_t cp : CodePoints(RepairUtf8(t))) {
      if (IsUnicodePunctuation(cp)) punctuation_.insert(cp);
    }
  }
}

Vocabulary Vocabulary::FromFile(const std::string& path, Type type, int expected_size) {
  std::ifstream in(path);
  if (!in) Fail(ErrorCode::kModelFileNotFound, "tokens file not found: ", path);
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  if (static_cast<int>(tokens.size()) != expected_size) {
    Fail(ErrorCode::kInvalidModel, "tokens file ", path, " has ", tokens.size(), " tokens but the model has ",
         expected_size, " output classes; the files do not belong together");
  }
  return Vocabulary(std::move(tokens), type);
}

// SentencePiece's decoding: "▁" is a space, except that one leading "▁" of each piece is dropped until
// the text has a visible character (the dummy prefix); the unknown piece reads " ⁇ ".
void Vocabulary::AppendBytes(int id, bool* at_start, std::string* bytes) const {
  const std::string& t = token(id);
  if (type_ == Type::kCharacters) {
    *bytes += t;
    return;
  }
  if (t == kUnknownPiece) {
    *bytes += kUnknownSurface;
    *at_start = false;
    return;
  }
  if (IsBytePiece(t)) {
    *bytes += static_cast<char>(std::strtol(t.substr(3, 2).c_str(), nullptr, 16));
    *at_start = false;
    return;
  }
  size_t pos = 0;
  if (*at_start && t.compare(0, kSpaceMarker.size(), kSpaceMarker) == 0) pos = kSpaceMarker.size();
  if (pos < t.size()) *at_start = false;
  while (pos < t.size()) {
    if (t.compare(pos, kSpaceMarker.size(), kSpaceMarker) == 0) {
      *bytes += ' ';
      pos += kSpaceMarker.size();
    } else {
      *bytes += t[pos++];
    }
  }
}

std::string Vocabulary::Detokenize(const std::vector<int>& ids, bool final, bool raw) const {
  IncrementalText text(*this, raw);
  text.Append(ids.data(), ids.size());
  return text.Text(final);
}

void IncrementalText::Append(const int* ids, size_t count) {
  for (size_t i = 0; i < count; ++i) vocabulary_.AppendBytes(ids[i], &at_start_, &pending_);
  const size_t old_size = complete_.size();
  pending_.erase(0, AppendRepairedUtf8(pending_, &complete_));
  if (raw_ || !vocabulary_.has_punctuation() || complete_.size() == old_size) return;
  // Drop one white-space character before each punctuation mark in the new text (and at its seam with the old).
  const size_t from = old_size > 0 ? old_size - 1 : 0;
  std::string kept;
  size_t at = from;
  while (at < complete_.size()) {
    const size_t length = Utf8SequenceLength(static_cast<unsigned char>(complete_[at]));
    const bool space = length == 1 && std::isspace(static_cast<unsigned char>(complete_[at]));
    if (space && at + 1 < complete_.size()) {
      const size_t next = Utf8SequenceLength(static_cast<unsigned char>(complete_[at + 1]));
      const std::u32string cp = CodePoints(complete_.substr(at + 1, next));
      if (!cp.empty() && vocabulary_.IsPunctuation(cp[0])) {
        at += 1;
        continue;
      }
    }
    kept.append(complete_, at, length);
    at += length;
  }
  complete_.replace(from, std::string::npos, kept);
}

std::string IncrementalText::Text(bool final) const {
  return final && !pending_.empty() ? complete_ + RepairUtf8(pending_) : complete_;
}

void IncrementalText::Reset() {
  at_start_ = true;
  complete_.clear();
  pending_.clear();
}

}  // namespace nemo_fast
