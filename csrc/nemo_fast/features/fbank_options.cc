#include "nemo_fast/features/fbank_options.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/samples.h"

namespace nemo_fast {

const char* EnumName(WindowType v) {
  switch (v) {
    case WindowType::kHann: return "hann";
    case WindowType::kHamming: return "hamming";
    case WindowType::kBlackman: return "blackman";
    case WindowType::kBartlett: return "bartlett";
  }
  return "?";
}
const char* EnumName(LogGuard v) { return v == LogGuard::kAdd ? "add" : "clamp"; }
const char* EnumName(FeatureNormalize v) {
  switch (v) {
    case FeatureNormalize::kNone: return "NA";
    case FeatureNormalize::kPerFeature: return "per_feature";
    case FeatureNormalize::kAllFeatures: return "all_features";
    case FeatureNormalize::kFixed: return "fixed";
  }
  return "?";
}
const char* EnumName(MelNorm v) { return v == MelNorm::kSlaney ? "slaney" : "none"; }

namespace {

template <typename Enum, size_t N>
Enum ParseEnum(const std::string& key, const std::string& value, const Enum (&values)[N]) {
  for (Enum e : values) {
    if (value == EnumName(e)) return e;
  }
  std::string allowed;
  for (Enum e : values) allowed += std::string(allowed.empty() ? "" : ", ") + EnumName(e);
  Fail(ErrorCode::kInvalidConfig, "feature option ", key, "='", value, "' is not one of: ", allowed);
}

std::string FormatFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

double ParseDouble(const std::string& key, const std::string& s) {
  try {
    size_t pos = 0;
    double v = std::stod(s, &pos);
    if (pos == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  Fail(ErrorCode::kInvalidConfig, "feature option ", key, "='", s, "' is not a finite number");
}

int ParseInt(const std::string& key, const std::string& s) {
  double v = ParseDouble(key, s);
  if (v != std::floor(v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    Fail(ErrorCode::kInvalidConfig, "feature option ", key, "='", s, "' is not an integer in range");
  }
  return static_cast<int>(v);
}

bool ParseBool(const std::string& key, const std::string& s) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  Fail(ErrorCode::kInvalidConfig, "feature option ", key, "='", s, "' is not a boolean");
}

// float32 arrays travel in metadata as base64 of their little-endian bytes.
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string EncodeFloats(const std::vector<float>& values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t chunk = 0;
    for (std::size_t j = 0; j < 3; ++j) chunk = (chunk << 8) | (j < n ? static_cast<std::uint8_t>(bytes[i + j]) : 0u);
    for (std::size_t j = 0; j < 4; ++j) out += j <= n ? kBase64[(chunk >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

std::vector<float> DecodeFloats(const std::string& key, const std::string& text) {
  std::string bytes;
  std::uint32_t chunk = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* p = std::strchr(kBase64, c);
    if (p == nullptr || c == '\0') Fail(ErrorCode::kInvalidConfig, "feature option ", key, " is not valid base64");
    chunk = (chunk << 6) | static_cast<std::uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((chunk >> bits) & 0xff);
    }
  }
  if (bytes.size() % sizeof(float) != 0)
    Fail(ErrorCode::kInvalidConfig, "feature option ", key, " has a partial float");
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

}  // namespace

long long FbankOptions::NumValidFrames(long long num_samples) const {
  if (num_samples <= 0) return 0;
  long long numerator = num_samples + 2LL * left_pad_samples() - n_fft;
  if (numerator < 0) return 0;
  return numerator / hop_length_samples;
}

void FbankOptions::Validate() const {
  std::vector<std::string> problems;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  };
  check(sample_rate >= kMinSampleRate && sample_rate <= kMaxSampleRate,
        "sample_rate must lie in " + std::to_string(kMinSampleRate) + ".." + std::to_string(kMaxSampleRate) + " Hz");
  check(win_length_samples > 0, "window length must be positive");
  check(hop_length_samples > 0, "hop length must be positive");
  check(n_fft >= 4 && n_fft <= (1 << 16) && (n_fft & (n_fft - 1)) == 0,
        "n_fft must be a power of two in 4..65536 (got " + std::to_string(n_fft) + ")");
  check(num_mel_bins <= 4096, "features (mel bins) must be at most 4096");
  check(high_freq_hz >= 0.0, "highfreq must be >= 0 (0: half the sample rate)");
  check(win_length_samples <= n_fft, "window length (" + std::to_string(win_length_samples) +
                                         ") must not exceed n_fft (" + std::to_string(n_fft) + ")");
  check(num_mel_bins > 0, "features (mel bins) must be positive");
  check(low_freq_hz >= 0.0 && low_freq_hz < effective_high_freq_hz(), "lowfreq must be >= 0 and below highfreq");
  check(effective_high_freq_hz() <= sample_rate / 2.0, "highfreq must not exceed sample_rate / 2");
  check(log_guard_value > 0.0f, "log_zero_guard_value must be positive");
  check(mag_power > 0.0f, "mag_power must be positive");
  check(pad_to >= 0, "pad_to must be >= 0");
  check(!preemphasis || (preemph >= 0.0f && preemph < 1.0f), "preemph must be in [0, 1)");
  check(!exact_pad || hop_length_samples % 2 == 0, "exact_pad requires an even hop length (as NeMo)");
  check(window_taps.empty() || static_cast<int>(window_taps.size()) == win_length_samples,
        "window_taps must have win_length (" + std::to_string(win_length_samples) + ") values, got " +
            std::to_string(window_taps.size()));
  check(mel_weights.empty() ||
            mel_weights.size() == static_cast<std::size_t>(num_mel_bins) * static_cast<std::size_t>(n_fft / 2 + 1),
        "mel_weights must have num_mel_bins x (n_fft/2+1) values, got " + std::to_string(mel_weights.size()));
  const bool fixed = normalize == FeatureNormalize::kFixed;
  const auto bins = static_cast<std::size_t>(num_mel_bins);
  check(!fixed || (fixed_mean.size() == bins && fixed_std.size() == bins),
        "normalize fixed needs fixed_mean and fixed_std of num_mel_bins (" + std::to_string(num_mel_bins) +
            ") values each, got " + std::to_string(fixed_mean.size()) + " and " + std::to_string(fixed_std.size()));
  check(fixed || (fixed_mean.empty() && fixed_std.empty()), "fixed_mean and fixed_std apply to normalize fixed only");
  check(std::all_of(fixed_mean.begin(), fixed_mean.end(), [](float v) { return std::isfinite(v); }) &&
            std::all_of(fixed_std.begin(), fixed_std.end(), [](float v) { return std::isfinite(v) && v > 0.0f; }),
        "fixed_mean must be finite and fixed_std finite and positive");
  if (!problems.empty()) {
    std::string message = "invalid feature options:";
    for (const auto& p : problems) message += "\n  - " + p;
    throw Error(ErrorCode::kInvalidConfig, message);
  }
}

std::map<std::string, std::string> FbankOptions::ToKeyValues() const {
  std::map<std::string, std::string> kv = {
      {"sample_rate", std::to_string(sample_rate)},
      {"win_length_samples", std::to_string(win_length_samples)},
      {"hop_length_samples", std::to_string(hop_length_samples)},
      {"n_fft", std::to_string(n_fft)},
      {"window", EnumName(window)},
      {"preemph", preemphasis ? FormatFloat(preemph) : std::string("none")},
      {"num_mel_bins", std::to_string(num_mel_bins)},
      {"low_freq_hz", FormatFloat(low_freq_hz)},
      {"high_freq_hz", FormatFloat(high_freq_hz)},
      {"mel_norm", EnumName(mel_norm)},
      {"log", log ? "true" : "false"},
      {"log_guard", EnumName(log_guard)},
      {"log_guard_value", FormatFloat(log_guard_value)},
      {"mag_power", FormatFloat(mag_power)},
      {"normalize", EnumName(normalize)},
      {"pad_to", std::to_string(pad_to)},
      {"pad_value", FormatFloat(pad_value)},
      {"exact_pad", exact_pad ? "true" : "false"},
  };
  if (!window_taps.empty()) kv["window_taps"] = EncodeFloats(window_taps);
  if (!mel_weights.empty()) kv["mel_weights"] = EncodeFloats(mel_weights);
  if (!fixed_mean.empty()) kv["fixed_mean"] = EncodeFloats(fixed_mean);
  if (!fixed_std.empty()) kv["fixed_std"] = EncodeFloats(fixed_std);
  return kv;
}

FbankOptions FbankOptions::FromKeyValues(const std::map<std::string, std::string>& kv) {
  FbankOptions o;
  const auto expected = o.ToKeyValues();
  std::vector<std::string> problems;
  for (const auto& [key, value] : kv) {
    const bool array = key == "window_taps" || key == "mel_weights" || key == "fixed_mean" || key == "fixed_std";
    if (!expected.count(key) && !array) {
      problems.push_back("unknown key '" + key + "'");
    }
  }
  for (const auto& [key, value] : expected) {
    if (!kv.count(key)) problems.push_back("missing key '" + key + "'");
  }
  if (!problems.empty()) {
    std::string message = "invalid feature options:";
    for (const auto& p : problems) message += "\n  - " + p;
    throw Error(ErrorCode::kInvalidConfig, message);
  }
  o.sample_rate = ParseInt("sample_rate", kv.at("sample_rate"));
  o.win_length_samples = ParseInt("win_length_samples", kv.at("win_length_samples"));
  o.hop_length_samples = ParseInt("hop_length_samples", kv.at("hop_length_samples"));
  o.n_fft = ParseInt("n_fft", kv.at("n_fft"));
  o.window = ParseEnum("window", kv.at("window"),
                       {WindowType::kHann, WindowType::kHamming, WindowType::kBlackman, WindowType::kBartlett});
  o.preemphasis = kv.at("preemph") != "none";
  o.preemph = o.preemphasis ? static_cast<float>(ParseDouble("preemph", kv.at("preemph"))) : 0.0f;
  o.num_mel_bins = ParseInt("num_mel_bins", kv.at("num_mel_bins"));
  o.low_freq_hz = ParseDouble("low_freq_hz", kv.at("low_freq_hz"));
  o.high_freq_hz = ParseDouble("high_freq_hz", kv.at("high_freq_hz"));
  o.mel_norm = ParseEnum("mel_norm", kv.at("mel_norm"), {MelNorm::kNone, MelNorm::kSlaney});
  o.log = ParseBool("log", kv.at("log"));
  o.log_guard = ParseEnum("log_guard", kv.at("log_guard"), {LogGuard::kAdd, LogGuard::kClamp});
  o.log_guard_value = static_cast<float>(ParseDouble("log_guard_value", kv.at("log_guard_value")));
  o.mag_power = static_cast<float>(ParseDouble("mag_power", kv.at("mag_power")));
  o.normalize = ParseEnum("normalize", kv.at("normalize"),
                          {FeatureNormalize::kNone, FeatureNormalize::kPerFeature, FeatureNormalize::kAllFeatures,
                           FeatureNormalize::kFixed});
  o.pad_to = ParseInt("pad_to", kv.at("pad_to"));
  o.pad_value = static_cast<float>(ParseDouble("pad_value", kv.at("pad_value")));
  o.exact_pad = ParseBool("exact_pad", kv.at("exact_pad"));
  if (kv.count("window_taps")) o.window_taps = DecodeFloats("window_taps", kv.at("window_taps"));
  if (kv.count("mel_weights")) o.mel_weights = DecodeFloats("mel_weights", kv.at("mel_weights"));
  if (kv.count("fixed_mean")) o.fixed_mean = DecodeFloats("fixed_mean", kv.at("fixed_mean"));
  if (kv.count("fixed_std")) o.fixed_std = DecodeFloats("fixed_std", kv.at("fixed_std"));
  o.Validate();
  return o;
}

std::string FbankOptions::ToString() const {
  std::ostringstream os;
  os << "FbankOptions(";
  bool first = true;
  for (const auto& [key, value] : ToKeyValues()) {
    os << (first ? "" : ", ") << key << "=";
    if (key == "window_taps" || key == "mel_weights" || key == "fixed_mean" || key == "fixed_std")
      os << "<" << DecodeFloats(key, value).size() << " floats>";
    else
      os << value;
    first = false;
  }
  os << ")";
  return os.str();
}

}  // namespace nemo_fast
