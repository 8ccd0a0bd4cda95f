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
  if (!profile_prefix.empty()) os << ", profile_prefix=" << profile_prefix;
  if (!providers.empty()) {
    os << ", providers=";
    for (size_t i = 0; i < providers.size(); ++i) os << (i ? "," : "") << providers[i];
  }
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

ONNXTensorElementDataType ElementTypeOf(char letter) {
  return letter == 'l' ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
}

const char* ElementTypeName(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    default: return "another type";
  }
}

}  // namespace

std::vector<std::string> AvailableProviders() { return Ort::GetAvailableProviders(); }

namespace {

const std::map<std::string, std::string>& ProviderNames() {
  static const std::map<std::string, std::string> names = {
      {"cpu", "CPUExecutionProvider"}, {"cuda", "CUDAExecutionProvider"}, {"tensorrt", "TensorrtExecutionProvider"}};
  return names;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// ONNX Runtime's V2 provider options: create, set the keys, hand to the session options, release.
template <typename Options, typename Create, typename Update, typename Release, typename Append>
void AppendWithOptions(Create create, Update update, Release release, const std::vector<const char*>& keys,
                       const std::vector<const char*>& values, Append append) {
  Options* provider = nullptr;
  Ort::ThrowOnError(create(&provider));
  std::unique_ptr<Options, Release> owned(provider, release);
  Ort::ThrowOnError(update(provider, keys.data(), values.data(), keys.size()));
  append(*provider);
}

// Appends config.providers (before the CPU, which ONNX Runtime always keeps for what they cannot run) and
// returns the ONNX Runtime names of those appended.
std::vector<std::string> AppendProviders(const SessionConfig& config, Ort::SessionOptions* options) {
  for (const auto& [name, unused] : config.provider_options) {
    if (std::find(config.providers.begin(), config.providers.end(), name) == config.providers.end()) {
      Fail(ErrorCode::kInvalidConfig, "provider_options for '", name, "', which is not among the providers");
    }
  }
  const auto available = Ort::GetAvailableProviders();
  std::vector<std::string> used;
  for (size_t i = 0; i < config.providers.size(); ++i) {
    const std::string& name = config.providers[i];
    const auto known = ProviderNames().find(name);
    if (known == ProviderNames().end()) {
      Fail(ErrorCode::kInvalidConfig, "unknown execution provider '", name, "' (nemo_fast knows cpu, cuda, tensorrt)");
    }
    if (name == "cpu") break;  // the CPU takes everything the providers before it do not
    if (std::find(available.begin(), available.end(), known->second) == available.end()) {
      const bool cpu_follows =
          std::find(config.providers.begin() + i, config.providers.end(), "cpu") != config.providers.end();
      if (cpu_follows) continue;
      Fail(ErrorCode::kInvalidConfig, "execution provider '", name, "' (", known->second,
           ") is not in the ONNX Runtime library loaded from ", GetRuntimeInfo().library_path, " (it has ",
           Join(available), "): install the onnxruntime-gpu wheel in place of onnxruntime (pip install ",
           "\"nemo_fast[gpu]\"), or list 'cpu' after it to fall back to the CPU");
    }
    std::vector<const char*> keys, values;
    const auto found = config.provider_options.find(name);
    if (found != config.provider_options.end()) {
      for (const auto& [key, value] : found->second) {
        keys.push_back(key.c_str());
        values.push_back(value.c_str());
      }
    }
    // cuDNN's convolution algorithm by heuristics unless the user chooses: ONNX Runtime's default benchmarks
    // every algorithm for each new input shape, and a streaming batch takes a new shape whenever streams come
    // or go (measured on an H200, large model, 32 streams at [70,1]: p95 tick 233 -> 28 ms in fp16, 45 -> 28 ms
    // in fp32).
    const bool conv_search_given =
        found != config.provider_options.end() && found->second.count("cudnn_conv_algo_search") > 0;
    if (name == "cuda" && !conv_search_given) {
      keys.push_back("cudnn_conv_algo_search");
      values.push_back("HEURISTIC");
    }
    const OrtApi& api = Ort::GetApi();
    if (name == "cuda") {
      AppendWithOptions<OrtCUDAProviderOptionsV2>(api.CreateCUDAProviderOptions, api.UpdateCUDAProviderOptions,
                                                  api.ReleaseCUDAProviderOptions, keys, values,
                                                  [&](const auto& o) { options->AppendExecutionProvider_CUDA_V2(o); });
    } else {
      AppendWithOptions<OrtTensorRTProviderOptionsV2>(
          api.CreateTensorRTProviderOptions, api.UpdateTensorRTProviderOptions, api.ReleaseTensorRTProviderOptions,
          keys, values, [&](const auto& o) { options->AppendExecutionProvider_TensorRT_V2(o); });
    }
    used.push_back(known->second);
  }
  used.push_back("CPUExecutionProvider");
  return used;
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
    if (!config.profile_prefix.empty()) options.EnableProfiling(config.profile_prefix.c_str());
    try {
      providers_ = AppendProviders(config, &options);
    } catch (const Ort::Exception& e) {
      Fail(ErrorCode::kInvalidConfig, "an execution provider of ", Join(config.providers),
           " could not start: ", e.what());
    }
    session_ = std::make_unique<Ort::Session>(env, model_path.c_str(), options);
    profiling_ = !config.profile_prefix.empty();
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

std::string OnnxSession::EndProfiling() {
  if (!profiling_) {
    Fail(ErrorCode::kInvalidConfig, path_, " is not being profiled (made without a profile prefix, or ended)");
  }
  profiling_ = false;
  Ort::AllocatorWithDefaultOptions allocator;
  return session_->EndProfilingAllocated(allocator).get();
}

std::vector<int64_t> OnnxSession::InputShape(size_t i) const {
  return session_->GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
}

void OnnxSession::CheckElementTypes(const std::string& inputs, const std::string& outputs) const {
  const auto check = [&](const char* kind, const std::string& name, Ort::TypeInfo info, char letter) {
    const ONNXTensorElementDataType expected = ElementTypeOf(letter);
    const ONNXTensorElementDataType actual = info.GetONNXType() == ONNX_TYPE_TENSOR
                                                 ? info.GetTensorTypeAndShapeInfo().GetElementType()
                                                 : ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    if (actual != expected) {
      Fail(ErrorCode::kInvalidModel, path_, ": ", kind, " '", name, "' is a ", ElementTypeName(actual),
           " tensor but nemo_fast exchanges ", ElementTypeName(expected),
           " there (a float16 conversion must keep float32 inputs and outputs, e.g. keep_io_types=True)");
    }
  };
  for (size_t i = 0; i < inputs.size() && i < input_names_.size(); ++i) {
    check("input", input_names_[i], session_->GetInputTypeInfo(i), inputs[i]);
  }
  for (size_t i = 0; i < outputs.size() && i < output_names_.size(); ++i) {
    check("output", output_names_[i], session_->GetOutputTypeInfo(i), outputs[i]);
  }
}

}  // namespace nemo_fast
