#include "nemo_fast/decoding/transducer_beam.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

uint64_t Mix(uint64_t seed, uint64_t value) {
  uint64_t x = seed ^ (value + 0x9E3779B97F4A7C15ULL + (seed << 6) + (seed >> 2));
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

double LogAdd(double a, double b) {
  if (a < b) std::swap(a, b);
  return a + std::log1p(std::exp(b - a));
}

}  // namespace

TransducerBeamDecoder::TransducerBeamDecoder(const NeMoTransducerHead& head, const TokenWords& words, int vocab_size,
                                             const BeamSearchOptions& options)
    : head_(head),
      words_(words),
      vocab_size_(vocab_size),
      options_(options),
      fusion_(options),
      confidence_(vocab_size) {
  if (head.num_durations() > 0) {
    Fail(ErrorCode::kInvalidConfig, "beam search is implemented for RNN-T and CTC heads; a TDT head decodes greedily");
  }
  Reset();
}

void TransducerBeamDecoder::Reset() {
  paths_.Clear();
  beam_.assign(1, Hypothesis());
  beam_[0].lm_state = fusion_.Start();
  // NeMo's start of sequence: the prediction network's step for the blank label from zero states.
  const size_t state = head_.state_size();
  const int hidden = head_.joint_hidden();
  std::vector<float> zeros(state, 0.0f);
  states_h_.assign(state, 0.0f);
  states_c_.assign(state, 0.0f);
  decoder_outputs_.assign(hidden, 0.0f);
  const int64_t blank = words_.blank_id();
  head_.Predict(1, &blank, zeros.data(), zeros.data(), decoder_outputs_.data(), states_h_.data(), states_c_.data());
  num_frames_ = 0;
  last_dropped_frame_ = -1;
  tokens_.clear();
  token_frames_.clear();
  token_confidences_.clear();
}

void TransducerBeamDecoder::Accept(const float* encoder_frames, int num_frames) {
  const int hidden = head_.joint_hidden();
  for (int t = 0; t < num_frames; ++t) Step(encoder_frames + static_cast<int64_t>(t) * hidden, num_frames_ + t);
  num_frames_ += num_frames;
  std::vector<int*> live;
  for (Hypothesis& hyp : beam_) live.push_back(&hyp.node);
  paths_.MaybeCompact(live, beam_.size() * (tokens_.size() + 1));
  UpdateBest();
}

void TransducerBeamDecoder::Step(const float* frame, int64_t frame_index) {
  const int hidden = head_.joint_hidden();
  const int blank = words_.blank_id();
  const int batch = static_cast<int>(beam_.size());
  // One joint call for the beam: the frame against each hypothesis's prediction-network output.
  encoder_rows_.resize(static_cast<size_t>(batch) * hidden);
  batch_output_.resize(static_cast<size_t>(batch) * hidden);
  for (int b = 0; b < batch; ++b) {
    std::copy(frame, frame + hidden, encoder_rows_.begin() + static_cast<size_t>(b) * hidden);
    const float* output = decoder_outputs_.data() + static_cast<size_t>(beam_[b].state) * hidden;
    std::copy(output, output + hidden, batch_output_.begin() + static_cast<size_t>(b) * hidden);
  }
  log_probs_.resize(static_cast<size_t>(batch) * vocab_size_);
  head_.Joint(batch, encoder_rows_.data(), batch_output_.data(), log_probs_.data(), unused_durations_.data());

  // Children: each hypothesis without a token, and with each of its beam_size best tokens.
  children_.clear();
  child_parent_.clear();
  std::vector<int> order(vocab_size_);
  for (int b = 0; b < batch; ++b) {
    const Hypothesis& hyp = beam_[b];
    const float* row = log_probs_.data() + static_cast<size_t>(b) * vocab_size_;
    Hypothesis stay = hyp;
    stay.log_prob += row[blank];
    stay.emitted = false;
    children_.push_back(stay);
    child_parent_.push_back(b);
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min(options_.beam_size + 1, vocab_size_);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int x, int y) { return row[x] > row[y] || (row[x] == row[y] && x < y); });
    const float confidence = confidence_(row, vocab_size_);
    int taken = 0;
    for (int i = 0; i < k && taken < options_.beam_size; ++i) {
      const int token = order[i];
      if (token == blank) continue;
      ++taken;
      Hypothesis child = hyp;
      child.log_prob += row[token];
      child.emitted = true;
      child.node = paths_.Extend(hyp.node, token, frame_index, confidence);
      child.tokens_hash = Mix(hyp.tokens_hash, static_cast<uint64_t>(token));
      if (words_.starts_word(token) ||
          (hyp.node != HypothesisPaths::kEmpty && words_.ends_word(paths_.node(hyp.node).token))) {
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
      children_.push_back(std::move(child));
      child_parent_.push_back(b);
    }
  }
  // Merge children with the same tokens (a hypothesis that waited and one that just caught up with it); the
  // one that waited keeps its prediction-network row.
  std::unordered_map<uint64_t, size_t> first;
  std::vector<char> merged(children_.size(), 0);
  for (size_t i = 0; i < children_.size(); ++i) {
    auto [found, inserted] = first.emplace(children_[i].tokens_hash, i);
    if (inserted) continue;
    Hypothesis& kept = children_[found->second];
    Hypothesis& other = children_[i];
    kept.log_prob = LogAdd(kept.log_prob, other.log_prob);
    if (kept.emitted && !other.emitted) {
      std::swap(kept.emitted, other.emitted);
      std::swap(kept.state, other.state);
      std::swap(kept.node, other.node);
      std::swap(child_parent_[found->second], child_parent_[i]);
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

  // New prediction-network rows: copied for hypotheses that waited, one batched step for those that emitted.
  const size_t state = head_.state_size();
  const int pred_layers = static_cast<int>(state) / head_.spec().pred_hidden;
  const int pred_hidden = head_.spec().pred_hidden;
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
    // ONNX's LSTM states are (layers, batch, hidden); a hypothesis's row holds its layers one after another.
    const int rows = static_cast<int>(emitting.size());
    batch_h_.assign(static_cast<size_t>(rows) * state, 0.0f);
    batch_c_.assign(static_cast<size_t>(rows) * state, 0.0f);
    batch_labels_.resize(rows);
    for (int r = 0; r < rows; ++r) {
      const Hypothesis& c = children_[alive[emitting[r]]];
      const int parent_row = beam_[child_parent_[alive[emitting[r]]]].state;
      batch_labels_[r] = paths_.node(c.node).token;
      for (int l = 0; l < pred_layers; ++l) {
        const size_t from = static_cast<size_t>(parent_row) * state + static_cast<size_t>(l) * pred_hidden;
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
  const int hidden = head_.joint_hidden();
  Hypothesis best = beam_[0];
  std::vector<float> h(states_h_.begin() + best.state * state, states_h_.begin() + (best.state + 1) * state);
  std::vector<float> c(states_c_.begin() + best.state * state, states_c_.begin() + (best.state + 1) * state);
  std::vector<float> o(decoder_outputs_.begin() + static_cast<size_t>(best.state) * hidden,
                       decoder_outputs_.begin() + static_cast<size_t>(best.state + 1) * hidden);
  states_h_ = std::move(h);
  states_c_ = std::move(c);
  decoder_outputs_ = std::move(o);
  best.state = 0;
  beam_.assign(1, best);
  UpdateBest();
}

void TransducerBeamDecoder::DropTokens(size_t count) {
  if (count > 0) last_dropped_frame_ = token_frames_[count - 1];
  paths_.Drop(count);
  tokens_.erase(tokens_.begin(), tokens_.begin() + count);
  token_frames_.erase(token_frames_.begin(), token_frames_.begin() + count);
  token_confidences_.erase(token_confidences_.begin(), token_confidences_.begin() + count);
}

int64_t TransducerBeamDecoder::last_speech_frame() const {
  return token_frames_.empty() ? last_dropped_frame_ : token_frames_.back();
}

void TransducerBeamDecoder::UpdateBest() {
  tokens_.clear();
  token_frames_.clear();
  token_confidences_.clear();
  for (int id : paths_.Path(beam_[0].node)) {
    const HypothesisPaths::Node& node = paths_.node(id);
    tokens_.push_back(node.token);
    token_frames_.push_back(node.frame);
    token_confidences_.push_back(node.confidence);
  }
}

}  // namespace nemo_fast
