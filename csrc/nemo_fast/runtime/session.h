// An ONNX Runtime session with the settings users choose, its I/O names and its custom metadata.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nemo_fast/runtime/ort.h"

namespace nemo_fast {

struct SessionConfig {
  int intra_op_threads = 1;           // threads inside one operator (0: ONNX Runtime's default, all cores)
  int inter_op_threads = 1;           // threads across independent operators (used only with parallel execution)
  int graph_optimization_level = 99;  // 0 none, 1 basic, 2 extended, 99 all (ONNX Runtime's levels)
  std::map<std::string, std::string> config_entries;  // extra session config keys, passed through
  // Execution providers in order of preference: "cuda", "tensorrt", "cpu" (empty: the CPU). A provider the
  // loaded ONNX Runtime lacks is an error, unless "cpu" follows it in the list (then it is skipped).
  std::vector<std::string> providers;
  // ONNX Runtime's options per provider, e.g. {"cuda": {{"device_id", "1"}}, "tensorrt": {{"trt_fp16_enable",
  // "1"}, {"trt_engine_cache_enable", "1"}, {"trt_engine_cache_path", "/cache"}}}.
  std::map<std::string, std::map<std::string, std::string>> provider_options;
  // Non-empty: ONNX Runtime profiles the session (each node's time and provider, Chrome trace JSON) into
  // "<profile_prefix>_<date>.json", complete when the session ends or EndProfiling is called.
  std::string profile_prefix;

  std::string ToString() const;
};

// The process-wide ONNX Runtime environment (created on first use, after LoadOnnxRuntime).
Ort::Env& GlobalOrtEnv();

class OnnxSession {
 public:
  // Throws kModelFileNotFound / kInvalidModel / kOnnxRuntime with the path in the message.
  OnnxSession(const std::string& model_path, const SessionConfig& config);

  Ort::Session& get() { return *session_; }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The execution providers this session was given, in order (ONNX Runtime's names; the CPU always last).
  const std::vector<std::string>& providers() const { return providers_; }
  // Ends the profile of a session made with profile_prefix and returns the file it completed; kInvalidConfig
  // when the session is not being profiled (never, or ended already).
  std::string EndProfiling();
  // Shape of input i as the model declares it (-1 for dynamic dimensions).
  std::vector<int64_t> InputShape(size_t i) const;
  // Throws kInvalidModel naming the first input or output whose element type is not the one nemo_fast feeds
  // or reads ('f': float32, 'l': int64), one letter per input and output in order (outputs beyond the
  // string are not checked). A graph converted to float16 with float16 inputs fails here, not at its first run.
  void CheckElementTypes(const std::string& inputs, const std::string& outputs) const;

 private:
  std::string path_;
  std::unique_ptr<Ort::Session> session_;
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> providers_;
  bool profiling_ = false;
};

// The execution providers the loaded ONNX Runtime offers (its names, e.g. "CUDAExecutionProvider").
std::vector<std::string> AvailableProviders();

}  // namespace nemo_fast
