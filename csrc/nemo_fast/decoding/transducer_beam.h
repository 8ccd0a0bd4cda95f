// Modified beam search for transducer heads (as icefall and sherpa-onnx run it for RNN-T), carried from chunk to
// chunk, with the word LM fusion and hotwords of decoding/beam_search.h. Chosen over NeMo's `beam` (several
// tokens per frame, one prediction-network call per hypothesis) and `maes` (several expansion rounds per frame)
// for its fixed cost per frame, which streaming needs:
// - RNN-T: at most one token per frame; a frame costs one joint call over the beam and one prediction-network
//   call over the hypotheses that emitted, both batched;
// - TDT: a hypothesis is expanded at the frame its last duration reached, with every (token, duration) and
//   (blank, duration >= 1) pair of its best tokens; one with duration 0 is expanded again at the same frame (at
//   most symbols_per_frame_limit times, then moved on a frame, as NeMo's greedy guard). Hypotheses waiting for
//   a later frame stay in the beam. As NeMo's greedy decoding, a duration that reaches past a chunk ends there:
//   every hypothesis resumes at the next chunk's first frame.
// Hypotheses with the same tokens (and, TDT, the same next frame) are merged, their probabilities added.
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
#include "nemo_fast/model/transducer.h"

namespace nemo_fast {

class TransducerBeamDecoder : public StreamDecoder {
 public:
  // `head`, `words` and `options` must outlive the decoder.
  TransducerBeamDecoder(const NeMoTransducerHead& head, const TokenWords& words, int vocab_size,
                        const BeamSearchOptions& options);

  void Accept(const float* encoder_frames, int num_frames) override;
  void Finish() override;
  void Commit() override;
  void Reset() override;
  void DropTokens(size_t count) override;

  const int* token_durations() const override { return tdt_ ? track_.durations.data() : nullptr; }
  int64_t num_frames() const override { return num_frames_; }
  void SetNextFrame(int64_t frame) override { num_frames_ = frame; }
  int64_t last_speech_frame() const override;

 private:
  struct Hypothesis {
    int node = HypothesisPaths::kEmpty;
    uint64_t tokens_hash = 0;
    int state = 0;           // its prediction network's row of states_h_, states_c_ and decoder_outputs_
    bool emitted = false;    // the last expansion added a token (its prediction-network row is still to compute)
    int64_t next_frame = 0;  // the frame where it is expanded next
    std::string word_part;
    ArpaLm::State lm_state;
    int hotword_state = HotwordGraph::kRoot;
    double log_prob = 0.0;
    double fusion = 0.0;
    double score = 0.0;
  };

  // One expansion round at frame t of the hypotheses whose next frame is t; false when there were none.
  bool Expand(const float* frame, int64_t t);
  // The child of `hyp` that emits `token`, expanded at frame t and spanning `duration` frames.
  Hypothesis EmitChild(const Hypothesis& hyp, int token, int64_t t, int duration, double log_prob, float confidence);
  // Keeps the beam_size best of children_ (after merging) and gives them prediction-network rows.
  void SelectChildren();
  void UpdateBest();

  const NeMoTransducerHead& head_;
  const TokenWords& words_;
  int vocab_size_;
  const BeamSearchOptions& options_;
  const bool tdt_;
  const int max_symbols_;
  WordFusion fusion_;
  TsallisConfidence confidence_;
  HypothesisPaths paths_;
  std::vector<Hypothesis> beam_;
  // Prediction-network rows by Hypothesis::state: LSTM states (each row holds its layers one after another) and
  // outputs, rebuilt after each expansion for the hypotheses kept.
  std::vector<float> states_h_, states_c_, decoder_outputs_;
  int64_t num_frames_ = 0;
  // Per-expansion buffers.
  std::vector<float> encoder_rows_, log_probs_, duration_log_probs_, batch_h_, batch_c_, batch_output_, next_h_,
      next_c_;
  std::vector<int64_t> batch_labels_;
  std::vector<Hypothesis> children_;
  std::vector<int> child_parent_;  // the parent row (Hypothesis::state in beam_) of each child
  std::vector<int> order_;
};

}  // namespace nemo_fast
