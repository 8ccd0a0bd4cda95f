#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nemo_fast/decoding/confidence.h"
#include "nemo_fast/decoding/ctc_greedy.h"
#include "nemo_fast/decoding/vocabulary.h"

namespace nemo_fast {
namespace {

// One-hot log-prob rows for a frame-wise argmax sequence.
std::vector<float> Rows(const std::vector<int>& best, int vocab) {
  std::vector<float> rows(best.size() * vocab, -10.0f);
  for (size_t t = 0; t < best.size(); ++t) rows[t * vocab + best[t]] = -0.1f;
  return rows;
}

TEST(CtcGreedy, CollapsesRepeatsThenDropsBlanks) {
  const int vocab = 4, blank = 3;
  CtcGreedyDecoder d(blank, vocab);
  auto rows = Rows({3, 1, 1, 3, 1, 2, 2, 3, 3, 0}, vocab);
  d.Accept(rows.data(), 10);
  EXPECT_EQ(d.tokens(), (std::vector<int>{1, 1, 2, 0}));
  EXPECT_EQ(d.token_frames(), (std::vector<int64_t>{1, 4, 5, 9}));
}

TEST(CtcGreedy, StateCarriesAcrossChunks) {
  const int vocab = 4, blank = 3;
  const std::vector<int> best = {1, 1, 1, 3, 2, 2, 1, 1};
  CtcGreedyDecoder whole(blank, vocab), chunked(blank, vocab);
  auto rows = Rows(best, vocab);
  whole.Accept(rows.data(), 8);
  for (int t = 0; t < 8; t += 3) chunked.Accept(rows.data() + t * vocab, std::min(3, 8 - t));
  EXPECT_EQ(chunked.tokens(), whole.tokens());
  EXPECT_EQ(chunked.token_frames(), whole.token_frames());
  EXPECT_EQ(chunked.num_frames(), 8);
}

TEST(CtcGreedy, TiesGoToTheFirstMaximumLikeTorchArgmax) {
  CtcGreedyDecoder d(2, 3);
  std::vector<float> row = {-1.0f, -1.0f, -5.0f};
  d.Accept(row.data(), 1);
  EXPECT_EQ(d.tokens(), (std::vector<int>{0}));
}

TEST(Vocabulary, SentencePieceText) {
  Vocabulary v({"\xe2\x96\x81"
                "the",
                "\xe2\x96\x81"
                "c",
                "at", "s", "<0x21>", "<blk>"},
               Vocabulary::Type::kSentencePiece);
  EXPECT_EQ(v.Detokenize({0, 1, 2, 3, 4}), "the cats!");
  EXPECT_EQ(v.Detokenize({}), "");
}

// Expected texts are sentencepiece 0.2's decode_ids of the same pieces.
TEST(Vocabulary, SentencePieceLeadingSpacesAndUnknown) {
  const std::string space = "\xe2\x96\x81", unk_surface = " \xe2\x81\x87 ";
  Vocabulary v({"<unk>", space, space + "the", "re"}, Vocabulary::Type::kSentencePiece);
  EXPECT_EQ(v.Detokenize({1, 2}), "the");  // spaces drop until a visible character
  EXPECT_EQ(v.Detokenize({1, 1}), "");
  EXPECT_EQ(v.Detokenize({3, 2}), "re the");
  EXPECT_EQ(v.Detokenize({0, 2}), unk_surface + " the");  // the unknown piece ends the leading part
  EXPECT_EQ(v.Detokenize({2, 0}), "the" + unk_surface);
  EXPECT_EQ(v.Detokenize({1, 0}), unk_surface);
}

TEST(Vocabulary, CharacterText) {
  Vocabulary v({" ", "a", "b", "'", "<blk>"}, Vocabulary::Type::kCharacters);
  EXPECT_EQ(v.Detokenize({1, 3, 2, 0, 1}), "a'b a");
}

TEST(IncrementalText, TokenByTokenEqualsTheWholeSequence) {
  const std::string space = "\xe2\x96\x81";
  // A euro sign in byte pieces, split across appends; the unknown piece; leading spaces.
  Vocabulary v({"<unk>", space, space + "the", "re", "<0xE2>", "<0x82>", "<0xAC>"}, Vocabulary::Type::kSentencePiece);
  const std::vector<int> ids = {1, 4, 5, 6, 2, 3, 0, 4, 5, 1, 2, 4};
  IncrementalText text(v);
  for (size_t n = 0; n < ids.size(); ++n) {
    text.Append(ids.data() + n, 1);
    const std::vector<int> prefix(ids.begin(), ids.begin() + n + 1);
    EXPECT_EQ(text.Text(false), v.Detokenize(prefix, false)) << n + 1 << " tokens";
    EXPECT_EQ(text.Text(true), v.Detokenize(prefix, true)) << n + 1 << " tokens";
  }
  text.Reset();
  EXPECT_EQ(text.Text(true), "");
}

}  // namespace
}  // namespace nemo_fast

namespace nemo_fast {
namespace {

TEST(Confidence, OneHotIsOneAndUniformIsZero) {
  const int vocab = 8;
  TsallisConfidence confidence(vocab);
  std::vector<float> one_hot(vocab, -std::numeric_limits<float>::infinity());
  one_hot[3] = 0.0f;
  EXPECT_NEAR(confidence(one_hot.data(), vocab), 1.0f, 1e-6);
  std::vector<float> uniform(vocab, -std::log(static_cast<float>(vocab)));
  EXPECT_NEAR(confidence(uniform.data(), vocab), 0.0f, 1e-6);
}

// NeMo's transcripts drop one white-space character before a punctuation mark of the vocabulary, also when
// the mark arrives in a later piece of a growing transcript.
TEST(Vocabulary, WhiteSpaceBeforePunctuationIsDroppedAsNeMoDoes) {
  Vocabulary v({" ", "a", "'", ",", "<blk>"}, Vocabulary::Type::kCharacters);
  EXPECT_EQ(v.Detokenize({1, 0, 2, 1, 0, 0, 3}), "a'a ,");
  EXPECT_EQ(v.Detokenize({1, 0, 2}, true, /*raw=*/true), "a '");
  IncrementalText text(v);
  const int first[] = {1, 0}, second[] = {2, 1};
  text.Append(first, 2);
  EXPECT_EQ(text.Text(false), "a ");
  text.Append(second, 2);
  EXPECT_EQ(text.Text(false), "a'a");
}

}  // namespace
}  // namespace nemo_fast
