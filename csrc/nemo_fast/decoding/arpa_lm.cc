#include "nemo_fast/decoding/arpa_lm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

// KenLM's probability of <unk> when the file has none.
constexpr float kMissingUnknownLogProb = -100.0f;

std::vector<std::string> SplitWhitespace(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

// A finite number, all of the text (strtof alone also takes "nan" and "inf", which would poison every score).
bool ParseFiniteFloat(const std::string& text, float* value) {
  char* end = nullptr;
  *value = std::strtof(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(*value);
}

// Digits only, at most 18 of them (no sign, no overflow).
bool ParseCount(const std::string& text, int64_t* value) {
  if (text.empty() || text.size() > 18) return false;
  *value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    *value = *value * 10 + (c - '0');
  }
  return true;
}

// At most this many entries are reserved up front, whatever a header claims: a wrong count is found when the
// section is read, not by an allocation failure.
constexpr int64_t kMaxReserved = 1 << 20;

}  // namespace

std::string ArpaLm::Key(const int32_t* ids, int count) {
  return std::string(reinterpret_cast<const char*>(ids), static_cast<size_t>(count) * sizeof(int32_t));
}

ArpaLm::ArpaLm(const std::string& path) : path_(path) {
  std::ifstream in(path);
  if (!in) Fail(ErrorCode::kModelFileNotFound, "language model not found: ", path);
  std::string line;
  int64_t line_number = 0;
  auto bad = [&](const std::string& why) {
    Fail(ErrorCode::kInvalidModel, path, ":", line_number, ": not an ARPA language model (", why, ")");
  };
  // Header: "\data\" then "ngram N=count" lines.
  bool seen_data = false;
  std::vector<int64_t> counts;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!seen_data) {
      seen_data = line == "\\data\\";  // anything before it is a comment
      continue;
    }
    if (line.empty()) {
      if (!counts.empty()) break;
      continue;
    }
    if (line.compare(0, 6, "ngram ") != 0) bad("expected 'ngram N=count'");
    const size_t eq = line.find('=');
    int64_t n = 0, count = 0;
    if (eq == std::string::npos || !ParseCount(line.substr(6, eq - 6), &n)) bad("expected 'ngram N=count'");
    if (n != static_cast<int64_t>(counts.size()) + 1) bad("n-gram orders out of sequence");
    const std::string count_text = line.substr(eq + 1);
    if (!ParseCount(count_text, &count)) bad("'" + count_text + "' is not a count");
    counts.push_back(count);
  }
  if (!seen_data) bad("no \\data\\ section");
  if (counts.empty()) bad("no n-gram counts");
  order_ = static_cast<int>(counts.size());
  if (order_ > kMaxOrder)
    Fail(ErrorCode::kInvalidModel, path, ": order ", order_, " is above the most supported, ", kMaxOrder);
  ngrams_.resize(order_);
  for (int n = 1; n <= order_; ++n) {
    // Find the section header.
    const std::string header = "\\" + std::to_string(n) + "-grams:";
    while (std::getline(in, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line == header) break;
      if (!line.empty()) bad("expected " + header);
    }
    if (!in) bad("missing " + header);
    ngrams_[n - 1].reserve(static_cast<size_t>(std::min(counts[n - 1], kMaxReserved)));
    int64_t read = 0;
    std::vector<int32_t> ids(n);
    while (std::getline(in, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;
      const std::vector<std::string> fields = SplitWhitespace(line);
      if (static_cast<int>(fields.size()) != n + 1 && static_cast<int>(fields.size()) != n + 2) {
        bad("expected a log10 probability, " + std::to_string(n) + " words and an optional back-off");
      }
      Entry entry;
      if (!ParseFiniteFloat(fields[0], &entry.log_prob)) bad("'" + fields[0] + "' is not a finite number");
      if (entry.log_prob > 0.0f) bad("log10 probability " + fields[0] + " is above 0");
      if (static_cast<int>(fields.size()) == n + 2 && !ParseFiniteFloat(fields[n + 1], &entry.backoff)) {
        bad("'" + fields[n + 1] + "' is not a finite number");
      }
      for (int i = 0; i < n; ++i) {
        const std::string& word = fields[1 + i];
        auto found = words_.find(word);
        if (found == words_.end()) {
          if (n > 1) bad("'" + word + "' is not a unigram");
          found = words_.emplace(word, static_cast<int32_t>(words_.size())).first;
        }
        ids[i] = found->second;
      }
      if (!ngrams_[n - 1].emplace(Key(ids.data(), n), entry).second) {
        std::string words = fields[1];
        for (int i = 1; i < n; ++i) words += " " + fields[1 + i];
        bad("'" + words + "' is listed twice");
      }
      ++read;
    }
    if (read != counts[n - 1]) {
      bad(std::to_string(n) + "-grams: the header counts " + std::to_string(counts[n - 1]) + ", the section has " +
          std::to_string(read));
    }
  }
  auto id_of = [&](const char* word) {
    auto found = words_.find(word);
    return found == words_.end() ? -1 : found->second;
  };
  unknown_ = id_of("<unk>");
  if (unknown_ < 0) {
    unknown_ = static_cast<int32_t>(words_.size());
    words_.emplace("<unk>", unknown_);
    Entry entry;
    entry.log_prob = kMissingUnknownLogProb;
    ngrams_[0][Key(&unknown_, 1)] = entry;
  }
  begin_of_sentence_ = id_of("<s>");
  end_of_sentence_ = id_of("</s>");
  if (begin_of_sentence_ < 0 || end_of_sentence_ < 0) bad("the unigrams lack <s> or </s>");
  for (const auto& [word, id] : words_) {
    if (word == "<s>" || word == "</s>" || word == "<unk>") continue;
    for (size_t end = 1; end <= word.size(); ++end) word_prefixes_.emplace(word.substr(0, end), 0);
  }
}

int32_t ArpaLm::WordId(const std::string& word) const {
  auto found = words_.find(word);
  return found == words_.end() ? unknown_ : found->second;
}

const ArpaLm::Entry* ArpaLm::Find(const int32_t* ids, int count) const {
  const auto& table = ngrams_[count - 1];
  auto found = table.find(Key(ids, count));
  return found == table.end() ? nullptr : &found->second;
}

ArpaLm::State ArpaLm::BeginSentence() const {
  State state;
  if (order_ > 1) {
    state.words[0] = begin_of_sentence_;
    state.size = 1;
  }
  return state;
}

float ArpaLm::Score(const State& state, int32_t word, State* next) const {
  // ids = context then word; the longest n-gram ending in `word` that the model has gives the probability,
  // plus the back-offs of the longer contexts that were not found.
  std::array<int32_t, kMaxOrder> ids{};
  std::copy(state.words.begin(), state.words.begin() + state.size, ids.begin());
  ids[state.size] = word;
  float backoff = 0.0f;
  float log_prob = 0.0f;
  for (int context = state.size;; --context) {
    const int32_t* first = ids.data() + (state.size - context);
    if (const Entry* entry = Find(first, context + 1)) {
      log_prob = entry->log_prob + backoff;
      break;
    }
    if (context == 0) {  // cannot happen: every word id has a unigram
      log_prob = kMissingUnknownLogProb + backoff;
      break;
    }
    if (const Entry* history = Find(first, context)) backoff += history->backoff;
  }
  State after;
  const int keep = std::min(state.size + 1, order_ - 1);
  std::copy(ids.begin() + (state.size + 1 - keep), ids.begin() + state.size + 1, after.words.begin());
  after.size = keep;
  *next = after;
  return log_prob;
}

}  // namespace nemo_fast
