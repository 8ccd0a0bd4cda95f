#include "nemo_fast/pipeline/offline_windows.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "nemo_fast/common/error.h"

namespace nemo_fast {

void LongAudioConfig::Validate() const {
  if (!(max_window_seconds >= 0.0) || !std::isfinite(max_window_seconds)) {
    Fail(ErrorCode::kInvalidConfig, "max_window_seconds must be >= 0 (0: the default), not ", max_window_seconds);
  }
  if (!(cut_search_seconds > 0.0) || !std::isfinite(cut_search_seconds)) {
    Fail(ErrorCode::kInvalidConfig, "cut_search_seconds must be > 0, not ", cut_search_seconds);
  }
  if (!(quiet_seconds > 0.0) || !(quiet_seconds <= 10.0)) {
    Fail(ErrorCode::kInvalidConfig, "quiet_seconds must lie in (0, 10], not ", quiet_seconds);
  }
}

std::string LongAudioConfig::ToString() const {
  std::ostringstream os;
  os << "LongAudioConfig(max_window_seconds=" << max_window_seconds << ", cut_search_seconds=" << cut_search_seconds
     << ", quiet_seconds=" << quiet_seconds;
  if (!vad_model.empty()) os << ", vad_model='" << vad_model << "'";
  os << ")";
  return os.str();
}

WindowCutter::WindowCutter(const LongAudioConfig& config, int sample_rate, int frame_samples,
                           int64_t max_window_samples, std::shared_ptr<const SileroVadModel> vad)
    : sample_rate_(sample_rate),
      frame_samples_(frame_samples),
      max_window_(max_window_samples),
      // At most half the window: a cut just after the last one (the pause it was made at) would make a
      // window of one frame.
      search_(std::min<int64_t>(max_window_samples / 2, std::llround(config.cut_search_seconds * sample_rate))),
      quiet_(std::max<int64_t>(1, std::llround(config.quiet_seconds * sample_rate))),
      vad_(std::move(vad)) {
  if (vad_ && sample_rate != 8000 && sample_rate != 16000) {
    Fail(ErrorCode::kInvalidConfig, "cutting at VAD pauses needs a model at 8 or 16 kHz, not ", sample_rate, " Hz");
  }
}

std::vector<float> WindowCutter::SpeechScores(int64_t first, int64_t last) const {
  // The VAD runs from a second before the searched stretch (its state settles on the audio before), one
  // probability per window of W samples; a candidate's score is the mean over the windows its stretch touches.
  const int64_t window = SileroVadModel::Window(sample_rate_);
  const int64_t context = SileroVadModel::Context(sample_rate_);
  const int64_t size = static_cast<int64_t>(buffer_.size());
  const int64_t begin = std::max<int64_t>(0, first - quiet_ / 2 - sample_rate_);
  const int64_t end = std::min(size, last + quiet_);
  std::vector<float> input(static_cast<size_t>(context + window), 0.0f);
  std::vector<float> state(SileroVadModel::kStateSize, 0.0f);
  std::vector<float> probabilities;
  for (int64_t at = begin; at < end; at += window) {
    std::copy(input.end() - context, input.end(), input.begin());
    for (int64_t i = 0; i < window; ++i) {
      input[static_cast<size_t>(context + i)] = at + i < size ? buffer_[static_cast<size_t>(at + i)] : 0.0f;
    }
    probabilities.push_back(vad_->Run(input.data(), sample_rate_, state.data()));
  }
  std::vector<float> scores;
  for (int64_t cut = last; cut >= first; cut -= frame_samples_) {
    const int64_t a = std::max<int64_t>(0, (cut - quiet_ / 2 - begin) / window);
    const int64_t b = std::min<int64_t>(static_cast<int64_t>(probabilities.size()) - 1,
                                        (cut + quiet_ - quiet_ / 2 - 1 - begin) / window);
    double sum = 0.0;
    for (int64_t k = a; k <= b; ++k) sum += probabilities[static_cast<size_t>(k)];
    scores.push_back(static_cast<float>(sum / static_cast<double>(std::max<int64_t>(1, b - a + 1))));
  }
  return scores;
}

void WindowCutter::Reset() {
  buffer_.clear();
  buffer_start_ = 0;
}

void WindowCutter::Accept(const float* samples, size_t count) {
  buffer_.insert(buffer_.end(), samples, samples + count);
}

int64_t WindowCutter::QuietestCut() const {
  // Candidates: encoder-frame boundaries in [max - search, max]; each scored by the energy of the quiet_
  // samples centred on it (prefix sums of squares in double: exact enough for 30 s of audio).
  const int64_t size = static_cast<int64_t>(buffer_.size());
  const int64_t last = max_window_ / frame_samples_ * frame_samples_;
  const int64_t first =
      std::max<int64_t>(frame_samples_, (max_window_ - search_ + frame_samples_ - 1) / frame_samples_ * frame_samples_);
  const int64_t from = std::max<int64_t>(0, first - quiet_ / 2);
  const int64_t to = std::min(size, last + quiet_ - quiet_ / 2);
  std::vector<double> prefix(static_cast<size_t>(to - from + 1), 0.0);
  for (int64_t i = from; i < to; ++i) {
    const double x = buffer_[static_cast<size_t>(i)];
    prefix[static_cast<size_t>(i - from + 1)] = prefix[static_cast<size_t>(i - from)] + x * x;
  }
  // With a VAD: its probabilities in steps of 0.05 first (below that they are noise), then energy.
  const std::vector<float> speech = vad_ ? SpeechScores(first, last) : std::vector<float>();
  int64_t best = last;
  double best_energy = 0.0;
  int best_speech = 0;
  size_t k = 0;
  // From the end backwards, so that ties (digital silence) keep the longest window.
  for (int64_t cut = last; cut >= first; cut -= frame_samples_, ++k) {
    const int64_t a = std::max(from, cut - quiet_ / 2);
    const int64_t b = std::min(to, cut + quiet_ - quiet_ / 2);
    const double energy = (prefix[static_cast<size_t>(b - from)] - prefix[static_cast<size_t>(a - from)]) /
                          static_cast<double>(std::max<int64_t>(1, b - a));
    const int speech_step = vad_ ? static_cast<int>(speech[k] * 20.0f) : 0;
    if (cut == last || speech_step < best_speech || (speech_step == best_speech && energy < best_energy)) {
      best = cut;
      best_energy = energy;
      best_speech = speech_step;
    }
  }
  return best;
}

bool WindowCutter::Next(bool input_finished, AudioWindow* window) {
  const int64_t size = static_cast<int64_t>(buffer_.size());
  int64_t take = 0;
  // A cut needs the samples just after the longest window too (the stretch around it).
  if (size >= max_window_ + quiet_) {
    take = QuietestCut();
  } else if (input_finished && size > max_window_) {
    take = QuietestCut();
  } else if (input_finished) {
    take = size;
  } else {
    return false;
  }
  window->start_sample = buffer_start_;
  window->samples.assign(buffer_.begin(), buffer_.begin() + take);
  buffer_.erase(buffer_.begin(), buffer_.begin() + take);
  buffer_start_ += take;
  return take > 0;
}

WindowedUtterances::WindowedUtterances(const ImprovedFbank& fbank, const LongAudioConfig& config, int frame_samples,
                                       int64_t max_window_samples, std::shared_ptr<const SileroVadModel> vad)
    : fbank_(fbank),
      frame_samples_(frame_samples),
      cutter_(config, fbank.options().sample_rate, frame_samples, max_window_samples, std::move(vad)) {}

void WindowedUtterances::Reset() {
  cutter_.Reset();
  ready_.clear();
}

void WindowedUtterances::Accept(const float* samples, size_t count) {
  cutter_.Accept(samples, count);
  Prepare(false);
}

void WindowedUtterances::InputFinished() { Prepare(true); }

void WindowedUtterances::Prepare(bool input_finished) {
  const FbankOptions& o = fbank_.options();
  const int dim = fbank_.feature_dim();
  while (cutter_.Next(input_finished, &scratch_)) {
    Window w;
    w.start_frame = scratch_.start_sample / frame_samples_;
    w.frames = fbank_.Compute(SampleView::Float32(scratch_.samples.data(), scratch_.samples.size()));
    w.valid_frames = static_cast<int64_t>(w.frames.size()) / dim;
    // No valid frame: NeMo's encoder gives no output (the graph's length arithmetic would claim one).
    if (w.valid_frames == 0) continue;
    int64_t width = w.valid_frames + 1;
    if (o.pad_to > 0) width = (width + o.pad_to - 1) / o.pad_to * o.pad_to;
    w.frames.resize(static_cast<size_t>(width) * dim, o.pad_value);
    w.width = static_cast<int>(width);
    ready_.push_back(std::move(w));
  }
}

}  // namespace nemo_fast
