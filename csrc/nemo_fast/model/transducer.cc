#include "nemo_fast/model/transducer.h"

#include "nemo_fast/common/error.h"

namespace nemo_fast {
namespace {

const char* const kDecoderInputNames[] = {"targets", "states_h", "states_c"};
const char* const kDecoderOutputNames[] = {"decoder_output", "states_h_next", "states_c_next"};
const char* const kJoinerInputNames[] = {"encoder_output", "decoder_output"};
const char* const kJoinerOutputNames[] = {"log_probs", "duration_log_probs"};

template <size_t NI>
void CheckNames(const OnnxSession& session, const char* const (&inputs)[NI], const char* const* outputs,
                size_t num_outputs) {
  const std::vector<std::string> expected_inputs(inputs, inputs + NI);
  const std::vector<std::string> expected_outputs(outputs, outputs + num_outputs);
  if (session.input_names() != expected_inputs || session.output_names() != expected_outputs) {
    Fail(ErrorCode::kInvalidModel, session.path(), " does not have the inputs and outputs of a nemo_fast ",
         "transducer graph; re-export the model with `nemo-fast export`");
  }
}

Ort::MemoryInfo& CpuMemory() {
  static Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return memory;
}

}  // namespace

NeMoTransducerHead::NeMoTransducerHead(const std::string& model_dir, const ModelSpec& spec, const SessionConfig& config,
                                       bool encoder_on_cpu)
    : spec_(spec.transducer), vocab_size_(spec.vocab_size) {
  if (!spec.has_transducer()) Fail(ErrorCode::kInvalidModel, model_dir, ": the model has no transducer head");
  // Beside an encoder on the CPU, one thread: the heads' small products gain little from a pool whose threads
  // spin between calls, taking the encoder's cores (114 M RNN-T, [70,1], 2 threads on 2 cores: real-time
  // factor 0.148 -> 0.107). Beside an encoder on a GPU the cores are free and hundreds of streams make the
  // joint a large product: the user's threads, not spinning (large model's joint, 896 rows, 2 threads: 0.64x
  // the time, every row bitwise the same; benchmarks/joint_threads.py).
  SessionConfig head_config = config;
  head_config.intra_op_threads = encoder_on_cpu ? 1 : config.intra_op_threads;
  head_config.inter_op_threads = 1;
  if (head_config.intra_op_threads != 1) head_config.config_entries["session.intra_op.allow_spinning"] = "0";
  // They stay on the CPU when the encoder runs on a GPU: each call is one decoding step, one row per stream
  // (a decode_streams batch shares its steps), and on a GPU each call would be a kernel launch plus a copy
  // each way for rows of a few hundred thousand multiply-adds. (For batches of hundreds of streams the GPU
  // may well be faster; not measured.)
  head_config.providers.clear();
  head_config.provider_options.clear();
  head_config.profile_prefix.clear();  // the encoder's profile only
  decoder_ = std::make_unique<OnnxSession>(model_dir + "/" + spec_.decoder_file, head_config);
  joiner_ = std::make_unique<OnnxSession>(model_dir + "/" + spec_.joiner_file, head_config);
  CheckNames(*decoder_, kDecoderInputNames, kDecoderOutputNames, 3);
  CheckNames(*joiner_, kJoinerInputNames, kJoinerOutputNames, num_durations() > 0 ? 2 : 1);
  decoder_->CheckElementTypes("lff", "fff");
  joiner_->CheckElementTypes("ff", "ff");
}

int NeMoTransducerHead::state_size() const { return spec_.pred_rnn_layers * spec_.pred_hidden; }

void NeMoTransducerHead::Predict(int batch, const int64_t* targets, const float* states_h, const float* states_c,
                                 float* decoder_output, float* states_h_next, float* states_c_next) const {
  const int64_t B = batch, L = spec_.pred_rnn_layers, H = spec_.pred_hidden;
  const int64_t target_shape[] = {B, 1};
  const int64_t state_shape[] = {L, B, H};
  const int64_t output_shape[] = {B, spec_.joint_hidden};
  auto& memory = CpuMemory();
  // ONNX Runtime's C++ API takes non-const pointers for inputs; it does not write to them.
  Ort::Value inputs[] = {
      Ort::Value::CreateTensor<int64_t>(memory, const_cast<int64_t*>(targets), B, target_shape, 2),
      Ort::Value::CreateTensor<float>(memory, const_cast<float*>(states_h), L * B * H, state_shape, 3),
      Ort::Value::CreateTensor<float>(memory, const_cast<float*>(states_c), L * B * H, state_shape, 3)};
  Ort::Value outputs[] = {
      Ort::Value::CreateTensor<float>(memory, decoder_output, B * spec_.joint_hidden, output_shape, 2),
      Ort::Value::CreateTensor<float>(memory, states_h_next, L * B * H, state_shape, 3),
      Ort::Value::CreateTensor<float>(memory, states_c_next, L * B * H, state_shape, 3)};
  try {
    decoder_->get().Run(Ort::RunOptions{nullptr}, kDecoderInputNames, inputs, 3, kDecoderOutputNames, outputs, 3);
  } catch (const Ort::Exception& e) {
    Fail(ErrorCode::kOnnxRuntime, "transducer prediction step failed: ", e.what());
  }
}

void NeMoTransducerHead::Joint(int batch, const float* encoder_output, const float* decoder_output, float* log_probs,
                               float* duration_log_probs) const {
  const int64_t B = batch;
  const int64_t input_shape[] = {B, spec_.joint_hidden};
  const int64_t log_prob_shape[] = {B, vocab_size_};
  const int64_t duration_shape[] = {B, num_durations()};
  auto& memory = CpuMemory();
  Ort::Value inputs[] = {Ort::Value::CreateTensor<float>(memory, const_cast<float*>(encoder_output),
                                                         B * spec_.joint_hidden, input_shape, 2),
                         Ort::Value::CreateTensor<float>(memory, const_cast<float*>(decoder_output),
                                                         B * spec_.joint_hidden, input_shape, 2)};
  std::vector<Ort::Value> outputs;
  outputs.push_back(Ort::Value::CreateTensor<float>(memory, log_probs, B * vocab_size_, log_prob_shape, 2));
  if (num_durations() > 0) {
    outputs.push_back(
        Ort::Value::CreateTensor<float>(memory, duration_log_probs, B * num_durations(), duration_shape, 2));
  }
  try {
    joiner_->get().Run(Ort::RunOptions{nullptr}, kJoinerInputNames, inputs, 2, kJoinerOutputNames, outputs.data(),
                       outputs.size());
  } catch (const Ort::Exception& e) {
    Fail(ErrorCode::kOnnxRuntime, "transducer joint failed: ", e.what());
  }
}

}  // namespace nemo_fast
