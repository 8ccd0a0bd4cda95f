// CTC prefix beam search that carries its beam from chunk to chunk, with word n-gram LM fusion and hotwords.
// It searches as pyctcdecode does, so that both give the same transcript for the same log-probs and LM:
// a hypothesis is a prefix plus the class of its last frame (blank or the prefix's last token), hypotheses
// with the same text and last class are merged (their probabilities added), tokens below
// token_min_log_prob are expanded only when they are the frame's best, and the beam keeps the beam_size best
// within beam_prune_log_prob of the best. The partial result is the best hypothesis; the result at the end of
// the input is the same whatever the chunking, since the search runs frame by frame.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "nemo_fast/decoding/beam_search.h"
#include "nemo_fast/decoding/confidence.h"
#include "nemo_fast/decoding/hypothesis_paths.h"
#include "nemo_fast/decoding/stream_decoder.h"
#include "nemo_fast/decoding/token_words.h"

namespace nemo_fast {

class CtcBeamDecoder : public StreamDecoder {
 public:
  // `words` and `options` must outlive the decoder.
  CtcBeamDecoder(const TokenWords& words, int vocab_size, const BeamSearchOptions& options);

  void Accept(const float* log_probs, int num_frames) override;
  void Finish() override;
  void Commit() override;
  void Reset() override;
  void DropTokens(size_t count) override;

  // Token confidences are NeMo's frame confidence at the frame that emitted each token.
  int64_t num_frames() const override { return num_frames_; }
  void SetNextFrame(int64_t frame) override { num_frames_ = frame; }
  int64_t last_speech_frame() const override;

  // The beam, best first, as (text of its tokens, score); for tests and diagnostics.
  std::vector<std::pair<std::vector<int>, double>> Beam() const;

 private:
  struct Hypothesis {
    int node = HypothesisPaths::kEmpty;  // the prefix's last token
    int last = -1;                       // the class of its last frame: blank_id, a token, or -1 at the start
    uint64_t words_hash = 0;             // the finished words
    std::string word_part;               // letters of the word being spelled
    bool break_next = false;             // the last token ends its word (<unk>): the next one starts a new word
    ArpaLm::State lm_state;
    int hotword_state = HotwordGraph::kRoot;
    double log_prob = 0.0;  // of the prefix, over its alignments so far
    double fusion = 0.0;    // LM, word bonuses and hotwords of the finished part
    double score = 0.0;     // log_prob + fusion + the unfinished word's penalty
    int64_t last_speech_frame = -1;
  };

  // Adds a candidate to next_, merging it with an equal one; returns its index, and whether it is new.
  std::pair<size_t, bool> Merge(const Hypothesis& candidate);
  void Prune();
  void UpdateBest();

  const TokenWords& words_;
  int vocab_size_;
  const BeamSearchOptions& options_;
  WordFusion fusion_;
  TsallisConfidence confidence_;
  HypothesisPaths paths_;
  std::vector<Hypothesis> beam_, next_;
  std::unordered_map<uint64_t, size_t> merge_index_;
  std::vector<int> candidates_;
  int64_t num_frames_ = 0;
};

}  // namespace nemo_fast
