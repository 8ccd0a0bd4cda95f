// Options of ImprovedFbank: NeMo's AudioToMelSpectrogramPreprocessor in inference mode (dither 0,
// frame_splicing 1). The Python layer builds them from a NeMo `preprocessor` config; the exporter stores
// them in ONNX metadata as flat key/value strings (ToKeyValues / FromKeyValues).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nemo_fast/features/mel_filterbank.h"

namespace nemo_fast {

enum class WindowType { kHann, kHamming, kBlackman, kBartlett };
enum class LogGuard { kAdd, kClamp };
// kFixed: NeMo's normalize {fixed_mean, fixed_std} (global CMVN): (x - mean) / std per mel bin, frame by frame.
enum class FeatureNormalize { kNone, kPerFeature, kAllFeatures, kFixed };

struct FbankOptions {
  int sample_rate = 16000;
  int win_length_samples = 400;
  int hop_length_samples = 160;
  int n_fft = 512;
  WindowType window = WindowType::kHann;
  bool preemphasis = true;  // NeMo's preemph is not None
  float preemph = 0.97f;
  int num_mel_bins = 80;
  double low_freq_hz = 0.0;
  double high_freq_hz = 0.0;  // 0 means sample_rate / 2
  MelNorm mel_norm = MelNorm::kSlaney;
  bool log = true;
  LogGuard log_guard = LogGuard::kAdd;
  float log_guard_value = 5.9604644775390625e-08f;  // 2^-24
  float mag_power = 2.0f;
  FeatureNormalize normalize = FeatureNormalize::kNone;
  int pad_to = 0;  // pad the whole-utterance output to a multiple of this many frames (0: none)
  float pad_value = 0.0f;
  bool exact_pad = false;
  // A model's own window taps (win_length values) and mel matrix (num_mel_bins x n_fft/2+1, row-major),
  // as stored in its checkpoint. Empty: computed from the options as NeMo does. Using the checkpoint's
  // buffers makes features exact even where NeMo's float32 window differs from ours in the last bit.
  std::vector<float> window_taps;
  std::vector<float> mel_weights;
  // The statistics of normalize kFixed (num_mel_bins values each).
  std::vector<float> fixed_mean;
  std::vector<float> fixed_std;

  // Throws kInvalidConfig listing every problem found.
  void Validate() const;
  std::string ToString() const;
  std::map<std::string, std::string> ToKeyValues() const;
  // Reads keys written by ToKeyValues; unknown or missing keys are errors.
  static FbankOptions FromKeyValues(const std::map<std::string, std::string>& kv);

  double effective_high_freq_hz() const { return high_freq_hz > 0.0 ? high_freq_hz : sample_rate / 2.0; }
  // Zeros added before the first sample (torch.stft center padding, or exact_pad's amount).
  int left_pad_samples() const { return exact_pad ? (n_fft - hop_length_samples) / 2 : n_fft / 2; }
  // Frames NeMo marks valid for num_samples samples (its get_seq_len, with 0 for empty input).
  long long NumValidFrames(long long num_samples) const;
  // Samples at the end of the audio that NeMo zeroes before the STFT. With exact_pad NeMo pads first and
  // then applies its preemphasis time mask with the unpadded length, which zeroes the last left_pad
  // samples of the signal; we reproduce that.
  int masked_tail_samples() const { return exact_pad && preemphasis ? left_pad_samples() : 0; }
};

const char* EnumName(WindowType v);
const char* EnumName(LogGuard v);
const char* EnumName(FeatureNormalize v);
const char* EnumName(MelNorm v);

}  // namespace nemo_fast
