#include "nemo_fast/decoding/ctc_beam.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace nemo_fast {
namespace {

// pyctcdecode clips log-probs at log(1e-15) so that a zero probability stays a finite score.
constexpr float kMinLogProb = -34.538776f;

}  // namespace

CtcBeamDecoder::CtcBeamDecoder(const TokenWords& words, int vocab_size, const BeamSearchOptions& options)
    : words_(words), vocab_size_(vocab_size), options_(options), fusion_(options), confidence_(vocab_size) {
  Reset();
}

void CtcBeamDecoder::Reset() {
  paths_.Clear();
  beam_.assign(1, Hypothesis());
  beam_[0].lm_state = fusion_.Start();
  num_frames_ = 0;
  track_.Reset();
}

std::pair<size_t, bool> CtcBeamDecoder::Merge(const Hypothesis& candidate) {
  const uint64_t key = HashCombine(HashCombine(candidate.words_hash, std::hash<std::string>()(candidate.word_part)),
                                   static_cast<uint64_t>(candidate.last + 2));
  auto [found, inserted] = merge_index_.emplace(key, next_.size());
  if (!inserted) {
    Hypothesis& same = next_[found->second];
    if (same.words_hash == candidate.words_hash && same.word_part == candidate.word_part &&
        same.last == candidate.last) {
      same.log_prob = LogAdd(same.log_prob, candidate.log_prob);
      same.last_speech_frame = std::max(same.last_speech_frame, candidate.last_speech_frame);
      return {found->second, false};
    }
  }
  next_.push_back(candidate);  // new (or a 64-bit hash collision, kept apart)
  return {next_.size() - 1, true};
}

void CtcBeamDecoder::Accept(const float* log_probs, int num_frames) {
  const int blank = words_.blank_id();
  for (int t = 0; t < num_frames; ++t) {
    const float* row = log_probs + static_cast<int64_t>(t) * vocab_size_;
    const int64_t frame = num_frames_ + t;
    const int best = static_cast<int>(std::max_element(row, row + vocab_size_) - row);
    candidates_.clear();
    for (int v = 0; v < vocab_size_; ++v) {
      if (row[v] >= options_.token_min_log_prob || v == best) candidates_.push_back(v);
    }
    const float frame_confidence = confidence_(row, vocab_size_);
    next_.clear();
    merge_index_.clear();
    for (int token : candidates_) {
      const double p = std::max(row[token], kMinLogProb);
      for (const Hypothesis& hyp : beam_) {
        Hypothesis child = hyp;
        child.log_prob += p;
        child.last = token;
        bool finished_word = false;
        std::string finished;
        if (token != blank) child.last_speech_frame = frame;
        if (token != blank && token != hyp.last) {
          child.node = paths_.Extend(hyp.node, token, frame, frame_confidence);
          if (words_.starts_word(token) || hyp.break_next) {
            finished = std::move(child.word_part);
            finished_word = !finished.empty();
            child.word_part = words_.letters(token);
            if (finished_word) child.words_hash = HashCombine(child.words_hash, std::hash<std::string>()(finished));
          } else {
            child.word_part += words_.letters(token);
          }
          child.break_next = words_.ends_word(token);
          if (options_.hotwords)
            child.fusion += options_.hotwords->Advance(&child.hotword_state, words_.surface(token));
        }
        const auto [index, is_new] = Merge(child);
        if (is_new && finished_word && fusion_.enabled()) {
          Hypothesis& added = next_[index];
          ArpaLm::State after;
          added.fusion += fusion_.WordScore(added.lm_state, finished, false, &after);
          added.lm_state = after;
        }
      }
    }
    for (Hypothesis& hyp : next_) {
      hyp.score = hyp.log_prob + hyp.fusion + (fusion_.enabled() ? fusion_.PartialWordScore(hyp.word_part) : 0.0);
    }
    Prune();
  }
  num_frames_ += num_frames;
  // Candidates that left the beam leave nodes behind.
  std::vector<int*> live;
  for (Hypothesis& hyp : beam_) live.push_back(&hyp.node);
  paths_.MaybeCompact(live, beam_.size() * (track_.ids.size() + 1));
  UpdateBest();
}

void CtcBeamDecoder::Prune() {
  double best = -INFINITY;
  for (const Hypothesis& hyp : next_) best = std::max(best, hyp.score);
  std::vector<size_t> order;
  for (size_t i = 0; i < next_.size(); ++i) {
    if (next_[i].score >= best + options_.beam_prune_log_prob) order.push_back(i);
  }
  // Best first; equal scores keep their order (as heapq.nlargest).
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return next_[a].score > next_[b].score; });
  if (order.size() > static_cast<size_t>(options_.beam_size)) order.resize(options_.beam_size);
  beam_.clear();
  for (size_t i : order) beam_.push_back(std::move(next_[i]));
}

void CtcBeamDecoder::Finish() {
  next_.clear();
  merge_index_.clear();
  for (const Hypothesis& hyp : beam_) {
    Hypothesis done = hyp;
    done.last = -1;
    std::string word = std::move(done.word_part);
    done.word_part.clear();
    if (!word.empty()) done.words_hash = HashCombine(done.words_hash, std::hash<std::string>()(word));
    const auto [index, is_new] = Merge(done);
    if (!is_new) continue;
    Hypothesis& added = next_[index];
    if (fusion_.enabled()) {
      ArpaLm::State after;
      added.fusion += fusion_.WordScore(added.lm_state, word, true, &after);
      added.lm_state = after;
    }
    if (options_.hotwords) {
      added.fusion -= options_.hotwords->Pending(added.hotword_state);
      added.hotword_state = HotwordGraph::kRoot;
    }
  }
  for (Hypothesis& hyp : next_) hyp.score = hyp.log_prob + hyp.fusion;
  Prune();
  beam_.resize(1);
  UpdateBest();
}

void CtcBeamDecoder::Commit() {
  beam_.resize(1);
  UpdateBest();
}

void CtcBeamDecoder::DropTokens(size_t count) {
  paths_.Drop(count);
  StreamDecoder::DropTokens(count);
}

int64_t CtcBeamDecoder::last_speech_frame() const { return beam_[0].last_speech_frame; }

void CtcBeamDecoder::UpdateBest() {
  track_.Clear();
  for (int id : paths_.Path(beam_[0].node)) {
    const HypothesisPaths::Node& node = paths_.node(id);
    track_.Push(node.token, node.frame, node.confidence);
  }
}

std::vector<std::pair<std::vector<int>, double>> CtcBeamDecoder::Beam() const {
  std::vector<std::pair<std::vector<int>, double>> beam;
  for (const Hypothesis& hyp : beam_) {
    std::vector<int> ids;
    for (int id : paths_.Path(hyp.node)) ids.push_back(paths_.node(id).token);
    beam.emplace_back(ids, hyp.score);
  }
  return beam;
}

}  // namespace nemo_fast
