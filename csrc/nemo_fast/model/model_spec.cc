#include "nemo_fast/model/model_spec.h"

#include <limits>
#include <sstream>

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

class MetadataReader {
 public:
  explicit MetadataReader(const std::map<std::string, std::string>& m) : m_(m) {}

  const std::string* Find(const std::string& key) {
    auto it = m_.find(key);
    if (it == m_.end()) {
      problems_.push_back("missing key '" + key + "'");
      return nullptr;
    }
    return &it->second;
  }
  std::string String(const std::string& key) {
    const std::string* v = Find(key);
    return v ? *v : std::string();
  }
  // count < 0: a list of any length (an empty value is an empty list).
  std::vector<long long> Ints(const std::string& key, int count) {
    const size_t fallback = count < 0 ? 0 : static_cast<size_t>(count);
    std::vector<long long> out;
    const std::string* v = Find(key);
    if (!v) return std::vector<long long>(fallback, 0);
    std::stringstream ss(*v);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        size_t pos = 0;
        out.push_back(std::stoll(item, &pos));
        if (pos != item.size()) throw std::invalid_argument(item);
      } catch (const std::exception&) {
        problems_.push_back("key '" + key + "' = '" + *v + "' is not a list of integers");
        return std::vector<long long>(fallback, 0);
      }
    }
    if (count >= 0 && out.size() != fallback) {
      problems_.push_back("key '" + key + "' = '" + *v + "' must have " + std::to_string(count) + " integers");
      return std::vector<long long>(fallback, 0);
    }
    return out;
  }
  std::vector<std::string> Strings(const std::string& key) {
    std::vector<std::string> out;
    std::stringstream ss(String(key));
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(item);
    return out;
  }
  // Values beyond 32 bits are refused rather than truncated (4294967553 is not 257).
  int ToInt(const std::string& key, long long v) {
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      problems_.push_back("key '" + key + "' = " + std::to_string(v) + " is out of range");
      return 0;
    }
    return static_cast<int>(v);
  }
  int Int(const std::string& key) { return ToInt(key, Ints(key, 1)[0]); }
  std::array<int, 2> Pair(const std::string& key) {
    auto v = Ints(key, 2);
    return {ToInt(key, v[0]), ToInt(key, v[1])};
  }
  void Problem(const std::string& p) { problems_.push_back(p); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const std::map<std::string, std::string>& m_;
  std::vector<std::string> problems_;
};

// The relations NeMo's setup_streaming_params guarantees between the streaming values, so that tampered
// metadata is refused instead of duplicating, skipping or dropping audio.
void CheckGeometry(const ModelSpec& s, MetadataReader* r) {
  const StreamingGeometry& g = s.geometry;
  const auto problem = [r](const std::string& what) { r->Problem("streaming geometry: " + what); };
  const char* which[] = {"first", "later"};
  for (int i = 0; i < 2; ++i) {
    const std::string chunk = std::string(which[i]) + " chunk";
    if (g.chunk_size_frames[i] < 1) problem(chunk + " size must be positive");
    if (g.shift_size_frames[i] < 1 || g.shift_size_frames[i] > g.chunk_size_frames[i]) {
      problem(chunk + " shift must lie in 1..chunk size (" + std::to_string(g.chunk_size_frames[i]) + ")");
    }
    if (g.sampling_frames[i] < 1 || g.sampling_frames[i] > g.chunk_size_frames[i]) {
      problem(chunk + " sampling_frames must lie in 1..chunk size");
    }
  }
  if (s.subsampling_factor < 1) return;
  const int ss = s.subsampling_factor;
  // NeMo's pre-encode cache is the subsampling's left context: subsampling_factor + 1 frames at most.
  for (int i = 0; i < 2; ++i) {
    if (g.pre_encode_cache_size_frames[i] < 0 || g.pre_encode_cache_size_frames[i] > ss + 1) {
      problem(std::string(which[i]) + " chunk pre_encode_cache_size must lie in 0.." + std::to_string(ss + 1));
    }
  }
  // setup_streaming_params derives these two from the others: a different value decodes the wrong frames.
  const int pre = g.pre_encode_cache_size_frames[1];
  const int drop = pre >= 1 ? 1 + (pre - 1) / ss : 0;
  if (g.drop_extra_pre_encoded != drop) {
    problem("drop_extra_pre_encoded must be " + std::to_string(drop) + " (NeMo's, for a pre-encode cache of " +
            std::to_string(pre) + " frames at " + std::to_string(ss) + "x subsampling)");
  }
  const int valid_out_len = (g.shift_size_frames[1] - g.sampling_frames[1]) / ss + 1;
  if (g.valid_out_len != valid_out_len) {
    problem("valid_out_len must be " + std::to_string(valid_out_len) + " (NeMo's, for the later chunks' shift of " +
            std::to_string(g.shift_size_frames[1]) + " frames)");
  }
  if (s.att_context_size[0] < -1 || s.att_context_size[1] < 0) problem("att_context_size is out of range");
  const auto& ch = s.cache_last_channel_shape;
  const auto& tm = s.cache_last_time_shape;
  if (ch[0] < 1 || ch[1] < 1 || ch[2] < 1 || tm[0] < 1 || tm[1] < 1 || tm[2] < 0 || ch[0] != tm[0]) {
    problem("cache shapes must be positive and have the same number of layers");
  }
  if (g.last_channel_cache_size != ch[1]) {
    problem("last_channel_cache_size (" + std::to_string(g.last_channel_cache_size) +
            ") differs from the attention cache's frames (" + std::to_string(ch[1]) + ")");
  }
  // Caches of one stream are allocated per batch row: refuse sizes no real model has (> 1 GB a row).
  if (ch[0] * ch[1] * ch[2] > (int64_t{1} << 28) || tm[0] * tm[1] * tm[2] > (int64_t{1} << 28)) {
    problem("cache shapes are implausibly large");
  }
}

}  // namespace

ModelSpec ModelSpec::FromMetadata(const std::map<std::string, std::string>& metadata, const std::string& source) {
  auto schema = metadata.find("nemo_fast.schema_version");
  if (schema == metadata.end()) {
    Fail(ErrorCode::kInvalidModel, source, " has no nemo_fast metadata (nemo_fast.schema_version); export the ",
         ".nemo checkpoint with `nemo-fast export` first");
  }
  MetadataReader r(metadata);
  ModelSpec s;
  s.schema_version = r.Int("nemo_fast.schema_version");
  if (s.schema_version != kMetadataSchemaVersion || !r.problems().empty()) {
    Fail(ErrorCode::kInvalidModel, source, " has metadata schema version ", schema->second,
         "; this nemo_fast reads version ", kMetadataSchemaVersion, ": re-export the model");
  }
  s.model_class = r.String("model_class");
  s.nemo_version = r.String("nemo_version");
  s.decoders = r.Strings("decoders");
  s.default_decoder = r.String("default_decoder");
  const std::string mode = r.String("mode");
  s.streaming = mode == "streaming";
  if (mode != "streaming" && mode != "offline") r.Problem("mode must be 'streaming' or 'offline', got '" + mode + "'");
  for (const auto& d : s.decoders) {
    if (d != "ctc" && d != "rnnt" && d != "tdt") r.Problem("decoder '" + d + "' is not supported (ctc, rnnt, tdt)");
  }
  if (s.decoders.empty()) r.Problem("decoders lists no head");
  if (!s.default_decoder.empty() && !s.has_decoder(s.default_decoder)) {
    r.Problem("default_decoder '" + s.default_decoder + "' is not one of the decoders");
  }
  if (s.has_transducer()) {
    TransducerSpec& t = s.transducer;
    t.decoder_file = r.String("transducer.decoder_file");
    t.joiner_file = r.String("transducer.joiner_file");
    t.pred_rnn_layers = r.Int("transducer.pred_rnn_layers");
    t.pred_hidden = r.Int("transducer.pred_hidden");
    t.joint_hidden = r.Int("transducer.joint_hidden");
    t.max_symbols_per_step = r.Int("transducer.max_symbols_per_step");
    for (long long d : r.Ints("transducer.durations", -1)) t.durations.push_back(static_cast<int>(d));
    if (s.has_decoder("tdt") == t.durations.empty()) {
      r.Problem("transducer.durations must be given exactly for a tdt decoder");
    }
    if (t.pred_rnn_layers <= 0 || t.pred_hidden <= 0 || t.joint_hidden <= 0) {
      r.Problem("transducer sizes must be positive");
    }
    if (t.max_symbols_per_step == 0 || t.max_symbols_per_step < -1) {
      r.Problem("transducer.max_symbols_per_step must be positive or -1");
    }
    bool moves = false;
    for (int d : t.durations) {
      if (d < 0 || d > kMaxTdtDuration) {
        r.Problem("transducer.durations must lie in 0.." + std::to_string(kMaxTdtDuration) + " frames, got " +
                  std::to_string(d));
      }
      moves = moves || d > 0;
    }
    if (!t.durations.empty() && !moves) r.Problem("transducer.durations must include a positive duration");
  }
  s.feat_in = r.Int("feat_in");
  const int n_layers = r.Int("n_layers");
  const int d_model = r.Int("d_model");
  if (n_layers < 1 || d_model < 1) r.Problem("n_layers and d_model must be positive");
  s.subsampling_factor = r.Int("subsampling_factor");
  s.vocab_size = r.Int("vocab_size");
  s.blank_id = r.Int("blank_id");
  s.vocabulary_type = r.String("vocabulary_type");
  s.tokens_file = r.String("tokens_file");
  if (s.subsampling_factor < 1) r.Problem("subsampling_factor must be positive");
  if (s.vocab_size < 2) r.Problem("vocab_size must be at least 2 (a token and the blank)");
  if (s.vocabulary_type != "bpe" && s.vocabulary_type != "char") {
    r.Problem("vocabulary_type must be 'bpe' or 'char', got '" + s.vocabulary_type + "'");
  }
  std::map<std::string, std::string> feature_kv;
  for (const auto& [key, value] : metadata) {
    if (key.rfind("features.", 0) == 0) feature_kv[key.substr(9)] = value;
  }
  if (s.streaming) {
    s.att_context_size = r.Pair("att_context_size");
    StreamingGeometry& g = s.geometry;
    g.chunk_size_frames = r.Pair("streaming.chunk_size");
    g.shift_size_frames = r.Pair("streaming.shift_size");
    g.pre_encode_cache_size_frames = r.Pair("streaming.pre_encode_cache_size");
    g.sampling_frames = r.Pair("streaming.sampling_frames");
    g.drop_extra_pre_encoded = r.Int("streaming.drop_extra_pre_encoded");
    g.valid_out_len = r.Int("streaming.valid_out_len");
    g.last_channel_cache_size = r.Int("streaming.last_channel_cache_size");
    const auto modes = metadata.find("streaming.modes");
    if (modes != metadata.end()) {
      if (modes->second == "pad_and_drop_preencoded") {
        g.drop_is_input = false;
      } else if (modes->second != "default,pad_and_drop_preencoded") {
        r.Problem("streaming.modes must be 'default,pad_and_drop_preencoded' or 'pad_and_drop_preencoded', got '" +
                  modes->second + "'");
      }
    }
    auto channel = r.Ints("cache.last_channel_shape", 3);
    auto time = r.Ints("cache.last_time_shape", 3);
    for (int i = 0; i < 3; ++i) {
      s.cache_last_channel_shape[i] = channel[i];
      s.cache_last_time_shape[i] = time[i];
    }
    CheckGeometry(s, &r);
    // The caches are per layer, and the convolution cache holds d_model channels.
    const int64_t width = s.cache_last_channel_shape[2];  // layer inputs, or projected keys and values
    if (s.cache_last_channel_shape[0] != n_layers || s.cache_last_time_shape[1] != d_model ||
        (width != d_model && width != 2 * int64_t{d_model})) {
      r.Problem("cache shapes disagree with n_layers (" + std::to_string(n_layers) + ") or d_model (" +
                std::to_string(d_model) + ")");
    }
  }
  if (!s.streaming && metadata.count("offline.max_encoder_frames")) {
    s.max_encoder_frames = r.Int("offline.max_encoder_frames");
    if (s.max_encoder_frames < 8) r.Problem("offline.max_encoder_frames must be at least 8");
  }
  if (!r.problems().empty() || feature_kv.empty()) {
    std::string message = source + " has incomplete nemo_fast metadata:";
    for (const auto& p : r.problems()) message += "\n  - " + p;
    if (feature_kv.empty()) message += "\n  - no features.* keys";
    throw Error(ErrorCode::kInvalidModel, message);
  }
  try {
    s.features = FbankOptions::FromKeyValues(feature_kv);
  } catch (const Error& e) {
    Fail(ErrorCode::kInvalidModel, source, ": ", e.what());
  }
  if (s.features.num_mel_bins != s.feat_in) {
    Fail(ErrorCode::kInvalidModel, source, ": features.num_mel_bins (", s.features.num_mel_bins,
         ") differs from the encoder's feat_in (", s.feat_in, ")");
  }
  if (s.blank_id != s.vocab_size - 1) {
    Fail(ErrorCode::kInvalidModel, source, ": blank_id ", s.blank_id, " is not the last of the ", s.vocab_size,
         " output classes, where NeMo's CTC and transducer heads put the blank");
  }
  return s;
}

bool ModelSpec::has_decoder(const std::string& name) const {
  for (const auto& d : decoders) {
    if (d == name) return true;
  }
  return false;
}

std::string ModelSpec::ToString() const {
  std::ostringstream os;
  std::string heads;
  for (const auto& d : decoders) heads += (heads.empty() ? "" : ",") + d;
  os << "ModelSpec(" << model_class << ", " << (streaming ? "streaming" : "offline") << ", decoders=" << heads
     << ", default_decoder=" << default_decoder << ", vocab_size=" << vocab_size << ", blank_id=" << blank_id
     << ", feat_in=" << feat_in << ", subsampling_factor=" << subsampling_factor;
  if (streaming) {
    const auto& g = geometry;
    os << ", att_context_size=[" << att_context_size[0] << "," << att_context_size[1] << "], chunk=["
       << g.chunk_size_frames[0] << "," << g.chunk_size_frames[1] << "], shift=[" << g.shift_size_frames[0] << ","
       << g.shift_size_frames[1] << "], pre_encode_cache=[" << g.pre_encode_cache_size_frames[0] << ","
       << g.pre_encode_cache_size_frames[1] << "], drop_extra_pre_encoded=" << g.drop_extra_pre_encoded
       << ", valid_out_len=" << g.valid_out_len;
    if (!g.drop_is_input) os << ", modes=pad_and_drop_preencoded";
  } else if (max_encoder_frames > 0) {
    os << ", max_encoder_frames=" << max_encoder_frames;
  }
  os << ")";
  return os.str();
}

}  // namespace nemo_fast
