#include "nemo_fast/pipeline/recognizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/interrupt.h"

namespace nemo_fast {

namespace {

uint64_t NewCacheVersion() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string DirectoryOf(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : file.substr(0, slash);
}

}  // namespace

std::string RecognizerConfig::ToString() const {
  std::ostringstream os;
  os << "RecognizerConfig(session=" << session.ToString() << ", decoder=" << (decoder.empty() ? "default" : decoder)
     << ", streaming_mode="
     << (streaming_mode == StreamingMode::kDefault ? "default" : "pad_and_drop_preencoded")
     << ", keep_log_probs=" << (keep_log_probs ? "true" : "false") << ", max_batch_size=" << max_batch_size << ")";
  return os.str();
}

Recognizer::Recognizer(const std::string& model_path, const RecognizerConfig& config) : config_(config) {
  if (config.max_batch_size < 1) Fail(ErrorCode::kInvalidConfig, "max_batch_size must be >= 1");
  const bool is_dir = IsDirectory(model_path);
  const std::string onnx_path = is_dir ? model_path + "/model.onnx" : model_path;
  const std::string dir = is_dir ? model_path : DirectoryOf(model_path);
  encoder_ = std::make_unique<NeMoCacheAwareConformer>(onnx_path, config.session, config.decoder);
  const ModelSpec& s = encoder_->spec();
  if (encoder_->decoder() != "ctc") {
    if (config.keep_log_probs) {
      Fail(ErrorCode::kInvalidConfig, "keep_log_probs applies to the CTC head; the ", encoder_->decoder(),
           " head is in use");
    }
    transducer_ = std::make_unique<NeMoTransducerHead>(dir, s, config.session);
  }
  fbank_ = std::make_unique<ImprovedFbank>(s.features);
  const auto type = s.vocabulary_type == "char" ? Vocabulary::Type::kCharacters : Vocabulary::Type::kSentencePiece;
  vocabulary_ = std::make_unique<Vocabulary>(Vocabulary::FromFile(dir + "/" + s.tokens_file, type, s.vocab_size));
}

Recognizer::~Recognizer() = default;

std::unique_ptr<RecognizerStream> Recognizer::CreateStream() const { return std::make_unique<RecognizerStream>(*this); }

RecognizerStream::RecognizerStream(const Recognizer& recognizer)
    : recognizer_(recognizer), fbank_(recognizer.fbank().CreateStream()), ctc_decoder_(recognizer.spec().blank_id) {
  if (recognizer.transducer_) {
    transducer_decoder_ = std::make_unique<TransducerGreedyDecoder>(*recognizer.transducer_, recognizer.spec().vocab_size,
                                                                    recognizer.spec().blank_id);
  }
  ResetUnlocked();
}

std::shared_ptr<const ResamplingFilter> Recognizer::ResamplingFilterFrom(int input_rate) const {
  std::lock_guard<std::mutex> lock(resampling_mutex_);
  auto found = resampling_filters_.find(input_rate);
  if (found != resampling_filters_.end()) return found->second;
  auto filter = std::make_shared<const ResamplingFilter>(input_rate, spec().features.sample_rate);  // may throw
  resampling_filters_.emplace(input_rate, filter);
  return filter;
}

void RecognizerStream::Reset() {
  BusyScope busy(busy_);
  ResetUnlocked();
}

void RecognizerStream::ResetUnlocked() {
  fbank_->Reset();
  if (resampler_) resampler_->Reset();  // kept: a stream reused at the same rate needs no new filter
  input_rate_ = 0;
  frames_.clear();
  frames_begin_ = num_frames_ = valid_frames_ = 0;
  finished_ = done_ = false;
  next_start_ = 0;
  step_ = 0;
  const auto& enc = recognizer_.encoder();
  if (recognizer_.spec().streaming) {
    // NeMo's get_initial_cache_state: zeros, and zero valid cache frames.
    cache_channel_.Zeros(enc.cache_last_channel_row_size());
    cache_time_.Zeros(enc.cache_last_time_row_size());
  }
  cache_len_ = cache_len_next_ = 0;
  cache_version_ = NewCacheVersion();
  ctc_decoder_.Reset();
  if (transducer_decoder_) transducer_decoder_->Reset();
  log_probs_.clear();
}

void RecognizerStream::AppendFrames(const std::vector<float>& frames) {
  frames_.insert(frames_.end(), frames.begin(), frames.end());
  num_frames_ += static_cast<int64_t>(frames.size()) / recognizer_.spec().feat_in;
}

void RecognizerStream::AcceptWaveform(const SampleView& samples, int sample_rate) {
  BusyScope busy(busy_);
  if (finished_) Fail(ErrorCode::kInvalidState, "accept_waveform() called after input_finished(); call reset() first");
  if (input_rate_ != 0 && sample_rate != input_rate_) {
    Fail(ErrorCode::kSampleRateMismatch, "audio at ", sample_rate, " Hz but this stream's audio so far is at ",
         input_rate_, " Hz; a stream takes one sample rate (reset() it to change)");
  }
  pending_.clear();
  if (sample_rate == this->sample_rate()) {
    fbank_->AcceptWaveform(samples, &pending_);
  } else {
    if (!resampler_ || resampler_->input_rate() != sample_rate) {
      resampler_ = std::make_unique<StreamingResampler>(recognizer_.ResamplingFilterFrom(sample_rate));
    }
    resampled_.clear();
    resampler_->Accept(samples, &resampled_);
    fbank_->AcceptWaveform(SampleView::Float32(resampled_.data(), resampled_.size()), &pending_);
  }
  input_rate_ = sample_rate;
  AppendFrames(pending_);
}

void RecognizerStream::InputFinished() {
  BusyScope busy(busy_);
  if (finished_) return;
  pending_.clear();
  if (resampler_ && input_rate_ == resampler_->input_rate()) {
    resampled_.clear();
    resampler_->Flush(&resampled_);
    fbank_->AcceptWaveform(SampleView::Float32(resampled_.data(), resampled_.size()), &pending_);
  }
  fbank_->InputFinished(&pending_);
  AppendFrames(pending_);
  valid_frames_ = num_frames_;
  if (fbank_->num_samples() > 0) {
    // NeMo's preprocessor output is one STFT frame longer than its valid frames (that frame masked to
    // pad_value), offline models pad further to a multiple of pad_to; both reach the encoder.
    const FbankOptions& o = recognizer_.spec().features;
    int64_t width = num_frames_ + 1;
    if (!recognizer_.spec().streaming && o.pad_to > 0) width = (width + o.pad_to - 1) / o.pad_to * o.pad_to;
    frames_.resize(frames_.size() + static_cast<size_t>(width - num_frames_) * o.num_mel_bins, o.pad_value);
    num_frames_ = width;
  } else {
    done_ = true;  // no audio: nothing to decode
  }
  if (!recognizer_.spec().streaming && valid_frames_ == 0) {
    // No valid feature frame: NeMo's encoder gives no output. (The exported graph's length arithmetic
    // truncates toward zero where NeMo floors, so it would claim one frame.)
    done_ = true;
  }
  finished_ = true;
}

bool RecognizerStream::PlanChunk(ChunkPlan* plan) const {
  if (done_) return false;
  const ModelSpec& s = recognizer_.spec();
  if (!s.streaming) {
    if (!finished_) return false;
    plan->start = 0;
    plan->frames = static_cast<int>(num_frames_);
    plan->last = true;
    return true;
  }
  const StreamingGeometry& g = s.geometry;
  const bool first = step_ == 0;
  const int mode = recognizer_.config().streaming_mode == StreamingMode::kPadAndDropPreencoded ? 1 : 0;
  const int index = first ? mode : 1;
  const int chunk = g.chunk_size_frames[index];
  const int shift = g.shift_size_frames[index];
  const int64_t start = next_start_;
  if (finished_) {
    if (start >= num_frames_) return false;
    const int64_t available = std::min<int64_t>(chunk, num_frames_ - start);
    if (available < g.sampling_frames[first ? 0 : 1]) return false;  // too short to subsample: NeMo stops
    plan->frames = static_cast<int>(available);
    plan->last = start + shift >= num_frames_;
  } else {
    // A full chunk, and proof that it is not the last one: at least one frame beyond the shift.
    if (num_frames_ < start + chunk || num_frames_ <= start + shift) return false;
    plan->frames = chunk;
    plan->last = false;
  }
  plan->start = start;
  plan->shift = shift;
  plan->cache_frames = g.pre_encode_cache_size_frames[index];
  plan->drop = (first && mode == 0) ? 0 : g.drop_extra_pre_encoded;
  return true;
}

bool RecognizerStream::IsReady() const {
  BusyScope busy(busy_);
  ChunkPlan plan;
  return PlanChunk(&plan);
}

void RecognizerStream::FillChunk(const ChunkPlan& plan, float* dst, int stride) const {
  const int dim = recognizer_.spec().feat_in;
  const int64_t first_frame = plan.start - plan.cache_frames;
  for (int t = 0; t < plan.input_frames(); ++t) {
    const int64_t frame = first_frame + t;
    // Cache frames before the audio (all of the first chunk's cache) are zeros, as in NeMo.
    const bool zero = frame < 0;
    const float* src = zero ? nullptr : frames_.data() + (frame - frames_begin_) * dim;
    for (int f = 0; f < dim; ++f) dst[static_cast<int64_t>(f) * stride + t] = zero ? 0.0f : src[f];
  }
}

void RecognizerStream::CompleteChunk(const ChunkPlan& plan, const float* head_output, int64_t encoded_len) {
  const ModelSpec& s = recognizer_.spec();
  int64_t keep = encoded_len;
  if (s.streaming && !plan.last) keep = std::min<int64_t>(keep, s.geometry.valid_out_len);
  if (transducer_decoder_) {
    transducer_decoder_->Accept(head_output, static_cast<int>(keep));
  } else {
    ctc_decoder_.Accept(head_output, static_cast<int>(keep), s.vocab_size);
    if (recognizer_.config().keep_log_probs) {
      log_probs_.insert(log_probs_.end(), head_output, head_output + keep * s.vocab_size);
    }
  }
  if (s.streaming) {
    std::swap(cache_channel_, cache_channel_next_);
    std::swap(cache_time_, cache_time_next_);
    std::swap(cache_len_, cache_len_next_);
    cache_version_ = NewCacheVersion();
  }
  ++step_;
  next_start_ = plan.start + plan.shift;
  if (plan.last || !s.streaming) done_ = true;
  // Keep only the frames a later chunk (or its pre-encode cache) can still read.
  const int64_t keep_from = s.streaming ? next_start_ - s.geometry.pre_encode_cache_size_frames[1] : num_frames_;
  const int64_t drop = std::min(keep_from, num_frames_) - frames_begin_;
  if (drop > 0) {
    frames_.erase(frames_.begin(), frames_.begin() + drop * s.feat_in);
    frames_begin_ += drop;
  }
}

RecognitionResult RecognizerStream::Result() const {
  BusyScope busy(busy_);
  RecognitionResult r;
  r.token_ids = transducer_decoder_ ? transducer_decoder_->tokens() : ctc_decoder_.tokens();
  const auto& frames = transducer_decoder_ ? transducer_decoder_->token_frames() : ctc_decoder_.token_frames();
  const double shift = recognizer_.spec().frame_shift_seconds();
  for (int64_t f : frames) r.token_times_seconds.push_back(f * shift);
  r.text = recognizer_.vocabulary().Detokenize(r.token_ids, /*final=*/done_);
  r.num_frames = transducer_decoder_ ? transducer_decoder_->num_frames() : ctc_decoder_.num_frames();
  r.log_probs = log_probs_;
  r.vocab_size = recognizer_.spec().vocab_size;
  return r;
}

namespace {
// Buffers of one batched encoder call: stacked features and the stacked caches in and out.
struct BatchScratch {
  std::vector<float> features;
  CacheTensor channel, time;  // the stacked caches of the last batch: gathered inputs, then its outputs
  // Cache versions of the streams whose current caches channel/time hold, row by row: when the same streams
  // come back in the same order (lock-step serving), the last outputs are the next inputs.
  std::vector<uint64_t> versions;
};
}  // namespace

namespace {
// Holds the busy flags of every stream of one DecodeStreams call, or none: acquiring stops at the first
// stream in use elsewhere, releases what it took and throws, so a refused call changes no stream.
class StreamsInUse {
 public:
  explicit StreamsInUse(const std::vector<const BusyFlag*>& flags) {
    for (const BusyFlag* flag : flags) {
      if (!flag->TryAcquire()) {
        Release();
        Fail(ErrorCode::kStreamBusy, "a stream passed to decode_streams() is in use by another call (another "
                                     "thread) at this moment; a stream belongs to one thread at a time");
      }
      held_.push_back(flag);
    }
  }
  ~StreamsInUse() { Release(); }

 private:
  void Release() {
    for (const BusyFlag* flag : held_) flag->Release();
    held_.clear();
  }
  std::vector<const BusyFlag*> held_;
};
}  // namespace

void Recognizer::DecodeStreams(const std::vector<RecognizerStream*>& streams) const {
  std::vector<const BusyFlag*> flags;
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i] == nullptr) Fail(ErrorCode::kInvalidArgument, "decode_streams(): stream ", i, " is null");
    if (&streams[i]->recognizer_ != this) {
      Fail(ErrorCode::kInvalidArgument, "decode_streams(): stream ", i,
           " was created by another Recognizer; decode it with the recognizer that created it");
    }
    flags.push_back(&streams[i]->busy_);
  }
  // A stream listed twice would have its ready chunk decoded once per entry.
  std::vector<std::pair<const RecognizerStream*, size_t>> order;
  for (size_t i = 0; i < streams.size(); ++i) order.emplace_back(streams[i], i);
  std::sort(order.begin(), order.end());
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i].first == order[i - 1].first) {
      Fail(ErrorCode::kInvalidArgument, "decode_streams(): the same stream is listed twice (positions ",
           order[i - 1].second, " and ", order[i].second, "); list each stream once");
    }
  }
  StreamsInUse in_use(flags);
  const ModelSpec& s = spec();
  const int dim = s.feat_in;
  for (;;) {
    ThrowIfInterrupted();  // between chunks: every stream is consistent here
    // Group the streams' next chunks by shape: rows of one batch must have equal frames and drop, as
    // padding rows would change NeMo's cache updates.
    std::map<std::tuple<int, int64_t>, std::vector<std::pair<RecognizerStream*, RecognizerStream::ChunkPlan>>> groups;
    for (RecognizerStream* stream : streams) {
      RecognizerStream::ChunkPlan plan;
      if (stream->PlanChunk(&plan)) groups[{plan.input_frames(), plan.drop}].emplace_back(stream, plan);
    }
    if (groups.empty()) return;
    for (auto& [shape, members] : groups) {
      const int frames = std::get<0>(shape);
      for (size_t begin = 0; begin < members.size(); begin += config_.max_batch_size) {
        const size_t end = std::min(members.size(), begin + config_.max_batch_size);
        const int batch = static_cast<int>(end - begin);
        // Scratch kept per thread: a batch of large-model caches is tens of MB, and allocating it afresh per
        // call cost page faults on every tick (8 streams: 184 ms per tick against 131 ms for the encoder alone).
        thread_local BatchScratch scratch;
        std::vector<float>& features = scratch.features;
        features.resize(static_cast<size_t>(batch) * dim * frames);
        std::vector<int64_t> lengths(batch, frames);
        for (int b = 0; b < batch; ++b) {
          members[begin + b].first->FillChunk(members[begin + b].second, features.data() + static_cast<size_t>(b) * dim * frames, frames);
        }
        EncoderOutput out;
        if (!s.streaming) {
          // The encoder's length input counts only valid frames (NeMo's seq_len), not the padding.
          for (int b = 0; b < batch; ++b) lengths[b] = members[begin + b].first->valid_frames_;
          out = encoder_->RunUtterances(batch, frames, features.data(), lengths.data());
        } else if (batch == 1) {
          RecognizerStream* st = members[begin].first;
          EncoderBatch eb{1, frames, features.data(), lengths.data(), std::get<1>(shape),
                          st->cache_channel_.data(), st->cache_time_.data(), &st->cache_len_, &st->cache_len_next_};
          out = encoder_->RunChunk(eb);
          st->cache_channel_next_.Adopt(std::move(out.cache_last_channel_next));
          st->cache_time_next_.Adopt(std::move(out.cache_last_time_next));
        } else {
          // Stack the rows' caches, run once, unstack into each stream's next-cache buffers. When these streams
          // come back in this order with the caches this call gave them, its outputs are the next inputs.
          const int64_t ch = encoder_->cache_last_channel_row_size(), tm = encoder_->cache_last_time_row_size();
          bool stacked = scratch.versions.size() == static_cast<size_t>(batch);
          for (int b = 0; stacked && b < batch; ++b) {
            stacked = members[begin + b].first->cache_version_ == scratch.versions[b];
          }
          scratch.versions.clear();
          if (!stacked) {
            float* channel = scratch.channel.Owned(batch * ch);
            float* time = scratch.time.Owned(batch * tm);
            for (int b = 0; b < batch; ++b) {
              RecognizerStream* st = members[begin + b].first;
              std::memcpy(channel + b * ch, st->cache_channel_.data(), ch * sizeof(float));
              std::memcpy(time + b * tm, st->cache_time_.data(), tm * sizeof(float));
            }
          }
          std::vector<int64_t> cache_len(batch), cache_len_next(batch);
          for (int b = 0; b < batch; ++b) cache_len[b] = members[begin + b].first->cache_len_;
          EncoderBatch eb{batch, frames, features.data(), lengths.data(), std::get<1>(shape), scratch.channel.data(),
                          scratch.time.data(), cache_len.data(), cache_len_next.data()};
          out = encoder_->RunChunk(eb);
          scratch.channel.Adopt(std::move(out.cache_last_channel_next));
          scratch.time.Adopt(std::move(out.cache_last_time_next));
          for (int b = 0; b < batch; ++b) {
            RecognizerStream* st = members[begin + b].first;
            std::memcpy(st->cache_channel_next_.Owned(ch), scratch.channel.data() + b * ch, ch * sizeof(float));
            std::memcpy(st->cache_time_next_.Owned(tm), scratch.time.data() + b * tm, tm * sizeof(float));
            st->cache_len_next_ = cache_len_next[b];
          }
        }
        for (int b = 0; b < batch; ++b) {
          const float* rows = out.frames_data.data() + static_cast<size_t>(b) * out.frames * out.dim;
          members[begin + b].first->CompleteChunk(members[begin + b].second, rows, out.lengths[b]);
        }
        if (s.streaming && batch > 1) {
          for (int b = 0; b < batch; ++b) scratch.versions.push_back(members[begin + b].first->cache_version_);
        }
      }
    }
  }
}

}  // namespace nemo_fast
