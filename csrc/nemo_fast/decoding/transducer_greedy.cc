#include "nemo_fast/decoding/transducer_greedy.h"

#include <algorithm>

namespace nemo_fast {
namespace {

// First maximum, as torch.max.
int ArgMax(const float* values, int count) {
  return static_cast<int>(std::max_element(values, values + count) - values);
}

}  // namespace

TransducerGreedyDecoder::TransducerGreedyDecoder(const NeMoTransducerHead& head, int vocab_size, int blank_id)
    : head_(head),
      blank_id_(blank_id),
      max_symbols_(head.spec().symbols_per_frame_limit()),
      last_label_(blank_id),
      confidence_(vocab_size),
      state_h_(head.state_size()),
      state_c_(head.state_size()),
      next_h_(head.state_size()),
      next_c_(head.state_size()),
      decoder_output_(head.joint_hidden()),
      log_probs_(vocab_size),
      duration_log_probs_(head.num_durations()) {
  Reset();
}

void TransducerGreedyDecoder::Reset() {
  std::fill(state_h_.begin(), state_h_.end(), 0.0f);
  std::fill(state_c_.begin(), state_c_.end(), 0.0f);
  last_label_ = blank_id_;
  decoder_output_valid_ = false;
  num_frames_ = 0;
  chunk_ = nullptr;
  chunk_frames_ = t_ = symbols_ = 0;
  track_.Reset();
}

const float* TransducerGreedyDecoder::JointDecoderRow() {
  // The prediction network's output for the current label and state, computed once per emitted token.
  if (!decoder_output_valid_) {
    head_.Predict(1, &last_label_, state_h_.data(), state_c_.data(), decoder_output_.data(), next_h_.data(),
                  next_c_.data());
    decoder_output_valid_ = true;
  }
  return decoder_output_.data();
}

void TransducerGreedyDecoder::Emit(int token, int64_t frame, int duration, const float* log_probs) {
  track_.Push(token, frame, duration, confidence_(log_probs, vocab_size()));
  // The state after this token is the one the step for the previous label produced.
  std::swap(state_h_, next_h_);
  std::swap(state_c_, next_c_);
  last_label_ = token;
  decoder_output_valid_ = false;
}

void TransducerGreedyDecoder::BeginChunk(const float* encoder_frames, int num_frames) {
  chunk_ = encoder_frames;
  chunk_frames_ = num_frames;
  t_ = 0;
  symbols_ = 0;
}

const float* TransducerGreedyDecoder::JointEncoderRow() const {
  return chunk_ + static_cast<int64_t>(t_) * head_.joint_hidden();
}

// One joint step of NeMo's greedy loop: at each frame, emit the argmax token until blank (RNN-T) or a
// non-zero duration (TDT, which moves the frame index by it), at most max_symbols_ times.
void TransducerGreedyDecoder::TakeJoint(const float* log_probs, const float* duration_log_probs) {
  const auto& durations = head_.spec().durations;
  const bool tdt = !durations.empty();
  const int token = ArgMax(log_probs, vocab_size());
  const int skip = tdt ? durations[ArgMax(duration_log_probs, static_cast<int>(durations.size()))] : 1;
  if (token != blank_id_) Emit(token, num_frames_ + t_, skip, log_probs);
  ++symbols_;
  const bool again = tdt ? skip == 0 : token != blank_id_;
  if (tdt) t_ += skip;
  if (!again || symbols_ >= max_symbols_) {
    // RNN-T moves one frame per frame's steps; TDT already moved by its durations, and one more frame when
    // it stopped on the symbol limit (NeMo's guard against endless zero-duration steps).
    if (!tdt || symbols_ == max_symbols_) ++t_;
    symbols_ = 0;
  }
}

void TransducerGreedyDecoder::EndChunk() {
  num_frames_ += chunk_frames_;
  chunk_ = nullptr;
  chunk_frames_ = t_ = 0;
}

void TransducerGreedyDecoder::Accept(const float* encoder_frames, int num_frames) {
  BeginChunk(encoder_frames, num_frames);
  while (WantsJoint()) {
    head_.Joint(1, JointEncoderRow(), JointDecoderRow(), log_probs_.data(), duration_log_probs_.data());
    TakeJoint(log_probs_.data(), duration_log_probs_.data());
  }
  EndChunk();
}

void DecodeTransducerGreedyBatch(const NeMoTransducerHead& head, const std::vector<TransducerGreedyDecoder*>& decoders,
                                 const std::vector<const float*>& frames, const std::vector<int>& counts) {
  if (decoders.empty()) return;
  const int hidden = head.joint_hidden();
  const int vocab = decoders[0]->vocab_size();
  const int durations = head.num_durations();
  for (size_t i = 0; i < decoders.size(); ++i) decoders[i]->BeginChunk(frames[i], counts[i]);
  std::vector<TransducerGreedyDecoder*> active, predicting;
  std::vector<float> encoder_rows, decoder_rows, log_probs, duration_log_probs;
  std::vector<int64_t> labels;
  std::vector<float> states_h, states_c, next_h, next_c;
  const int layers = head.spec().pred_rnn_layers;
  const int state_hidden = head.spec().pred_hidden;
  for (;;) {
    active.clear();
    predicting.clear();
    for (auto* decoder : decoders) {
      if (!decoder->WantsJoint()) continue;
      active.push_back(decoder);
      if (!decoder->decoder_output_valid_) predicting.push_back(decoder);
    }
    if (active.empty()) break;
    if (!predicting.empty()) {
      // The prediction step of every stream after its last token, as one batch: states (layers, B, hidden).
      const size_t rows = predicting.size();
      labels.resize(rows);
      states_h.resize(layers * rows * state_hidden);
      states_c.resize(states_h.size());
      next_h.resize(states_h.size());
      next_c.resize(states_h.size());
      decoder_rows.resize(rows * hidden);
      for (size_t b = 0; b < rows; ++b) {
        labels[b] = predicting[b]->last_label_;
        for (int l = 0; l < layers; ++l) {
          const size_t at = (l * rows + b) * state_hidden;
          std::copy_n(predicting[b]->state_h_.data() + l * state_hidden, state_hidden, states_h.data() + at);
          std::copy_n(predicting[b]->state_c_.data() + l * state_hidden, state_hidden, states_c.data() + at);
        }
      }
      head.Predict(static_cast<int>(rows), labels.data(), states_h.data(), states_c.data(), decoder_rows.data(),
                   next_h.data(), next_c.data());
      for (size_t b = 0; b < rows; ++b) {
        TransducerGreedyDecoder& d = *predicting[b];
        std::copy_n(decoder_rows.data() + b * hidden, hidden, d.decoder_output_.data());
        for (int l = 0; l < layers; ++l) {
          const size_t at = (l * rows + b) * state_hidden;
          std::copy_n(next_h.data() + at, state_hidden, d.next_h_.data() + l * state_hidden);
          std::copy_n(next_c.data() + at, state_hidden, d.next_c_.data() + l * state_hidden);
        }
        d.decoder_output_valid_ = true;
      }
    }
    const size_t batch = active.size();
    encoder_rows.resize(batch * hidden);
    decoder_rows.resize(batch * hidden);
    for (size_t b = 0; b < batch; ++b) {
      std::copy_n(active[b]->JointEncoderRow(), hidden, encoder_rows.data() + b * hidden);
      std::copy_n(active[b]->JointDecoderRow(), hidden, decoder_rows.data() + b * hidden);
    }
    log_probs.resize(batch * vocab);
    duration_log_probs.resize(batch * durations);
    head.Joint(static_cast<int>(batch), encoder_rows.data(), decoder_rows.data(), log_probs.data(),
               duration_log_probs.data());
    for (size_t b = 0; b < batch; ++b) {
      active[b]->TakeJoint(log_probs.data() + b * vocab, duration_log_probs.data() + b * durations);
    }
  }
  for (auto* decoder : decoders) decoder->EndChunk();
}

}  // namespace nemo_fast
