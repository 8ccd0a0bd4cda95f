// Long inputs of offline (whole-utterance) models, cut into windows at pauses. A full-attention graph covers at
// most the length of its relative-position table, and its attention memory grows with the square of the input,
// so a long input is decoded as windows of at most max_window_seconds, each cut at the quietest stretch of its
// last cut_search_seconds (the least energy over quiet_seconds), on the grid of encoder frames so that the
// windows' output frames continue each other's times. Each window is an utterance as NeMo would transcribe it
// alone (its own features and normalization); the decoder carries on across the cut. With a Silero VAD model the
// quietest stretch is the least speech-like one (VAD probability, then energy): a loud noise is no speech, a soft
// word is.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "nemo_fast/features/improved_fbank.h"
#include "nemo_fast/vad/silero_vad.h"

namespace nemo_fast {

struct LongAudioConfig {
  // The longest window in seconds. 0: 30 s, or less where the model's position table is shorter.
  double max_window_seconds = 0.0;
  double cut_search_seconds = 10.0;  // the cut lies in the window's last this many seconds (at most half)
  double quiet_seconds = 0.1;        // the stretch whose energy is compared
  std::string vad_model;             // a Silero VAD model: cut where it finds the least speech; empty: energy

  // Throws kInvalidConfig for values out of range.
  void Validate() const;
  std::string ToString() const;
};

// One window of samples, at the model's rate.
struct AudioWindow {
  int64_t start_sample = 0;  // from the stream's start; a multiple of the encoder frame
  std::vector<float> samples;
};

class WindowCutter {
 public:
  // frame_samples: samples per encoder output frame (hop x subsampling); max_window_samples: the window length
  // after the config and the model's limit are resolved (Recognizer does that), a multiple of frame_samples.
  WindowCutter(const LongAudioConfig& config, int sample_rate, int frame_samples, int64_t max_window_samples,
               std::shared_ptr<const SileroVadModel> vad = nullptr);

  void Accept(const float* samples, size_t count);
  // The next window: a full window cut at its pause, or after input_finished the rest (empty when nothing is
  // left). False while neither is ready.
  bool Next(bool input_finished, AudioWindow* window);
  void Reset();

  int64_t max_window_samples() const { return max_window_; }
  size_t buffered_samples() const { return buffer_.size(); }

 private:
  int64_t QuietestCut() const;  // samples from the buffer's start

  // The VAD probability of each candidate's stretch (candidates from `last` down, as QuietestCut visits them).
  std::vector<float> SpeechScores(int64_t first, int64_t last) const;

  const int sample_rate_;
  const int frame_samples_;
  const int64_t max_window_;
  const int64_t search_;  // samples of the window searched for the cut
  const int64_t quiet_;   // samples of the stretch compared
  std::shared_ptr<const SileroVadModel> vad_;
  std::vector<float> buffer_;  // samples not yet in a window
  int64_t buffer_start_ = 0;   // the stream sample of buffer_[0]
};

// An offline stream's windows from cut to decoded: the cutter, then each window's features as NeMo's
// preprocessor gives them for that audio alone (normalized over the window; one STFT frame more than the valid
// frames, padded to a multiple of pad_to), queued until the encoder takes them.
class WindowedUtterances {
 public:
  struct Window {
    int64_t start_frame = 0;    // the encoder output frame of the stream where the window starts
    int64_t valid_frames = 0;   // NeMo's valid feature frames (the encoder's length input)
    int width = 0;              // feature frames given to the encoder
    std::vector<float> frames;  // width x feature_dim, time-major
  };

  WindowedUtterances(const ImprovedFbank& fbank, const LongAudioConfig& config, int frame_samples,
                     int64_t max_window_samples, std::shared_ptr<const SileroVadModel> vad = nullptr);

  void Accept(const float* samples, size_t count);  // prepares the windows cut by these samples
  void InputFinished();                             // prepares the rest
  void Reset();

  bool empty() const { return ready_.empty(); }
  size_t size() const { return ready_.size(); }
  const Window& front() const { return ready_.front(); }
  void Pop() { ready_.pop_front(); }

 private:
  void Prepare(bool input_finished);

  const ImprovedFbank& fbank_;
  const int frame_samples_;
  WindowCutter cutter_;
  AudioWindow scratch_;
  std::deque<Window> ready_;
};

}  // namespace nemo_fast
