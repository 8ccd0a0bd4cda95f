#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/decoding/arpa_lm.h"
#include "nemo_fast/decoding/ctc_beam.h"
#include "nemo_fast/decoding/ctc_greedy.h"
#include "nemo_fast/decoding/hotwords.h"
#include "nemo_fast/decoding/token_words.h"
#include "nemo_fast/decoding/vocabulary.h"

namespace nemo_fast {
namespace {

const std::string kMark = "\xe2\x96\x81";

Vocabulary Pieces() {
  return Vocabulary({kMark + "the", kMark + "c", "at", "s", kMark + "b", "a", "t", "<blk>"},
                    Vocabulary::Type::kSentencePiece);
}

// Random log-prob rows with a peaked best class, as a trained CTC head gives.
std::vector<float> RandomRows(int frames, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::vector<float> rows(static_cast<size_t>(frames) * vocab);
  for (int t = 0; t < frames; ++t) {
    float* row = rows.data() + static_cast<size_t>(t) * vocab;
    double sum = 0.0;
    for (int v = 0; v < vocab; ++v) {
      row[v] = noise(rng) + (v == vocab - 1 ? 2.0f : 0.0f);
      sum += std::exp(row[v]);
    }
    for (int v = 0; v < vocab; ++v) row[v] -= static_cast<float>(std::log(sum));
  }
  return rows;
}

TEST(CtcBeam, BeamOfOneWithoutLmIsGreedy) {
  const Vocabulary vocabulary = Pieces();
  const int vocab = vocabulary.size(), blank = vocab - 1;
  const TokenWords words(vocabulary, blank);
  BeamSearchOptions options;
  options.beam_size = 1;
  for (unsigned seed = 0; seed < 20; ++seed) {
    const std::vector<float> rows = RandomRows(60, vocab, seed);
    CtcGreedyDecoder greedy(blank, vocab);
    CtcBeamDecoder beam(words, vocab, options);
    greedy.Accept(rows.data(), 60);
    beam.Accept(rows.data(), 60);
    beam.Finish();
    EXPECT_EQ(beam.tokens(), greedy.tokens()) << "seed " << seed;
    EXPECT_EQ(beam.token_frames(), greedy.token_frames()) << "seed " << seed;
  }
}

TEST(CtcBeam, ChunkingDoesNotChangeTheResult) {
  const Vocabulary vocabulary = Pieces();
  const int vocab = vocabulary.size(), blank = vocab - 1;
  const TokenWords words(vocabulary, blank);
  BeamSearchOptions options;
  options.beam_size = 4;
  const std::vector<float> rows = RandomRows(90, vocab, 7);
  CtcBeamDecoder whole(words, vocab, options), chunked(words, vocab, options);
  whole.Accept(rows.data(), 90);
  whole.Finish();
  for (int t = 0; t < 90; t += 7) chunked.Accept(rows.data() + t * vocab, std::min(7, 90 - t));
  chunked.Finish();
  EXPECT_EQ(chunked.tokens(), whole.tokens());
  EXPECT_EQ(chunked.token_frames(), whole.token_frames());
}

TEST(CtcBeam, SumsTheAlignmentsOfAPrefix) {
  // Two frames; "c" alone by greedy path 0.4 * 0.6 at most per alignment, but "c" has three alignments
  // (c c, c -, - c) whose sum beats the single best alignment of "b" (b b).
  const Vocabulary vocabulary = Pieces();
  const int vocab = vocabulary.size(), blank = vocab - 1;
  const TokenWords words(vocabulary, blank);
  std::vector<float> rows(2 * vocab, std::log(1e-6f));
  auto set = [&](int t, int v, float p) { rows[t * vocab + v] = std::log(p); };
  set(0, 4, 0.5f), set(0, 1, 0.3f), set(0, blank, 0.2f);
  set(1, 4, 0.5f), set(1, 1, 0.3f), set(1, blank, 0.2f);
  BeamSearchOptions options;
  options.token_min_log_prob = -20.0f;
  CtcBeamDecoder beam(words, vocab, options);
  beam.Accept(rows.data(), 2);
  beam.Finish();
  // P(b) = 0.25 + 0.1 + 0.1 = 0.45; P(c) = 0.09 + 0.06 + 0.06 = 0.21; P(b c) = 0.15.
  EXPECT_EQ(beam.tokens(), (std::vector<int>{4}));
}

TEST(CtcBeam, ForgetsNodesAndDroppedTokensOnLongInput) {
  const Vocabulary vocabulary = Pieces();
  const int vocab = vocabulary.size(), blank = vocab - 1;
  const TokenWords words(vocabulary, blank);
  BeamSearchOptions options;
  CtcBeamDecoder beam(words, vocab, options);
  size_t taken = 0;
  for (unsigned seed = 0; seed < 200; ++seed) {
    const std::vector<float> rows = RandomRows(50, vocab, seed);
    beam.Accept(rows.data(), 50);
    beam.Commit();
    taken += beam.tokens().size();
    beam.DropTokens(beam.tokens().size());
  }
  EXPECT_GT(taken, 1000u);
  EXPECT_TRUE(beam.tokens().empty());
}

TEST(Hotwords, BoostIsEarnedWhileMatchingAndKeptWhenComplete) {
  const Vocabulary vocabulary = Pieces();
  const TokenWords words(vocabulary, vocabulary.size() - 1);
  const HotwordGraph graph({{"cat", 4.0f}}, 1.0f, words);
  int state = HotwordGraph::kRoot;
  float total = graph.Advance(&state, " c");
  EXPECT_NEAR(total, 2.0f, 1e-5);  // two of " cat"'s four characters
  EXPECT_NEAR(graph.Pending(state), 2.0f, 1e-5);
  total += graph.Advance(&state, "at");
  EXPECT_NEAR(total, 4.0f, 1e-5);
  EXPECT_EQ(state, HotwordGraph::kRoot);  // complete: kept
  total += graph.Advance(&state, " c");
  total += graph.Advance(&state, "s");  // leaves the phrase: what " c" earned is taken back
  EXPECT_NEAR(total, 4.0f, 1e-5);
}

TEST(Hotwords, CharactersNoTokenSpellsAreRefused) {
  const Vocabulary vocabulary = Pieces();
  const TokenWords words(vocabulary, vocabulary.size() - 1);
  EXPECT_THROW(HotwordGraph({{"caz", 0.0f}}, 1.0f, words), Error);
  EXPECT_THROW(HotwordGraph({{"  ", 0.0f}}, 1.0f, words), Error);
  // Capitals are lowered for a vocabulary without them.
  EXPECT_NO_THROW(HotwordGraph({{"The Cat", 0.0f}}, 1.0f, words));
}

TEST(ArpaLm, BacksOffAndRejectsBadFiles) {
  const std::string path = ::testing::TempDir() + "/lm.arpa";
  {
    std::ofstream out(path);
    out << "\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-99\t<s>\t-0.5\n-1.0\t</s>\n-0.5\tthe\t-0.25\n"
           "-1.5\tcat\n\n\\2-grams:\n-0.2\t<s> the\n-0.3\tthe cat\n\n\\end\\\n";
  }
  const ArpaLm lm(path);
  ArpaLm::State next;
  EXPECT_FLOAT_EQ(lm.Score(lm.BeginSentence(), lm.WordId("the"), &next), -0.2f);
  EXPECT_FLOAT_EQ(lm.Score(next, lm.WordId("cat"), &next), -0.3f);
  // "cat" after "cat": no bigram, no back-off weight for "cat": the unigram.
  EXPECT_FLOAT_EQ(lm.Score(next, lm.WordId("cat"), &next), -1.5f);
  // "the" after <s> exists; "cat" after <s> backs off with <s>'s weight.
  EXPECT_FLOAT_EQ(lm.Score(lm.BeginSentence(), lm.WordId("cat"), &next), -0.5f - 1.5f);
  // An unknown word: <unk> is missing, so KenLM's -100.
  EXPECT_FLOAT_EQ(lm.Score(lm.NullContext(), lm.WordId("dog"), &next), -100.0f);
  EXPECT_TRUE(lm.IsWordPrefix("ca"));
  EXPECT_FALSE(lm.IsWordPrefix("x"));
  {
    std::ofstream out(path);
    out << "\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\t</s>\n";
  }
  EXPECT_THROW(ArpaLm bad(path), Error);
  EXPECT_THROW(ArpaLm missing(path + ".none"), Error);
}

}  // namespace
}  // namespace nemo_fast
