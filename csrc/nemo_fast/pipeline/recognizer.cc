#include "nemo_fast/pipeline/recognizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/interrupt.h"
#include "nemo_fast/decoding/ctc_beam.h"
#include "nemo_fast/decoding/transducer_beam.h"

namespace nemo_fast {

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string DirectoryOf(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : file.substr(0, slash);
}

constexpr double kDefaultMaxWindowSeconds = 30.0;
// Encoder frames the padding of a window may add beyond its samples' frames (the STFT frame, pad_to).
constexpr int64_t kWindowPaddingFrames = 4;

// The longest window of an offline model's long input: the config's, within what the graph's position table
// covers (when the model says so), on the grid of encoder frames.
int64_t MaxWindowSamples(const ModelSpec& s, const LongAudioConfig& config, const std::string& source) {
  config.Validate();
  const int rate = s.features.sample_rate;
  const int64_t frame = static_cast<int64_t>(s.features.hop_length_samples) * s.subsampling_factor;
  const int64_t limit = s.max_encoder_frames > 0 ? (s.max_encoder_frames - kWindowPaddingFrames) * frame : 0;
  const double seconds = config.max_window_seconds > 0.0 ? config.max_window_seconds : kDefaultMaxWindowSeconds;
  int64_t samples = static_cast<int64_t>(seconds * rate) / frame * frame;
  if (limit > 0 && samples > limit) {
    if (config.max_window_seconds > 0.0) {
      Fail(ErrorCode::kInvalidConfig, "max_window_seconds=", config.max_window_seconds, " is longer than ", source,
           " covers: its position table holds ", s.max_encoder_frames, " encoder frames, windows of at most ",
           static_cast<double>(limit) / rate, " s");
    }
    samples = limit;
  }
  if (samples < 2 * frame) {
    Fail(ErrorCode::kInvalidConfig, "max_window_seconds=", seconds, " is shorter than two encoder frames (",
         2.0 * frame / rate, " s)");
  }
  return samples;
}

}  // namespace

std::string RecognizerConfig::ToString() const {
  std::ostringstream os;
  os << "RecognizerConfig(session=" << session.ToString() << ", decoder=" << (decoder.empty() ? "default" : decoder)
     << ", streaming_mode="
     << (streaming_mode == StreamingMode::kDefault ? "default"
         : streaming_mode == StreamingMode::kAuto  ? "auto"
                                                   : "pad_and_drop_preencoded")
     << ", keep_log_probs=" << (keep_log_probs ? "true" : "false") << ", max_batch_size=" << max_batch_size
     << ", decoding=" << decoding.ToString() << ", long_audio=" << long_audio.ToString() << ")";
  return os.str();
}

Recognizer::Recognizer(const std::string& model_path, const RecognizerConfig& config) : config_(config) {
  if (config.max_batch_size < 1) Fail(ErrorCode::kInvalidConfig, "max_batch_size must be >= 1");
  config.endpoint.Validate();
  const bool is_dir = IsDirectory(model_path);
  const std::string onnx_path = is_dir ? model_path + "/model.onnx" : model_path;
  const std::string dir = is_dir ? model_path : DirectoryOf(model_path);
  encoder_ = std::make_unique<NeMoCacheAwareConformer>(onnx_path, config.session, config.decoder);
  const ModelSpec& s = encoder_->spec();
  if (config_.streaming_mode == StreamingMode::kAuto) {
    config_.streaming_mode = s.geometry.drop_is_input ? StreamingMode::kDefault : StreamingMode::kPadAndDropPreencoded;
  }
  if (s.streaming && !s.geometry.drop_is_input && config_.streaming_mode != StreamingMode::kPadAndDropPreencoded) {
    Fail(ErrorCode::kInvalidConfig, onnx_path, " was exported by NeMo with a fixed pre-encode drop: it streams only ",
         "in the pad_and_drop_preencoded mode");
  }
  if (encoder_->decoder() != "ctc") {
    if (config.keep_log_probs) {
      Fail(ErrorCode::kInvalidConfig, "keep_log_probs applies to the CTC head; the ", encoder_->decoder(),
           " head is in use");
    }
    const bool encoder_on_cpu = encoder_->providers().front() == "CPUExecutionProvider";
    transducer_ = std::make_unique<NeMoTransducerHead>(dir, s, config.session, encoder_on_cpu);
  }
  fbank_ = std::make_unique<ImprovedFbank>(s.features);
  const auto type = s.vocabulary_type == "char" ? Vocabulary::Type::kCharacters : Vocabulary::Type::kSentencePiece;
  vocabulary_ = std::make_unique<Vocabulary>(Vocabulary::FromFile(dir + "/" + s.tokens_file, type, s.vocab_size));
  const TokenTiming timing = !transducer_                     ? TokenTiming::kCtc
                             : s.transducer.durations.empty() ? TokenTiming::kRnnt
                                                              : TokenTiming::kTdt;
  word_builder_ = std::make_unique<WordBuilder>(*vocabulary_, timing);
  token_words_ = std::make_unique<TokenWords>(*vocabulary_, s.blank_id);
  config_.decoding = ResolveDecoding(config.decoding, dir);
  const DecodingConfig& d = config_.decoding;
  if (d.method == DecodingMethod::kGreedy && (!d.lm_path->empty() || !d.hotwords.empty())) {
    Fail(ErrorCode::kInvalidConfig, "a language model and hotwords apply to beam search: set decoding='beam'");
  }
  if (d.method == DecodingMethod::kBeam) beam_options_ = MakeBeamSearchOptions(d, *token_words_);
  if (!s.streaming) {
    max_window_samples_ = MaxWindowSamples(s, config.long_audio, onnx_path);
    if (!config.long_audio.vad_model.empty()) {
      if (s.features.sample_rate != 8000 && s.features.sample_rate != 16000) {
        Fail(ErrorCode::kInvalidConfig, "cutting at VAD pauses needs a model at 8 or 16 kHz, not ",
             s.features.sample_rate, " Hz");
      }
      SessionConfig vad_session;  // one thread: a window of 32 ms is a small graph
      vad_ = std::make_shared<const SileroVadModel>(config.long_audio.vad_model, vad_session);
    }
  }
}

std::vector<int64_t> Recognizer::WindowStarts(const SampleView& samples) const {
  const ModelSpec& s = spec();
  if (s.streaming) Fail(ErrorCode::kInvalidState, "a streaming model streams any length: it is not cut into windows");
  CheckFinite(samples);
  WindowCutter cutter(config_.long_audio, s.features.sample_rate, s.features.hop_length_samples * s.subsampling_factor,
                      max_window_samples_, vad_);
  std::vector<float> values(samples.size);
  for (size_t i = 0; i < samples.size; ++i) values[i] = samples.At(i);
  cutter.Accept(values.data(), values.size());
  std::vector<int64_t> starts;
  AudioWindow window;
  while (cutter.Next(true, &window)) starts.push_back(window.start_sample);
  return starts;
}

std::unique_ptr<StreamDecoder> Recognizer::CreateDecoder(const BeamSearchOptions& options) const {
  const ModelSpec& s = spec();
  if (config_.decoding.method == DecodingMethod::kBeam && transducer_) {
    return std::make_unique<TransducerBeamDecoder>(*transducer_, *token_words_, s.vocab_size, options);
  }
  if (config_.decoding.method == DecodingMethod::kBeam)
    return std::make_unique<CtcBeamDecoder>(*token_words_, s.vocab_size, options);
  if (transducer_) return std::make_unique<TransducerGreedyDecoder>(*transducer_, s.vocab_size, s.blank_id);
  return std::make_unique<CtcGreedyDecoder>(s.blank_id, s.vocab_size);
}

Recognizer::~Recognizer() = default;

std::unique_ptr<RecognizerStream> Recognizer::CreateStream() const {
  return std::make_unique<RecognizerStream>(*this, config_.endpoint);
}

std::unique_ptr<RecognizerStream> Recognizer::CreateStream(const EndpointConfig& endpoint) const {
  endpoint.Validate();
  return std::make_unique<RecognizerStream>(*this, endpoint);
}

std::unique_ptr<RecognizerStream> Recognizer::CreateStream(const EndpointConfig& endpoint,
                                                           const std::vector<Hotword>& hotwords) const {
  endpoint.Validate();
  if (config_.decoding.method != DecodingMethod::kBeam) {
    Fail(ErrorCode::kInvalidConfig, "hotwords apply to beam search: create the Recognizer with decoding='beam'");
  }
  BeamSearchOptions options = beam_options_;
  options.hotwords =
      hotwords.empty() ? nullptr
                       : std::make_shared<const HotwordGraph>(hotwords, *config_.decoding.hotword_boost, *token_words_);
  return std::make_unique<RecognizerStream>(*this, endpoint, &options);
}

RecognizerStream::RecognizerStream(const Recognizer& recognizer, const EndpointConfig& endpoint,
                                   const BeamSearchOptions* options)
    : recognizer_(recognizer),
      endpoint_(endpoint),
      fbank_(recognizer.fbank().CreateStream()),
      schedule_(recognizer.spec(), recognizer.config().streaming_mode),
      beam_options_(options ? *options : recognizer.beam_options()),
      decoder_(recognizer.CreateDecoder(beam_options_)),
      text_(recognizer.vocabulary()) {
  const ModelSpec& s = recognizer.spec();
  if (!s.streaming) {
    windows_ = std::make_unique<WindowedUtterances>(recognizer.fbank(), recognizer.config().long_audio,
                                                    s.features.hop_length_samples * s.subsampling_factor,
                                                    recognizer.max_window_samples(), recognizer.vad());
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
  frames_begin_ = num_frames_ = 0;
  finished_ = false;
  peak_abs_sample_ = 0.0f;
  schedule_.Reset();
  if (windows_) windows_->Reset();
  caches_.Reset(recognizer_.encoder());
  decoder_->Reset();
  log_probs_.clear();
  text_.Reset();
  finished_segments_.clear();
  segment_first_token_ = 0;
  segment_start_frame_ = 0;
  has_token_before_ = false;
  popped_segments_ = 0;
  last_partial_.clear();
}

DecodedTokens RecognizerStream::decoded_tokens() const {
  DecodedTokens t;
  t.ids = tokens().data();
  t.frames = token_frames().data();
  t.durations = decoder_->token_durations();
  t.confidences = token_confidences().data();
  t.size = tokens().size();
  return t;
}

int64_t RecognizerStream::last_speech_frame() const { return decoder_->last_speech_frame(); }

int64_t RecognizerStream::decoded_frames() const { return decoder_->num_frames(); }

bool RecognizerStream::NextChunk(ChunkPlan* plan) const {
  if (!windows_) return schedule_.Next(num_frames_, finished_, plan);
  if (windows_->empty()) return false;
  *plan = ChunkPlan{};
  plan->frames = windows_->front().width;
  plan->last = finished_ && windows_->size() == 1;
  return true;
}

bool RecognizerStream::Done() const {
  ChunkPlan more;
  return finished_ && !NextChunk(&more);
}

Segment RecognizerStream::MakeSegment(size_t first, size_t end, bool final) const {
  const ModelSpec& spec = recognizer_.spec();
  Segment segment;
  segment.token_ids.assign(tokens().begin() + first, tokens().begin() + end);
  segment.token_confidences.assign(token_confidences().begin() + first, token_confidences().begin() + end);
  for (size_t i = first; i < end; ++i)
    segment.token_times_seconds.push_back(spec.frame_time_seconds(token_frames()[i]));
  segment.text = recognizer_.vocabulary().Detokenize(segment.token_ids, final);
  segment.start_seconds = spec.frame_time_seconds(first < end ? token_frames()[first] : segment_start_frame_);
  segment.end_seconds = std::max(segment.start_seconds, spec.frame_time_seconds(last_speech_frame() + 1));
  segment.final = final;
  // Spans depend on the tokens before (CTC: the onset before; TDT: where the token before ends).
  DecodedTokens all = decoded_tokens();
  all.size = end;
  const std::vector<TokenSpan> spans = recognizer_.word_builder().Spans(
      all, has_token_before_ ? &frame_before_ : nullptr, has_token_before_ ? &span_before_ : nullptr);
  DecodedTokens mine = all;
  mine.ids += first;
  mine.frames += first;
  if (mine.durations) mine.durations += first;
  mine.confidences += first;
  mine.size = end - first;
  segment.words = recognizer_.word_builder().Words(mine, std::vector<TokenSpan>(spans.begin() + first, spans.end()));
  for (Word& w : segment.words) {
    w.start_seconds = spec.frame_time_seconds(w.start_frame);
    w.end_seconds = spec.frame_time_seconds(w.end_frame);
    w.onset_seconds = spec.frame_time_seconds(w.onset_frame);
  }
  return segment;
}

void RecognizerStream::CutSegments() {
  const EndpointConfig& endpoint = endpoint_;
  if (!endpoint.enabled) return;
  const double shift = recognizer_.spec().frame_shift_seconds();
  const int64_t now = decoded_frames();
  const bool speech = tokens().size() > segment_first_token_;
  const int64_t silent_since = std::max(segment_start_frame_, last_speech_frame() + 1);
  if (!endpoint.Reached(speech, (now - silent_since) * shift, (now - segment_start_frame_) * shift)) return;
  decoder_->Commit();  // a beam search settles on its best hypothesis: the segment's tokens stay
  if (speech) finished_segments_.push_back(MakeSegment(segment_first_token_, tokens().size(), /*final=*/true));
  segment_first_token_ = tokens().size();
  segment_start_frame_ = now;
}

std::vector<Segment> RecognizerStream::PopSegments() {
  BusyScope busy(busy_);
  return PopSegmentsUnlocked();
}

StreamUpdate RecognizerStream::PopUpdate() {
  BusyScope busy(busy_);
  StreamUpdate update;
  update.first_segment = popped_segments_;
  update.finals = PopSegmentsUnlocked();
  popped_segments_ += static_cast<int64_t>(update.finals.size());
  if (!update.finals.empty()) last_partial_.clear();  // a new segment grows from nothing
  const std::vector<Segment> growing = SegmentsUnlocked();
  const std::string& text = growing.empty() ? std::string() : growing.back().text;
  if (text != last_partial_) {
    update.partial_changed = true;
    update.partial = last_partial_ = text;
  }
  return update;
}

std::vector<Segment> RecognizerStream::PopSegmentsUnlocked() {
  if (Done() && tokens().size() > segment_first_token_) {
    finished_segments_.push_back(MakeSegment(segment_first_token_, tokens().size(), /*final=*/true));
    segment_first_token_ = tokens().size();
    segment_start_frame_ = decoded_frames();
  }
  std::vector<Segment> popped = std::move(finished_segments_);
  finished_segments_.clear();
  if (segment_first_token_ > 0) {
    DecodedTokens dropped = decoded_tokens();
    dropped.size = segment_first_token_;
    const std::vector<TokenSpan> spans = recognizer_.word_builder().Spans(
        dropped, has_token_before_ ? &frame_before_ : nullptr, has_token_before_ ? &span_before_ : nullptr);
    has_token_before_ = true;
    frame_before_ = token_frames()[segment_first_token_ - 1];
    span_before_ = spans.back();
    decoder_->DropTokens(segment_first_token_);
    segment_first_token_ = 0;
    text_.Reset();  // the text of what is left: the growing segment
    text_.Append(tokens().data(), tokens().size());
  }
  return popped;
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
    AcceptSamples(samples);
  } else {
    if (!resampler_ || resampler_->input_rate() != sample_rate) {
      resampler_ = std::make_unique<StreamingResampler>(recognizer_.ResamplingFilterFrom(sample_rate));
    }
    resampled_.clear();
    resampler_->Accept(samples, &resampled_);
    AcceptSamples(SampleView::Float32(resampled_.data(), resampled_.size()));
  }
  input_rate_ = sample_rate;
  if (samples.type != SampleType::kInt16) {
    for (size_t i = 0; i < samples.size; ++i) peak_abs_sample_ = std::max(peak_abs_sample_, std::fabs(samples.At(i)));
  }
}

void RecognizerStream::AcceptSamples(const SampleView& samples) {
  if (!windows_) {
    pending_.clear();
    fbank_->AcceptWaveform(samples, &pending_);
    AppendFrames(pending_);
    pending_.clear();
    return;
  }
  CheckFinite(samples);  // before any state changes, as the features check
  window_samples_.resize(samples.size);
  for (size_t i = 0; i < samples.size; ++i) window_samples_[i] = samples.At(i);
  windows_->Accept(window_samples_.data(), window_samples_.size());
}

void RecognizerStream::InputFinished() {
  BusyScope busy(busy_);
  if (finished_) return;
  pending_.clear();
  if (resampler_ && input_rate_ == resampler_->input_rate()) {
    resampled_.clear();
    resampler_->Flush(&resampled_);
    AcceptSamples(SampleView::Float32(resampled_.data(), resampled_.size()));
  }
  if (windows_) {
    windows_->InputFinished();
    finished_ = true;
    return;
  }
  fbank_->InputFinished(&pending_);
  AppendFrames(pending_);
  if (fbank_->num_samples() > 0) {
    // NeMo's preprocessor output is one STFT frame longer than its valid frames (that frame masked to
    // pad_value), and it reaches the encoder.
    const FbankOptions& o = recognizer_.spec().features;
    frames_.resize(frames_.size() + o.num_mel_bins, o.pad_value);
    num_frames_ += 1;
  } else {
    schedule_.Stop();  // no audio: nothing to decode
  }
  finished_ = true;
}

bool RecognizerStream::IsReady() const {
  BusyScope busy(busy_);
  ChunkPlan plan;
  return NextChunk(&plan);
}

void RecognizerStream::FillChunk(const ChunkPlan& plan, float* dst, int stride) const {
  const int dim = recognizer_.spec().feat_in;
  if (windows_) {
    const std::vector<float>& frames = windows_->front().frames;
    for (int t = 0; t < plan.frames; ++t) {
      for (int f = 0; f < dim; ++f)
        dst[static_cast<int64_t>(f) * stride + t] = frames[static_cast<size_t>(t) * dim + f];
    }
    return;
  }
  const int64_t first_frame = plan.start - plan.cache_frames;
  for (int t = 0; t < plan.input_frames(); ++t) {
    const int64_t frame = first_frame + t;
    // Cache frames before the audio (all of the first chunk's cache) are zeros, as in NeMo.
    const bool zero = frame < 0;
    const float* src = zero ? nullptr : frames_.data() + (frame - frames_begin_) * dim;
    for (int f = 0; f < dim; ++f) dst[static_cast<int64_t>(f) * stride + t] = zero ? 0.0f : src[f];
  }
}

int RecognizerStream::BeginDecodingChunk(const ChunkPlan& plan, int64_t encoded_len) {
  const ModelSpec& s = recognizer_.spec();
  int64_t keep = encoded_len;
  if (s.streaming && !plan.last) keep = std::min<int64_t>(keep, s.geometry.valid_out_len);
  // A window's output frames begin at its place in the stream (the window before may have had one frame more:
  // its padding's).
  if (windows_) decoder_->SetNextFrame(windows_->front().start_frame);
  tokens_before_chunk_ = tokens().size();
  return static_cast<int>(keep);
}

void RecognizerStream::FinishDecodingChunk(const ChunkPlan& plan, const float* head_output, int keep) {
  const ModelSpec& s = recognizer_.spec();
  const size_t known_tokens = tokens_before_chunk_;
  if (plan.last) decoder_->Finish();
  if (!recognizer_.transducer() && recognizer_.config().keep_log_probs) {
    log_probs_.insert(log_probs_.end(), head_output, head_output + static_cast<int64_t>(keep) * s.vocab_size);
  }
  if (recognizer_.config().decoding.method == DecodingMethod::kBeam) {
    text_.Reset();  // the best hypothesis may have changed its earlier tokens
    text_.Append(tokens().data(), tokens().size());
  } else {
    text_.Append(tokens().data() + known_tokens, tokens().size() - known_tokens);
  }
  CutSegments();
  if (windows_) {
    windows_->Pop();
    return;
  }
  schedule_.Advance(plan);
  // Keep only the frames a later chunk (or its pre-encode cache) can still read.
  const int64_t drop = schedule_.first_frame_still_needed(num_frames_) - frames_begin_;
  if (drop > 0) {
    frames_.erase(frames_.begin(), frames_.begin() + drop * s.feat_in);
    frames_begin_ += drop;
  }
}

RecognitionResult RecognizerStream::Result() const {
  BusyScope busy(busy_);
  RecognitionResult r;
  r.token_ids = tokens();
  r.token_times_seconds.reserve(token_frames().size());
  for (int64_t f : token_frames()) r.token_times_seconds.push_back(recognizer_.spec().frame_time_seconds(f));
  r.token_confidences = token_confidences();
  const bool final = Done();  // every token is in: nothing more will come
  r.text = text_.Text(final);
  r.num_frames = decoded_frames();
  r.log_probs = log_probs_;
  r.vocab_size = recognizer_.spec().vocab_size;
  return r;
}

std::vector<Segment> RecognizerStream::Segments() const {
  BusyScope busy(busy_);
  return SegmentsUnlocked();
}

std::vector<Segment> RecognizerStream::SegmentsUnlocked() const {
  std::vector<Segment> segments = finished_segments_;
  if (tokens().size() > segment_first_token_) {
    segments.push_back(MakeSegment(segment_first_token_, tokens().size(), /*final=*/Done()));
  }
  return segments;
}

// The pipeline steps of a stream, for DecodeStreams' helpers below (the steps are private to the stream).
struct StreamSteps {
  static const BusyFlag& busy(const RecognizerStream& stream) { return stream.busy(); }
  static bool NextChunk(const RecognizerStream& stream, ChunkPlan* plan) { return stream.NextChunk(plan); }
};

namespace {

// Holds the busy flags of every stream of one DecodeStreams call, or none: acquiring stops at the first
// stream in use elsewhere, releases what it took and throws, so a refused call changes no stream.
class StreamsInUse {
 public:
  explicit StreamsInUse(const std::vector<RecognizerStream*>& streams) {
    for (const RecognizerStream* stream : streams) {
      if (!StreamSteps::busy(*stream).TryAcquire()) {
        Release();
        Fail(ErrorCode::kStreamBusy,
             "a stream passed to decode_streams() is in use by another call (another "
             "thread) at this moment; a stream belongs to one thread at a time");
      }
      held_.push_back(&StreamSteps::busy(*stream));
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

// Refuses a call whose streams this recognizer cannot decode as listed.
void CheckStreams(const std::vector<RecognizerStream*>& streams, const Recognizer& recognizer) {
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i] == nullptr) Fail(ErrorCode::kInvalidArgument, "decode_streams(): stream ", i, " is null");
    if (&streams[i]->recognizer() != &recognizer) {
      Fail(ErrorCode::kInvalidArgument, "decode_streams(): stream ", i,
           " was created by another Recognizer; decode it with the recognizer that created it");
    }
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
}

// The streams' ready chunks grouped by shape: rows of one batch must have equal frames and drop, as padding
// rows would change NeMo's cache updates.
using ChunkGroups =
    std::map<std::pair<int, int64_t>, std::pair<std::vector<RecognizerStream*>, std::vector<ChunkPlan>>>;

ChunkGroups ReadyChunks(const std::vector<RecognizerStream*>& streams) {
  ChunkGroups groups;
  for (RecognizerStream* stream : streams) {
    ChunkPlan plan;
    if (!StreamSteps::NextChunk(*stream, &plan)) continue;
    auto& [members, plans] = groups[{plan.input_frames(), plan.drop}];
    members.push_back(stream);
    plans.push_back(plan);
  }
  return groups;
}

}  // namespace

void Recognizer::DecodeStreams(const std::vector<RecognizerStream*>& streams) const {
  CheckStreams(streams, *this);
  const StreamsInUse in_use(streams);
  for (;;) {
    ThrowIfInterrupted();  // between chunks: every stream is consistent here
    const ChunkGroups groups = ReadyChunks(streams);
    if (groups.empty()) return;
    for (const auto& [shape, group] : groups) {
      const auto& [members, plans] = group;
      for (size_t begin = 0; begin < members.size(); begin += config_.max_batch_size) {
        const size_t end = std::min(members.size(), begin + config_.max_batch_size);
        DecodeBatch({members.begin() + begin, members.begin() + end}, {plans.begin() + begin, plans.begin() + end});
      }
    }
  }
}

void Recognizer::DecodeBatch(const std::vector<RecognizerStream*>& streams, const std::vector<ChunkPlan>& plans) const {
  const int batch = static_cast<int>(streams.size());
  const int frames = plans[0].input_frames();
  const size_t row = static_cast<size_t>(spec().feat_in) * frames;
  thread_local std::vector<float> features;  // reused: no allocation per tick
  features.resize(batch * row);
  for (int b = 0; b < batch; ++b) streams[b]->FillChunk(plans[b], features.data() + b * row, frames);
  EncoderOutput out;
  if (spec().streaming) {
    std::vector<StreamCaches*> caches;
    for (RecognizerStream* stream : streams) caches.push_back(&stream->caches());
    out = RunStreamingBatch(*encoder_, stacked_caches_, caches, frames, features.data(), plans[0].drop);
  } else {
    // The encoder's length input counts only valid frames (NeMo's seq_len), not the padding.
    std::vector<int64_t> lengths;
    for (RecognizerStream* stream : streams) lengths.push_back(stream->valid_frames());
    try {
      out = encoder_->RunUtterances(batch, frames, features.data(), lengths.data());
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kOnnxRuntime || spec().max_encoder_frames > 0) throw;
      // A graph that does not record its position limit (an older export, an import) fails on windows longer
      // than its table: say what to do, then ONNX Runtime's words.
      Fail(ErrorCode::kOnnxRuntime, "the encoder failed on a window of ",
           frames * spec().features.hop_length_samples / static_cast<double>(spec().features.sample_rate),
           " s; its graph may cover shorter inputs (the position ",
           "table of a full-attention model): set a shorter max_window_seconds (--max-window-seconds) or re-export ",
           "the model, which records its limit. ", e.what());
    }
  }
  std::vector<const float*> rows(batch);
  std::vector<int> keep(batch);
  for (int b = 0; b < batch; ++b) {
    rows[b] = out.frames_data.data() + static_cast<size_t>(b) * out.frames * out.dim;
    keep[b] = streams[b]->BeginDecodingChunk(plans[b], out.lengths[b]);
  }
  // Greedy transducer streams share each decoding step: one joint call of B rows and one prediction call for
  // the streams that emitted, rather than calls per stream (the large model's joint, 256 rows: 3.5x faster on
  // the CPU). On a GPU this host work is what grows with the streams.
  std::vector<TransducerGreedyDecoder*> greedy;
  for (int b = 0; b < batch; ++b) {
    auto* decoder = dynamic_cast<TransducerGreedyDecoder*>(&streams[b]->decoder());
    if (decoder == nullptr) break;
    greedy.push_back(decoder);
  }
  if (static_cast<int>(greedy.size()) == batch) {
    DecodeTransducerGreedyBatch(*transducer_, greedy, rows, keep);
  } else {
    for (int b = 0; b < batch; ++b) streams[b]->decoder().Accept(rows[b], keep[b]);
  }
  for (int b = 0; b < batch; ++b) streams[b]->FinishDecodingChunk(plans[b], rows[b], keep[b]);
}

}  // namespace nemo_fast
