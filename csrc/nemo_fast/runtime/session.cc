#include "nemo_fast/runtime/session.h"

#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <sstream>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "nemo_fast/common/error.h"
#include "nemo_fast/runtime/onnxruntime_loader.h"

namespace nemo_fast {

std::string SessionConfig::ToString() const {
  std::ostringstream os;
  os << "SessionConfig(intra_op_threads=" << intra_op_threads << ", inter_op_threads=" << inter_op_threads
     << ", graph_optimization_level=" << graph_optimization_level;
  for (const auto& [k, v] : config_entries) os << ", " << k << "=" << v;
  os << ")";
  return os.str();
}

Ort::Env& GlobalOrtEnv() {
  static std::once_flag once;
  static std::unique_ptr<Ort::Env> env;
  GetRuntimeInfo();  // throws if ONNX Runtime is not loaded yet
  std::call_once(once, [] { env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "nemo_fast"); });
  return *env;
}

namespace {
GraphOptimizationLevel ToOrtLevel(int level) {
  switch (level) {
    case 0: return ORT_DISABLE_ALL;
    case 1: return ORT_ENABLE_BASIC;
    case 2: return ORT_ENABLE_EXTENDED;
    case 99: return ORT_ENABLE_ALL;
  }
  Fail(ErrorCode::kInvalidConfig, "graph_optimization_level must be 0, 1, 2 or 99, got ", level);
}

// ONNX Runtime (1.3x) frees each weight's original copy after pre-packing it, but glibc keeps such freed heap
// memory, so a process went on holding the weights twice (large model: 780 instead of 505 MB resident).
// malloc_trim hands it back once; unlike changing glibc's thresholds it leaves the process's malloc tuning
// alone. The transient peak while loading stays.
void ReturnFreedHeapToSystem() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}
}  // namespace

OnnxSession::OnnxSession(const std::string& model_path, const SessionConfig& config) : path_(model_path) {
  struct stat st;
  if (stat(model_path.c_str(), &st) != 0) Fail(ErrorCode::kModelFileNotFound, "model file not found: ", model_path);
  // Far more threads than cores only makes ONNX Runtime's spinning threads starve each other.
  const int max_threads = std::max(8, 4 * static_cast<int>(std::thread::hardware_concurrency()));
  for (int threads : {config.intra_op_threads, config.inter_op_threads}) {
    if (threads < 0 || threads > max_threads) {
      Fail(ErrorCode::kInvalidConfig, "thread counts must lie in 0..", max_threads,
           " (0: ONNX Runtime's default; at most 4x this machine's cores), got ", threads);
    }
  }
  Ort::Env& env = GlobalOrtEnv();
  try {
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(config.intra_op_threads);
    options.SetInterOpNumThreads(config.inter_op_threads);
    options.SetGraphOptimizationLevel(ToOrtLevel(config.graph_optimization_level));
    for (const auto& [key, value] : config.config_entries) options.AddConfigEntry(key.c_str(), value.c_str());
    session_ = std::make_unique<Ort::Session>(env, model_path.c_str(), options);
    ReturnFreedHeapToSystem();
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < session_->GetInputCount(); ++i) {
      input_names_.emplace_back(session_->GetInputNameAllocated(i, allocator).get());
    }
    for (size_t i = 0; i < session_->GetOutputCount(); ++i) {
      output_names_.emplace_back(session_->GetOutputNameAllocated(i, allocator).get());
    }
    Ort::ModelMetadata meta = session_->GetModelMetadata();
    for (auto& key : meta.GetCustomMetadataMapKeysAllocated(allocator)) {
      metadata_[key.get()] = meta.LookupCustomMetadataMapAllocated(key.get(), allocator).get();
    }
  } catch (const Ort::Exception& e) {
    Fail(ErrorCode::kInvalidModel, "ONNX Runtime cannot load ", model_path, ": ", e.what());
  }
}

std::vector<int64_t> OnnxSession::InputShape(size_t i) const {
  return session_->GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
}

}  // namespace nemo_fast
