// How tokens are found in the head's output, and the defaults a model folder gives for it (decoding.json).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nemo_fast/decoding/beam_search.h"
#include "nemo_fast/decoding/hotwords.h"
#include "nemo_fast/decoding/token_words.h"

namespace nemo_fast {

// Greedy is NeMo's greedy decoding, exactly; beam adds an n-gram LM and hotwords (decoding/beam_search.h).
// kModelDefault: what the model folder's decoding.json names (the shipped model's: beam search with its LM), else
// greedy.
enum class DecodingMethod { kModelDefault, kGreedy, kBeam };

const char* DecodingMethodName(DecodingMethod method);  // "model_default", "greedy", "beam"

// The model folder's file of decoding defaults: a JSON object with "decoding" ("greedy" or "beam") and beam
// settings under the names below ("lm": an ARPA file, relative to the folder).
constexpr const char* kDecodingDefaultsFile = "decoding.json";

struct DecodingConfig {
  DecodingMethod method = DecodingMethod::kModelDefault;
  // Beam search settings. Unset: the model's decoding.json (when the method resolves to beam), else the default
  // after "else".
  std::optional<int> beam_size;              // else 8
  std::optional<float> token_min_log_prob;   // else -5: tokens less likely at a frame are not expanded
  std::optional<float> beam_prune_log_prob;  // else -10: hypotheses this far below the best are dropped
  std::optional<std::string> lm_path;        // an ARPA file; else none ("" also: none)
  std::optional<float> lm_weight;            // else 0.5
  std::optional<float> word_bonus;           // else 1.5
  float unknown_word_penalty = -10.0f;
  std::vector<Hotword> hotwords;
  std::optional<float> hotword_boost;  // a phrase's boost when it gives none; else 8

  std::string ToString() const;
};

// The decoding a model folder runs with: `given`, its unset method and settings taken from DIR/decoding.json
// (settings only when the method is beam), the rest from the defaults; every field set. model_dir empty: no
// file. Throws kInvalidConfig naming the file and the key for a decoding.json that is not a JSON object of
// known keys and types.
DecodingConfig ResolveDecoding(const DecodingConfig& given, const std::string& model_dir);

// The beam search's options for a decoding config (unset settings: the defaults): the LM loaded, the hotwords
// compiled for these words. Throws kInvalidConfig for values out of range, as the loaders do for bad files.
BeamSearchOptions MakeBeamSearchOptions(const DecodingConfig& config, const TokenWords& words);

}  // namespace nemo_fast
