#include "nemo_fast/decoding/words.h"

#include <algorithm>

#include "nemo_fast/common/utf8.h"

namespace nemo_fast {
namespace {

const std::string kSpaceMarker = "\xe2\x96\x81";  // U+2581

}  // namespace

WordBuilder::WordBuilder(const Vocabulary& vocabulary, TokenTiming timing)
    : vocabulary_(vocabulary), timing_(timing), traits_(static_cast<size_t>(vocabulary.size())) {
  for (int id = 0; id < vocabulary.size(); ++id) {
    TokenTraits& traits = traits_[static_cast<size_t>(id)];
    const std::string& piece = vocabulary.token(id);
    traits.text = vocabulary.Detokenize({id}, /*final=*/true, /*raw=*/true);
    const std::u32string code_points = CodePoints(traits.text);
    traits.is_space = traits.text == " ";
    traits.starts_word = vocabulary.type() == Vocabulary::Type::kSentencePiece && piece != traits.text;
    traits.is_punctuation = code_points.size() == 1 && vocabulary.IsPunctuation(code_points[0]);
    traits.starts_with_punctuation = !code_points.empty() && vocabulary.IsPunctuation(code_points[0]);
    traits.is_boundary_mark = piece == " " || piece == "_" || piece == kSpaceMarker;
  }
}

std::vector<TokenSpan> WordBuilder::Spans(const DecodedTokens& tokens, const int64_t* frame_before,
                                          const TokenSpan* span_before) const {
  std::vector<TokenSpan> spans(tokens.size);
  for (size_t i = 0; i < tokens.size; ++i) {
    const TokenTraits& traits = traits_[static_cast<size_t>(tokens.ids[i])];
    const bool has_before = i > 0 || frame_before != nullptr;
    TokenSpan& span = spans[i];
    switch (timing_) {
      case TokenTiming::kCtc: {
        const int64_t onset_before = i > 0 ? tokens.frames[i - 1] : frame_before ? *frame_before : -1;
        span.start_frame = has_before ? onset_before : std::max<int64_t>(0, tokens.frames[i] - 1);
        span.end_frame = has_before && traits.starts_with_punctuation ? span.start_frame : tokens.frames[i];
        break;
      }
      case TokenTiming::kRnnt:
        span.start_frame = tokens.frames[i];
        span.end_frame = tokens.frames[i] + 1;
        break;
      case TokenTiming::kTdt:
        if (has_before && traits.is_punctuation) {
          span.start_frame = span.end_frame = i > 0 ? spans[i - 1].end_frame : span_before->end_frame;
        } else {
          span.start_frame = tokens.frames[i];
          span.end_frame = tokens.frames[i] + tokens.durations[i];
        }
        break;
    }
  }
  return spans;
}

std::vector<Word> WordBuilder::Words(const DecodedTokens& tokens, const std::vector<TokenSpan>& spans) const {
  const size_t n = tokens.size;
  const bool characters = vocabulary_.type() == Vocabulary::Type::kCharacters;
  std::vector<Word> words;
  std::vector<int> built;  // token ids of the word being built
  float built_confidence = 1.0f;
  size_t word_first = 0;  // its first token
  auto finish_word = [&](size_t last) {
    Word word;
    word.text = vocabulary_.Detokenize(built, /*final=*/true, /*raw=*/true);
    word.start_frame = spans[word_first].start_frame;
    word.end_frame = spans[last].end_frame;
    word.onset_frame = tokens.frames[word_first];
    word.confidence = built_confidence;
    words.push_back(word);
  };
  for (size_t i = 0; i < n; ++i) {
    const TokenTraits& traits = traits_[static_cast<size_t>(tokens.ids[i])];
    const float confidence = tokens.confidences[i];
    // The next token with visible text: a space before punctuation does not start a word.
    const TokenTraits* next_visible = nullptr;
    for (size_t j = i + 1; j < n && next_visible == nullptr; ++j) {
      const TokenTraits& next = traits_[static_cast<size_t>(tokens.ids[j])];
      if (!next.text.empty() && !next.is_space) next_visible = &next;
    }
    const bool space_starts_word = traits.is_space && (next_visible == nullptr || !next_visible->is_punctuation);
    const bool starts_word = characters ? space_starts_word : traits.starts_word || space_starts_word;
    if (starts_word && !traits.is_punctuation) {
      if (!built.empty()) finish_word(i - 1);
      built.clear();
      built_confidence = 1.0f;
      if (!traits.is_space) {
        built.push_back(tokens.ids[i]);
        built_confidence = confidence;
        word_first = i;
      }
    } else if (traits.is_punctuation && built.empty() && !words.empty()) {
      Word& last = words.back();
      last.end_frame = spans[i].end_frame;
      if (!last.text.empty() && last.text.back() == ' ') last.text.pop_back();
      last.text += traits.text;
      last.confidence = std::min(last.confidence, confidence);
    } else {
      if (built.empty()) {
        word_first = i;
        built_confidence = confidence;
      } else if (traits.is_punctuation && traits_[static_cast<size_t>(built.back())].is_boundary_mark) {
        built.pop_back();  // the word keeps its start (NeMo's)
      }
      built.push_back(tokens.ids[i]);
      built_confidence = std::min(built_confidence, confidence);
    }
  }
  if (words.empty()) {
    if (!built.empty()) {
      word_first = 0;
      finish_word(n - 1);
    }
  } else {
    words.front().start_frame = spans[0].start_frame;
    if (!built.empty()) finish_word(n - 1);
  }
  words.erase(std::remove_if(words.begin(), words.end(), [](const Word& w) { return w.text.empty(); }), words.end());
  return words;
}

}  // namespace nemo_fast
