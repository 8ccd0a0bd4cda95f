// Words with times and confidences from decoded tokens, computed as NeMo computes them for
// `transcribe(..., timestamps=True)` and its confidence estimation, so that nemo_fast and NeMo agree frame for
// frame:
// - token offsets (NeMo's char offsets), in output frames:
//     CTC: from the onset of the token before (one frame before its own onset for the first token) to its
//          own onset; a token whose text starts with a punctuation mark ends where it starts;
//     RNN-T: its frame to the next; TDT: its frame plus its predicted duration, a punctuation token placed,
//          with no length, at the end of the token before;
// - words (get_words_offsets): a SentencePiece piece with a word-boundary mark, or a space character in a
//   character vocabulary (unless the next visible token is punctuation), starts a word; punctuation joins the
//   word before it; a word runs from its first token's start to its last token's end;
// - a word's confidence: the least of its tokens' confidences (ConfidenceConfig's aggregation "min");
// - besides NeMo's start, a word's onset: the frame its first token was emitted at (for CTC, NeMo's start is
//   the onset of the token before, so a word after a pause starts before the pause).
// NeMo also lists an empty word for a lone "▁" piece followed by a piece that starts a word; nemo_fast leaves
// such empty words out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nemo_fast/decoding/vocabulary.h"

namespace nemo_fast {

enum class TokenTiming { kCtc, kRnnt, kTdt };

struct TokenSpan {
  int64_t start_frame = 0;
  int64_t end_frame = 0;
};

struct Word {
  std::string text;
  int64_t start_frame = 0;  // NeMo's start_offset, in output frames
  int64_t end_frame = 0;    // NeMo's end_offset
  int64_t onset_frame = 0;  // the frame its first token was emitted at
  float confidence = 0.0f;
  double start_seconds = 0.0;  // the frames in seconds of the stream (set by the stream)
  double end_seconds = 0.0;
  double onset_seconds = 0.0;
};

// Decoded tokens, as parallel arrays of `size` entries (durations: TDT only, may be null otherwise).
struct DecodedTokens {
  const int* ids = nullptr;
  const int64_t* frames = nullptr;
  const int* durations = nullptr;
  const float* confidences = nullptr;
  size_t size = 0;
};

class WordBuilder {
 public:
  WordBuilder(const Vocabulary& vocabulary, TokenTiming timing);

  // The spans of the tokens. `before`: the raw frame and the span of the token before them in the stream
  // (earlier tokens taken away with finished segments), or null at the stream's start.
  std::vector<TokenSpan> Spans(const DecodedTokens& tokens, const int64_t* frame_before,
                               const TokenSpan* span_before) const;
  std::vector<Word> Words(const DecodedTokens& tokens, const std::vector<TokenSpan>& spans) const;

 private:
  struct TokenTraits {
    std::string text;  // the token decoded alone (SentencePiece: without its word-boundary mark)
    bool starts_word = false;
    bool is_space = false;        // text is " "
    bool is_punctuation = false;  // text is one punctuation mark of the vocabulary
    bool starts_with_punctuation = false;
    bool is_boundary_mark = false;  // the token is " ", "_" or "▁" (dropped before joining punctuation)
  };

  const Vocabulary& vocabulary_;
  TokenTiming timing_;
  std::vector<TokenTraits> traits_;  // by token id
};

}  // namespace nemo_fast
