#include "nemo_fast/pipeline/decoding_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <locale>
#include <map>
#include <memory>
#include <sstream>

#include "nemo_fast/common/error.h"
#include "nemo_fast/decoding/arpa_lm.h"

namespace nemo_fast {
namespace {

constexpr int kDefaultBeamSize = 8;
constexpr float kDefaultTokenMinLogProb = -5.0f;
constexpr float kDefaultBeamPruneLogProb = -10.0f;
constexpr float kDefaultLmWeight = 0.5f;
constexpr float kDefaultWordBonus = 1.5f;
constexpr float kDefaultHotwordBoost = 8.0f;

struct JsonScalar {
  bool is_string = false;
  std::string text;  // a string's value, or a number as written
  double number = 0.0;
};

// A JSON object whose values are numbers and strings (all decoding.json holds), strictly: anything else is an
// error naming the file and the byte.
class FlatJsonReader {
 public:
  FlatJsonReader(const std::string& path, std::string text) : path_(path), text_(std::move(text)) {}

  std::map<std::string, JsonScalar> Object() {
    std::map<std::string, JsonScalar> out;
    Expect('{');
    if (Peek() == '}') {
      ++at_;
    } else {
      for (;;) {
        const std::string key = String();
        Expect(':');
        if (out.count(key)) Error("the key \"" + key + "\" is given twice");
        out[key] = Scalar();
        if (Peek() == ',') {
          ++at_;
          continue;
        }
        Expect('}');
        break;
      }
    }
    if (Peek() != '\0') Error("text after the object");
    return out;
  }

 private:
  [[noreturn]] void Error(const std::string& what) const {
    Fail(ErrorCode::kInvalidConfig, path_, " is not a JSON object of numbers and strings (", what, " at byte ", at_,
         ")");
  }
  char Peek() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
    return at_ < text_.size() ? text_[at_] : '\0';
  }
  void Expect(char c) {
    if (Peek() != c) Error(std::string("expected '") + c + "'");
    ++at_;
  }
  static void AppendUtf8(uint32_t code, std::string* out) {
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (code >> 18)));
      out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }
  uint32_t Hex4() {
    if (at_ + 4 > text_.size()) Error("a cut \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[at_++];
      code = code * 16 + (c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : (Error("a bad \\u escape"), 0));
    }
    return code;
  }
  std::string String() {
    Expect('"');
    std::string out;
    for (;;) {
      if (at_ >= text_.size()) Error("an unterminated string");
      const char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) Error("a control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_ >= text_.size()) Error("an unterminated string");
      const char e = text_[at_++];
      switch (e) {
        case '"':
        case '\\':
        case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t code = Hex4();
          if (code >= 0xD800 && code < 0xDC00) {  // a surrogate pair
            if (text_.compare(at_, 2, "\\u") != 0) Error("a lone surrogate");
            at_ += 2;
            const uint32_t low = Hex4();
            if (low < 0xDC00 || low >= 0xE000) Error("a lone surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code < 0xE000) {
            Error("a lone surrogate");
          }
          AppendUtf8(code, &out);
          break;
        }
        default: Error("an unknown escape");
      }
    }
  }
  JsonScalar Scalar() {
    JsonScalar value;
    if (Peek() == '"') {
      value.is_string = true;
      value.text = String();
      return value;
    }
    // JSON's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    const size_t start = at_;
    auto digits = [&] {
      const size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ - from;
    };
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    const size_t whole = digits();
    if (whole == 0 || (whole > 1 && text_[at_ - whole] == '0')) Error("a value that is not a number or a string");
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (digits() == 0) Error("a bad number");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (digits() == 0) Error("a bad number");
    }
    value.text = text_.substr(start, at_ - start);
    std::istringstream in(value.text);
    in.imbue(std::locale::classic());
    in >> value.number;
    if (in.fail() || !std::isfinite(value.number)) Error("a number out of range");
    return value;
  }

  const std::string& path_;
  std::string text_;
  size_t at_ = 0;
};

// The settings of DIR/decoding.json (none without the file), each checked for its type.
class ModelDefaults {
 public:
  explicit ModelDefaults(const std::string& model_dir) {
    if (model_dir.empty()) return;
    path_ = model_dir + "/" + kDecodingDefaultsFile;
    std::ifstream in(path_, std::ios::binary);
    if (!in) return;  // greedy models have no file
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    values_ = FlatJsonReader(path_, std::move(text)).Object();
    static const char* const kKnown[] = {"decoding",           "beam_size",          "lm",
                                         "lm_weight",          "word_bonus",         "hotword_boost",
                                         "token_min_log_prob", "beam_prune_log_prob"};
    for (const auto& [key, unused] : values_) {
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
        Fail(ErrorCode::kInvalidConfig, path_, ": unknown key \"", key, "\" (known: beam_prune_log_prob, beam_size, ",
             "decoding, hotword_boost, lm, lm_weight, token_min_log_prob, word_bonus)");
      }
    }
  }

  DecodingMethod method() const {
    const auto found = values_.find("decoding");
    if (found == values_.end()) return DecodingMethod::kGreedy;
    if (found->second.is_string && found->second.text == "beam") return DecodingMethod::kBeam;
    if (found->second.is_string && found->second.text == "greedy") return DecodingMethod::kGreedy;
    Fail(ErrorCode::kInvalidConfig, path_, ": \"decoding\" must be \"greedy\" or \"beam\", not ", found->second.text);
  }
  std::optional<float> Number(const char* key) const {
    const JsonScalar* v = Find(key, false);
    if (v == nullptr) return std::nullopt;
    if (!std::isfinite(static_cast<float>(v->number))) {
      Fail(ErrorCode::kInvalidConfig, path_, ": \"", key, "\" is out of range: ", v->text);
    }
    return static_cast<float>(v->number);
  }
  std::optional<int> Whole(const char* key) const {
    const JsonScalar* v = Find(key, false);
    if (v == nullptr) return std::nullopt;
    if (v->number != std::floor(v->number) || std::fabs(v->number) > 1e9) {
      Fail(ErrorCode::kInvalidConfig, path_, ": \"", key, "\" must be a whole number, not ", v->text);
    }
    return static_cast<int>(v->number);
  }
  // A file named relative to the model folder.
  std::optional<std::string> File(const char* key) const {
    const JsonScalar* v = Find(key, true);
    if (v == nullptr) return std::nullopt;
    if (v->text.empty() || v->text[0] == '/') return v->text;
    return path_.substr(0, path_.size() - std::string(kDecodingDefaultsFile).size()) + v->text;
  }

 private:
  const JsonScalar* Find(const char* key, bool string) const {
    const auto found = values_.find(key);
    if (found == values_.end()) return nullptr;
    if (found->second.is_string != string) {
      Fail(ErrorCode::kInvalidConfig, path_, ": \"", key, "\" must be a ", string ? "string" : "number");
    }
    return &found->second;
  }

  std::string path_;
  std::map<std::string, JsonScalar> values_;
};

template <typename T>
T First(const std::optional<T>& given, const std::optional<T>& model, T otherwise) {
  return given ? *given : model ? *model : otherwise;
}

}  // namespace

const char* DecodingMethodName(DecodingMethod method) {
  switch (method) {
    case DecodingMethod::kGreedy: return "greedy";
    case DecodingMethod::kBeam: return "beam";
    case DecodingMethod::kModelDefault: break;
  }
  return "model_default";
}

DecodingConfig ResolveDecoding(const DecodingConfig& given, const std::string& model_dir) {
  const ModelDefaults file(given.method == DecodingMethod::kGreedy ? std::string() : model_dir);
  DecodingConfig d = given;
  if (d.method == DecodingMethod::kModelDefault) d.method = file.method();
  const bool beam_defaults = d.method == DecodingMethod::kBeam;
  const ModelDefaults none("");
  const ModelDefaults& m = beam_defaults ? file : none;
  d.beam_size = First(given.beam_size, m.Whole("beam_size"), kDefaultBeamSize);
  d.token_min_log_prob = First(given.token_min_log_prob, m.Number("token_min_log_prob"), kDefaultTokenMinLogProb);
  d.beam_prune_log_prob = First(given.beam_prune_log_prob, m.Number("beam_prune_log_prob"), kDefaultBeamPruneLogProb);
  d.lm_path = First(given.lm_path, m.File("lm"), std::string());
  d.lm_weight = First(given.lm_weight, m.Number("lm_weight"), kDefaultLmWeight);
  d.word_bonus = First(given.word_bonus, m.Number("word_bonus"), kDefaultWordBonus);
  d.hotword_boost = First(given.hotword_boost, m.Number("hotword_boost"), kDefaultHotwordBoost);
  return d;
}

std::string DecodingConfig::ToString() const {
  const DecodingConfig d = ResolveDecoding(*this, "");
  std::ostringstream os;
  os << "DecodingConfig(method=" << DecodingMethodName(method);
  if (method != DecodingMethod::kGreedy) {
    os << ", beam_size=" << *d.beam_size << ", token_min_log_prob=" << *d.token_min_log_prob
       << ", beam_prune_log_prob=" << *d.beam_prune_log_prob;
    if (!d.lm_path->empty()) {
      os << ", lm=" << *d.lm_path << ", lm_weight=" << *d.lm_weight << ", word_bonus=" << *d.word_bonus
         << ", unknown_word_penalty=" << unknown_word_penalty;
    }
    if (!hotwords.empty()) os << ", hotwords=" << hotwords.size() << ", hotword_boost=" << *d.hotword_boost;
  }
  os << ")";
  return os.str();
}

BeamSearchOptions MakeBeamSearchOptions(const DecodingConfig& config, const TokenWords& words) {
  const DecodingConfig d = ResolveDecoding(config, "");
  if (*d.beam_size < 1) Fail(ErrorCode::kInvalidConfig, "beam_size must be >= 1, not ", *d.beam_size);
  if (!(*d.beam_prune_log_prob < 0.0f) || !std::isfinite(*d.beam_prune_log_prob)) {
    Fail(ErrorCode::kInvalidConfig, "beam_prune_log_prob must be negative, not ", *d.beam_prune_log_prob);
  }
  if (!(*d.lm_weight >= 0.0f) || !std::isfinite(*d.lm_weight) || !std::isfinite(*d.word_bonus) ||
      !std::isfinite(*d.token_min_log_prob)) {
    Fail(ErrorCode::kInvalidConfig, "lm_weight must be finite and >= 0 and word_bonus, token_min_log_prob finite");
  }
  if (!(*d.hotword_boost > 0.0f) || !std::isfinite(*d.hotword_boost)) {
    Fail(ErrorCode::kInvalidConfig, "hotword_boost must be a finite number > 0, not ", *d.hotword_boost);
  }
  BeamSearchOptions options;
  options.beam_size = *d.beam_size;
  options.token_min_log_prob = *d.token_min_log_prob;
  options.beam_prune_log_prob = *d.beam_prune_log_prob;
  if (!d.lm_path->empty()) options.lm = std::make_shared<const ArpaLm>(*d.lm_path);
  options.lm_weight = *d.lm_weight;
  options.word_bonus = *d.word_bonus;
  options.unknown_word_penalty = d.unknown_word_penalty;
  if (!d.hotwords.empty()) {
    options.hotwords = std::make_shared<const HotwordGraph>(d.hotwords, *d.hotword_boost, words);
  }
  return options;
}

}  // namespace nemo_fast
