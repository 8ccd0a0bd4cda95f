// What an exported model says about itself: read once from the ONNX metadata that `nemo-fast export` and
// `nemo-fast import` write (schema documented in nemo_fast/model_format.py), validated on construction.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nemo_fast/features/fbank_options.h"

namespace nemo_fast {

constexpr int kMetadataSchemaVersion = 2;
// Bounds that no real model reaches and that keep every decode loop finite.
constexpr int kMaxTdtDuration = 1024;     // frames one TDT step may advance
constexpr int kMaxSymbolsPerFrame = 100;  // transducer tokens per encoder frame; also the limit of -1 ("none")

// NeMo's CacheAwareStreamingConfig for one lookahead. Pairs are {first chunk, later chunks}.
struct StreamingGeometry {
  std::array<int, 2> chunk_size_frames{};
  std::array<int, 2> shift_size_frames{};
  std::array<int, 2> pre_encode_cache_size_frames{};
  std::array<int, 2> sampling_frames{};  // a chunk shorter than this is not run (NeMo's iterator stops)
  int drop_extra_pre_encoded = 0;        // for later chunks (and the first in pad_and_drop_preencoded mode)
  int valid_out_len = 0;                 // outputs kept per chunk, except the last (keep_all_outputs)
  int last_channel_cache_size = 0;
  // NeMo's own export (imported models) fixes the drop inside the graph, which then has no
  // drop_extra_pre_encoded input and serves only the pad_and_drop_preencoded mode.
  bool drop_is_input = true;
};

// The transducer head (RNN-T or TDT) of a transducer or hybrid model: two graphs beside model.onnx.
struct TransducerSpec {
  std::string decoder_file;  // prediction-network step, relative to the model directory
  std::string joiner_file;   // joint after projections
  int pred_rnn_layers = 0;
  int pred_hidden = 0;
  int joint_hidden = 0;
  int max_symbols_per_step = -1;  // NeMo's greedy limit per frame; -1: none (NeMo's None)
  // The limit the decoder applies: NeMo's, but at most kMaxSymbolsPerFrame (a frame of speech never holds
  // that many tokens; a damaged or untrained model could otherwise loop forever).
  int symbols_per_frame_limit() const {
    return max_symbols_per_step < 0 ? kMaxSymbolsPerFrame : std::min(max_symbols_per_step, kMaxSymbolsPerFrame);
  }
  std::vector<int> durations;  // TDT durations in frames (empty for RNN-T)
};

struct ModelSpec {
  int schema_version = 0;
  std::string model_class;
  std::string nemo_version;
  std::vector<std::string> decoders;  // heads: "ctc", "rnnt", "tdt"
  std::string default_decoder;
  bool streaming = false;  // cache-aware graph (else whole-utterance)
  FbankOptions features;
  int feat_in = 0;
  int subsampling_factor = 0;
  int vocab_size = 0;  // output classes including blank
  int blank_id = 0;
  std::string vocabulary_type;  // "bpe" or "char"
  std::string tokens_file;      // relative to the model directory
  std::array<int, 2> att_context_size{};
  StreamingGeometry geometry;
  std::array<int64_t, 3> cache_last_channel_shape{};  // per batch row: layers, cache frames, width
  std::array<int64_t, 3> cache_last_time_shape{};     // per batch row: layers, d_model, kernel - 1
  TransducerSpec transducer;                          // when decoders holds "rnnt" or "tdt"
  // Offline graphs: the longest input the graph's position table covers, in encoder frames (0: not recorded).
  int max_encoder_frames = 0;

  bool has_decoder(const std::string& name) const;
  bool has_transducer() const { return has_decoder("rnnt") || has_decoder("tdt"); }

  // Seconds per encoder output frame.
  double frame_shift_seconds() const {
    return static_cast<double>(features.hop_length_samples) * subsampling_factor / features.sample_rate;
  }
  // The start of an output frame in seconds, computed from whole samples (no accumulated rounding: frame 3 of a
  // 0.08 s shift is 0.24, not 0.24000000000000002).
  double frame_time_seconds(int64_t frame) const {
    return static_cast<double>(frame * features.hop_length_samples * subsampling_factor) / features.sample_rate;
  }

  // Throws kInvalidModel listing every missing or malformed key.
  static ModelSpec FromMetadata(const std::map<std::string, std::string>& metadata, const std::string& source);
  std::string ToString() const;
};

}  // namespace nemo_fast
