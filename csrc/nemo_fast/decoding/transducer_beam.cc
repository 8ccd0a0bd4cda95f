#include "nemo_fast/decoding/transducer_beam.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace nemo_fast {

TransducerBeamDecoder::TransducerBeamDecoder(const NeMoTransducerHead& head, const TokenWords& words, int vocab_size,
                                             const BeamSearchOptions& options)
    : head_(head),
      words_(words),
      vocab_size_(vocab_size),
      options_(options),
      tdt_(head.num_durations() > 0),
      max_symbols_(head.spec().symbols_per_frame_limit()),
      fusion_(options),
      confidence_(vocab_size),
      order_(vocab_size) {
  Reset();
}

void TransducerBeamDecoder::Reset() {
  paths_.Clear();
  beam_.assign(1, Hypothesis());
  beam_[0].lm_state = fusion_.Start();
  // NeMo's start of sequence: the prediction network's step for the blank label from zero states.
  const size_t state = head_.state_size();
  std::vector<float> zeros(state, 0.0f);
  states_h_.assign(state, 0.0f);
  states_c_.assign(state, 0.0f);
  decoder_outputs_.assign(head_.joint_hidden(), 0.0f);
  const int64_t blank = words_.blank_id();
  head_.Predict(1, &blank, zeros.data(), zeros.data(), decoder_outputs_.data(), states_h_.data(), states_c_.data());
  num_frames_ = 0;
  track_.Reset();
}

void TransducerBeamDecoder::Accept(const float* encoder_frames, int num_frames) {
  const int hidden = head_.joint_hidden();
  for (Hypothesis& hyp : beam_) hyp.next_frame = num_frames_;  // a chunk starts every hypothesis at its start
  for (int i = 0; i < num_frames; ++i) {
    const int64_t t = num_frames_ + i;
    const float* frame = encoder_frames + static_cast<int64_t>(i) * hidden;
    for (int round = 0; round < (tdt_ ? max_symbols_ : 1) && Expand(frame, t); ++round) {
    }
    for (Hypothesis& hyp : beam_) hyp.next_frame = std::max(hyp.next_frame, t + 1);  // the symbol limit
  }
  num_frames_ += num_frames;
  std::vector<int*> live;
  for (Hypothesis& hyp : beam_) live.push_back(&hyp.node);
  paths_.MaybeCompact(live, beam_.size() * (track_.ids.size() + 1));
  UpdateBest();
}

TransducerBeamDecoder::Hypothesis TransducerBeamDecoder::EmitChild(const Hypothesis& hyp, int token, int64_t t,
                                                                   int duration, double log_prob, float confidence) {
  Hypothesis child = hyp;
  child.log_prob += log_prob;
  child.emitted = true;
  child.next_frame = t + duration;
  child.node = paths_.Extend(hyp.node, token, t, confidence, duration);
  child.tokens_hash = HashCombine(hyp.tokens_hash, static_cast<uint64_t>(token));
  const bool after_word_end = hyp.node != HypothesisPaths::kEmpty && words_.ends_word(paths_.node(hyp.node).token);
  if (words_.starts_word(token) || after_word_end) {
    if (!child.word_part.empty() && fusion_.enabled()) {
      ArpaLm::State after;
      child.fusion += fusion_.WordScore(child.lm_state, child.word_part, false, &after);
      child.lm_state = after;
    }
    child.word_part = words_.letters(token);
  } else {
    child.word_part += words_.letters(token);
  }
  if (options_.hotwords) child.fusion += options_.hotwords->Advance(&child.hotword_state, words_.surface(token));
  return child;
}

bool TransducerBeamDecoder::Expand(const float* frame, int64_t t) {
  const int hidden = head_.joint_hidden();
  const int blank = words_.blank_id();
  const std::vector<int>& durations = head_.spec().durations;
  std::vector<int> active;
  for (size_t b = 0; b < beam_.size(); ++b) {
    if (beam_[b].next_frame == t) active.push_back(static_cast<int>(b));
  }
  if (active.empty()) return false;
  // One joint call: the frame against each active hypothesis's prediction-network output.
  const int batch = static_cast<int>(active.size());
  encoder_rows_.resize(static_cast<size_t>(batch) * hidden);
  batch_output_.resize(static_cast<size_t>(batch) * hidden);
  for (int i = 0; i < batch; ++i) {
    std::copy(frame, frame + hidden, encoder_rows_.begin() + static_cast<size_t>(i) * hidden);
    const float* output = decoder_outputs_.data() + static_cast<size_t>(beam_[active[i]].state) * hidden;
    std::copy(output, output + hidden, batch_output_.begin() + static_cast<size_t>(i) * hidden);
  }
  log_probs_.resize(static_cast<size_t>(batch) * vocab_size_);
  duration_log_probs_.resize(static_cast<size_t>(batch) * durations.size());
  head_.Joint(batch, encoder_rows_.data(), batch_output_.data(), log_probs_.data(), duration_log_probs_.data());

  children_.clear();
  for (const Hypothesis& hyp : beam_) {
    if (hyp.next_frame != t) children_.push_back(hyp);  // waits for a later frame
  }
  const int k = std::min(options_.beam_size + 1, vocab_size_);
  for (int i = 0; i < batch; ++i) {
    const Hypothesis& hyp = beam_[active[i]];
    const float* row = log_probs_.data() + static_cast<size_t>(i) * vocab_size_;
    const float* duration_row = duration_log_probs_.data() + static_cast<size_t>(i) * durations.size();
    // No token: RNN-T moves one frame; TDT by each duration of at least one frame.
    for (size_t d = 0; d < (tdt_ ? durations.size() : 1); ++d) {
      const int duration = tdt_ ? durations[d] : 1;
      if (duration < 1) continue;
      Hypothesis stay = hyp;
      stay.log_prob += row[blank] + (tdt_ ? duration_row[d] : 0.0f);
      stay.emitted = false;
      stay.next_frame = t + duration;
      children_.push_back(std::move(stay));
    }
    std::iota(order_.begin(), order_.end(), 0);
    std::partial_sort(order_.begin(), order_.begin() + k, order_.end(),
                      [&](int x, int y) { return row[x] > row[y] || (row[x] == row[y] && x < y); });
    const float confidence = confidence_(row, vocab_size_);
    int taken = 0;
    for (int j = 0; j < k && taken < options_.beam_size; ++j) {
      const int token = order_[j];
      if (token == blank) continue;
      ++taken;
      for (size_t d = 0; d < (tdt_ ? durations.size() : 1); ++d) {
        const int duration = tdt_ ? durations[d] : 1;
        children_.push_back(
            EmitChild(hyp, token, t, duration, row[token] + (tdt_ ? duration_row[d] : 0.0f), confidence));
      }
    }
  }
  SelectChildren();
  return true;
}

void TransducerBeamDecoder::SelectChildren() {
  // Merge children with the same tokens and next frame (one that waited and one that caught up with it); the
  // one with a prediction-network row already keeps it.
  std::unordered_map<uint64_t, size_t> first;
  std::vector<char> merged(children_.size(), 0);
  for (size_t i = 0; i < children_.size(); ++i) {
    const uint64_t key = HashCombine(children_[i].tokens_hash, static_cast<uint64_t>(children_[i].next_frame));
    auto [found, inserted] = first.emplace(key, i);
    if (inserted) continue;
    Hypothesis& kept = children_[found->second];
    Hypothesis& other = children_[i];
    if (kept.tokens_hash != other.tokens_hash || kept.next_frame != other.next_frame) continue;
    kept.log_prob = LogAdd(kept.log_prob, other.log_prob);
    if (kept.emitted && !other.emitted) {
      std::swap(kept.emitted, other.emitted);
      std::swap(kept.state, other.state);
      std::swap(kept.node, other.node);
    }
    merged[i] = 1;
  }
  std::vector<size_t> alive;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (merged[i]) continue;
    Hypothesis& c = children_[i];
    c.score = c.log_prob + c.fusion + (fusion_.enabled() ? fusion_.PartialWordScore(c.word_part) : 0.0);
    alive.push_back(i);
  }
  std::stable_sort(alive.begin(), alive.end(),
                   [&](size_t a, size_t b) { return children_[a].score > children_[b].score; });
  if (alive.size() > static_cast<size_t>(options_.beam_size)) alive.resize(options_.beam_size);

  // Rows: copied for hypotheses without a new token (their state is still their parent's row), one batched
  // prediction-network step for those that emitted (from their parent's row).
  const size_t state = head_.state_size();
  const int hidden = head_.joint_hidden();
  const int pred_hidden = head_.spec().pred_hidden;
  const int pred_layers = static_cast<int>(state) / pred_hidden;
  std::vector<float> new_h(alive.size() * state), new_c(alive.size() * state), new_outputs(alive.size() * hidden);
  std::vector<size_t> emitting;
  for (size_t n = 0; n < alive.size(); ++n) {
    const Hypothesis& c = children_[alive[n]];
    if (c.emitted) {
      emitting.push_back(n);
      continue;
    }
    std::copy_n(states_h_.begin() + c.state * state, state, new_h.begin() + n * state);
    std::copy_n(states_c_.begin() + c.state * state, state, new_c.begin() + n * state);
    std::copy_n(decoder_outputs_.begin() + static_cast<size_t>(c.state) * hidden, hidden,
                new_outputs.begin() + n * hidden);
  }
  if (!emitting.empty()) {
    // ONNX's LSTM states are (layers, batch, hidden).
    const int rows = static_cast<int>(emitting.size());
    batch_h_.assign(static_cast<size_t>(rows) * state, 0.0f);
    batch_c_.assign(static_cast<size_t>(rows) * state, 0.0f);
    batch_labels_.resize(rows);
    for (int r = 0; r < rows; ++r) {
      const Hypothesis& c = children_[alive[emitting[r]]];
      batch_labels_[r] = paths_.node(c.node).token;
      for (int l = 0; l < pred_layers; ++l) {
        const size_t from = static_cast<size_t>(c.state) * state + static_cast<size_t>(l) * pred_hidden;
        const size_t to = (static_cast<size_t>(l) * rows + r) * pred_hidden;
        std::copy_n(states_h_.begin() + from, pred_hidden, batch_h_.begin() + to);
        std::copy_n(states_c_.begin() + from, pred_hidden, batch_c_.begin() + to);
      }
    }
    next_h_.resize(batch_h_.size());
    next_c_.resize(batch_c_.size());
    batch_output_.resize(static_cast<size_t>(rows) * hidden);
    head_.Predict(rows, batch_labels_.data(), batch_h_.data(), batch_c_.data(), batch_output_.data(), next_h_.data(),
                  next_c_.data());
    for (int r = 0; r < rows; ++r) {
      const size_t n = emitting[r];
      for (int l = 0; l < pred_layers; ++l) {
        const size_t from = (static_cast<size_t>(l) * rows + r) * pred_hidden;
        const size_t to = n * state + static_cast<size_t>(l) * pred_hidden;
        std::copy_n(next_h_.begin() + from, pred_hidden, new_h.begin() + to);
        std::copy_n(next_c_.begin() + from, pred_hidden, new_c.begin() + to);
      }
      std::copy_n(batch_output_.begin() + static_cast<size_t>(r) * hidden, hidden, new_outputs.begin() + n * hidden);
    }
  }
  std::vector<Hypothesis> next;
  next.reserve(alive.size());
  for (size_t n = 0; n < alive.size(); ++n) {
    Hypothesis h = std::move(children_[alive[n]]);
    h.state = static_cast<int>(n);
    h.emitted = false;
    next.push_back(std::move(h));
  }
  beam_ = std::move(next);
  states_h_ = std::move(new_h);
  states_c_ = std::move(new_c);
  decoder_outputs_ = std::move(new_outputs);
}

void TransducerBeamDecoder::Finish() {
  for (Hypothesis& hyp : beam_) {
    if (fusion_.enabled()) {
      ArpaLm::State after;
      hyp.fusion += fusion_.WordScore(hyp.lm_state, hyp.word_part, true, &after);
      hyp.lm_state = after;
    }
    hyp.word_part.clear();
    if (options_.hotwords) {
      hyp.fusion -= options_.hotwords->Pending(hyp.hotword_state);
      hyp.hotword_state = HotwordGraph::kRoot;
    }
    hyp.score = hyp.log_prob + hyp.fusion;
  }
  std::stable_sort(beam_.begin(), beam_.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  Commit();
}

void TransducerBeamDecoder::Commit() {
  // Keep the best, with its prediction-network row moved to row 0.
  const size_t state = head_.state_size();
  const size_t hidden = head_.joint_hidden();
  Hypothesis best = beam_[0];
  const size_t row = static_cast<size_t>(best.state);
  states_h_ = std::vector<float>(states_h_.begin() + row * state, states_h_.begin() + (row + 1) * state);
  states_c_ = std::vector<float>(states_c_.begin() + row * state, states_c_.begin() + (row + 1) * state);
  decoder_outputs_ =
      std::vector<float>(decoder_outputs_.begin() + row * hidden, decoder_outputs_.begin() + (row + 1) * hidden);
  best.state = 0;
  beam_.assign(1, best);
  UpdateBest();
}

void TransducerBeamDecoder::DropTokens(size_t count) {
  paths_.Drop(count);
  StreamDecoder::DropTokens(count);
}

int64_t TransducerBeamDecoder::last_speech_frame() const { return track_.last_frame(); }

void TransducerBeamDecoder::UpdateBest() {
  track_.Clear();
  for (int id : paths_.Path(beam_[0].node)) {
    const HypothesisPaths::Node& node = paths_.node(id);
    track_.Push(node.token, node.frame, node.duration, node.confidence);
  }
}

}  // namespace nemo_fast
