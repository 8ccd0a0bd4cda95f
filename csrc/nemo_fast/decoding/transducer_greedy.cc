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
  last_dropped_frame_ = -1;
  tokens_.clear();
  token_frames_.clear();
  token_durations_.clear();
  token_confidences_.clear();
}

void TransducerGreedyDecoder::DropTokens(size_t count) {
  if (count > 0) last_dropped_frame_ = token_frames_[count - 1];
  tokens_.erase(tokens_.begin(), tokens_.begin() + count);
  token_frames_.erase(token_frames_.begin(), token_frames_.begin() + count);
  token_durations_.erase(token_durations_.begin(), token_durations_.begin() + count);
  token_confidences_.erase(token_confidences_.begin(), token_confidences_.begin() + count);
}

const float* TransducerGreedyDecoder::DecoderOutput() {
  if (!decoder_output_valid_) {
    head_.Predict(1, &last_label_, state_h_.data(), state_c_.data(), decoder_output_.data(), next_h_.data(),
                  next_c_.data());
    decoder_output_valid_ = true;
  }
  return decoder_output_.data();
}

void TransducerGreedyDecoder::Emit(int token, int64_t frame, int duration) {
  tokens_.push_back(token);
  token_frames_.push_back(frame);
  token_durations_.push_back(duration);
  token_confidences_.push_back(confidence_(log_probs_.data(), static_cast<int>(log_probs_.size())));
  // The state after this token is the one the step for the previous label produced.
  std::swap(state_h_, next_h_);
  std::swap(state_c_, next_c_);
  last_label_ = token;
  decoder_output_valid_ = false;
}

void TransducerGreedyDecoder::Accept(const float* encoder_frames, int num_frames) {
  const int hidden = head_.joint_hidden();
  const int vocab = static_cast<int>(log_probs_.size());
  const auto& durations = head_.spec().durations;
  const bool tdt = !durations.empty();
  int t = 0;
  while (t < num_frames) {
    const float* frame = encoder_frames + static_cast<int64_t>(t) * hidden;
    int symbols = 0;
    int skip = 1;
    for (bool again = true; again && symbols < max_symbols_;) {
      head_.Joint(1, frame, DecoderOutput(), log_probs_.data(), duration_log_probs_.data());
      const int token = ArgMax(log_probs_.data(), vocab);
      if (tdt) skip = durations[ArgMax(duration_log_probs_.data(), static_cast<int>(durations.size()))];
      if (token != blank_id_) Emit(token, num_frames_ + t, tdt ? skip : 1);
      ++symbols;
      if (tdt) {
        t += skip;
        again = skip == 0;
      } else {
        again = token != blank_id_;
      }
    }
    // RNN-T moves one frame per outer step; TDT already moved by its durations, and one more frame when
    // it stopped on the symbol limit (NeMo's guard against endless zero-duration steps).
    if (!tdt)
      ++t;
    else if (symbols == max_symbols_)
      ++t;
  }
  num_frames_ += num_frames;
}

}  // namespace nemo_fast
