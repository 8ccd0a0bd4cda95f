#include "nemo_fast/decoding/hotwords.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <queue>
#include <set>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/utf8.h"

namespace nemo_fast {
namespace {

std::string Trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Runs of white space become one space.
std::string CollapseSpaces(const std::string& s) {
  std::string out;
  for (char c : Trim(s)) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && !out.empty() && out.back() == ' ') continue;
    out += space ? ' ' : c;
  }
  return out;
}

// The characters of text, each as its UTF-8 bytes.
std::vector<std::string> Characters(const std::string& text) {
  const std::string valid = RepairUtf8(text);
  std::vector<std::string> characters;
  for (size_t i = 0; i < valid.size();) {
    const size_t length = Utf8SequenceLength(static_cast<unsigned char>(valid[i]));
    characters.push_back(valid.substr(i, length));
    i += length;
  }
  return characters;
}

}  // namespace

HotwordGraph::HotwordGraph(const std::vector<Hotword>& hotwords, float default_boost, const TokenWords& words) {
  nodes_.emplace_back();
  // What the vocabulary can spell.
  std::set<std::string> spelled;
  bool has_upper = false, has_lower = false;
  for (int id = 0; id < words.vocabulary().size(); ++id) {
    if (id == words.blank_id()) continue;
    for (const std::string& character : Characters(words.surface(id))) {
      spelled.insert(character);
      has_upper |= std::isupper(static_cast<unsigned char>(character[0])) != 0;
      has_lower |= std::islower(static_cast<unsigned char>(character[0])) != 0;
    }
  }
  for (const Hotword& hotword : hotwords) {
    std::string phrase = CollapseSpaces(hotword.phrase);
    if (phrase.empty()) Fail(ErrorCode::kInvalidConfig, "hotword '", hotword.phrase, "' is empty");
    for (char& c : phrase) {
      if (!has_upper) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!has_lower) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (const std::string& character : Characters(phrase)) {
      if (character != " " && spelled.count(character) == 0) {
        Fail(ErrorCode::kInvalidConfig, "hotword '", hotword.phrase, "' holds '", character,
             "', which no token of the model spells");
      }
    }
    for (size_t start = 0; start < phrase.size();) {
      size_t end = phrase.find(' ', start);
      if (end == std::string::npos) end = phrase.size();
      const std::string word = phrase.substr(start, end - start);
      words_.insert(word);
      for (size_t length = 1; length <= word.size(); ++length) word_prefixes_.insert(word.substr(0, length));
      start = end + 1;
    }
    if (!std::isfinite(hotword.boost) || hotword.boost < 0.0f) {
      Fail(ErrorCode::kInvalidConfig, "hotword '", hotword.phrase,
           "': its boost must be a finite positive number, not ", hotword.boost);
    }
    const float boost = hotword.boost > 0.0f ? hotword.boost : default_boost;  // 0: none of its own
    const std::string text = " " + phrase;                                     // matched at a word start
    const float per_byte = boost / static_cast<float>(text.size());
    int node = kRoot;
    for (unsigned char c : text) {
      auto found = nodes_[node].next.find(c);
      int child;
      if (found == nodes_[node].next.end()) {
        child = static_cast<int>(nodes_.size());
        nodes_[node].next.emplace(c, child);
        Node created;
        created.earned = nodes_[node].earned + per_byte;
        nodes_.push_back(created);
      } else {
        child = found->second;
        nodes_[child].earned = std::max(nodes_[child].earned, nodes_[node].earned + per_byte);
      }
      node = child;
    }
    nodes_[node].completes = true;
    ++num_phrases_;
  }
  // Fail links, breadth first.
  std::queue<int> pending;
  for (const auto& [c, child] : nodes_[kRoot].next) pending.push(child);
  while (!pending.empty()) {
    const int node = pending.front();
    pending.pop();
    for (const auto& [c, child] : nodes_[node].next) {
      int fail = nodes_[node].fail;
      while (fail != kRoot && nodes_[fail].next.count(c) == 0) fail = nodes_[fail].fail;
      auto found = nodes_[fail].next.find(c);
      nodes_[child].fail = found != nodes_[fail].next.end() && found->second != child ? found->second : kRoot;
      nodes_[child].completes |= nodes_[nodes_[child].fail].completes;
      pending.push(child);
    }
  }
}

float HotwordGraph::Step(int* state, unsigned char c) const {
  int node = *state;
  while (node != kRoot && nodes_[node].next.count(c) == 0) node = nodes_[node].fail;
  auto found = nodes_[node].next.find(c);
  const int next = found == nodes_[node].next.end() ? kRoot : found->second;
  const float change = nodes_[next].earned - nodes_[*state].earned;
  // A completed phrase keeps its boost: matching starts over from the root.
  *state = nodes_[next].completes ? kRoot : next;
  return change;
}

float HotwordGraph::Advance(int* state, const std::string& surface) const {
  float change = 0.0f;
  for (unsigned char c : surface) change += Step(state, c);
  return change;
}

std::vector<Hotword> ReadHotwordsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail(ErrorCode::kModelFileNotFound, "hotwords file not found: ", path);
  std::vector<Hotword> hotwords;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (RepairUtf8(line) != line) Fail(ErrorCode::kInvalidConfig, path, ":", number, ": not UTF-8 text");
    Hotword hotword;
    const size_t colon = line.rfind(" :");
    if (colon != std::string::npos) {
      const std::string value = Trim(line.substr(colon + 2));
      char* end = nullptr;
      hotword.boost = std::strtof(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || !(hotword.boost > 0.0f) ||
          !std::isfinite(hotword.boost)) {
        Fail(ErrorCode::kInvalidConfig, path, ":", number, ": the boost after ' :' must be a positive number, not '",
             value, "'");
      }
      line = Trim(line.substr(0, colon));
    }
    hotword.phrase = line;
    hotwords.push_back(hotword);
  }
  return hotwords;
}

}  // namespace nemo_fast
