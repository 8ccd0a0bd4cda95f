// Modified beam search for RNN-T heads (as icefall and sherpa-onnx run it): at most one token per frame, so a
// frame costs one batched joint call over the beam and one batched prediction-network call over the hypotheses
// that emitted. Hypotheses with the same tokens are merged (their probabilities added); the score adds the
// word LM fusion and hotwords of decoding/beam_search.h. The beam is carried from chunk to chunk. Chosen over
// NeMo's `beam` (several tokens per frame, one prediction-network call per hypothesis) and `maes` (several
// expansion rounds per frame) for its fixed cost per frame, which streaming needs.
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
  // `head`, `words` and `options` must outlive the decoder. RNN-T heads only (no durations).
  TransducerBeamDecoder(const NeMoTransducerHead& head, const TokenWords& words, int vocab_size,
                        const BeamSearchOptions& options);

  void Accept(const float* encoder_frames, int num_frames) override;
  void Finish() override;
  void Commit() override;
  void Reset() override;
  void DropTokens(size_t count) override;

  const std::vector<int>& tokens() const override { return tokens_; }
  const std::vector<int64_t>& token_frames() const override { return token_frames_; }
  const std::vector<float>& token_confidences() const override { return token_confidences_; }
  int64_t num_frames() const override { return num_frames_; }
  int64_t last_speech_frame() const override;

 private:
  struct Hypothesis {
    int node = HypothesisPaths::kEmpty;
    uint64_t tokens_hash = 0;
    int state = 0;         // its prediction network's row of states_h_, states_c_ and decoder_outputs_
    bool emitted = false;  // the last frame added a token (its prediction-network row is still to compute)
    std::string word_part;
    ArpaLm::State lm_state;
    int hotword_state = HotwordGraph::kRoot;
    double log_prob = 0.0;
    double fusion = 0.0;
    double score = 0.0;
  };

  void Step(const float* frame, int64_t frame_index);
  void UpdateBest();

  const NeMoTransducerHead& head_;
  const TokenWords& words_;
  int vocab_size_;
  const BeamSearchOptions& options_;
  WordFusion fusion_;
  TsallisConfidence confidence_;
  HypothesisPaths paths_;
  std::vector<Hypothesis> beam_;
  // Prediction-network rows by Hypothesis::state: LSTM states (layers x rows x hidden laid out per row) and
  // outputs. Rebuilt each frame for the surviving hypotheses.
  std::vector<float> states_h_, states_c_, decoder_outputs_;
  int64_t num_frames_ = 0;
  int64_t last_dropped_frame_ = -1;  // the frame of the last token DropTokens took away
  std::vector<int> tokens_;
  std::vector<int64_t> token_frames_;
  std::vector<float> token_confidences_;
  // Per-frame buffers.
  std::vector<float> encoder_rows_, log_probs_, unused_durations_, batch_h_, batch_c_, batch_output_, next_h_, next_c_;
  std::vector<int64_t> batch_labels_;
  std::vector<Hypothesis> children_;
  std::vector<int> child_parent_;  // index into beam_ of each child
};

}  // namespace nemo_fast
