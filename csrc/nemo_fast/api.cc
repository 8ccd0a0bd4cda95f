// The public API (include/nemo_fast/nemo_fast.h) over the pipeline.
#include "nemo_fast/nemo_fast.h"
#include "nemo_fast/pipeline/recognizer.h"

namespace nemo_fast {
namespace {

TranscriptionResult ToPublic(RecognitionResult&& r, const std::vector<Segment>& segments) {
  TranscriptionResult out{
      std::move(r.text), std::move(r.token_ids), std::move(r.token_times_seconds), std::move(r.token_confidences), {}};
  for (const Segment& s : segments) {
    SegmentResult segment{s.text, s.start_seconds, s.end_seconds, s.final, {}};
    for (const Word& w : s.words) segment.words.push_back({w.text, w.start_seconds, w.end_seconds, w.confidence});
    out.segments.push_back(std::move(segment));
  }
  return out;
}

EndpointRule RuleOf(const EndpointRuleOptions& r) {
  return {r.must_contain_speech, r.min_trailing_silence, r.min_segment_length};
}

}  // namespace

Stream::Stream(const Recognizer& recognizer, std::unique_ptr<RecognizerStream> stream)
    : recognizer_(recognizer), stream_(std::move(stream)) {}

Stream::~Stream() = default;

void Stream::AcceptWaveform(const float* samples, std::size_t count, int sample_rate) {
  stream_->AcceptWaveform(SampleView::Float32(samples, count), sample_rate);
  recognizer_.DecodeStreams({stream_.get()});
}

void Stream::InputFinished() {
  stream_->InputFinished();
  recognizer_.DecodeStreams({stream_.get()});
}

TranscriptionResult Stream::GetResult() const { return ToPublic(stream_->Result(), stream_->Segments()); }

void Stream::Reset() { stream_->Reset(); }

Model::Model(const std::string& model_dir, const ModelOptions& options) {
  RecognizerConfig config;
  config.decoder = options.decoder;
  config.session.intra_op_threads = options.num_threads;
  config.session.providers = options.providers;
  config.session.provider_options = options.provider_options;
  config.session.graph_optimization_level = options.graph_optimization_level;
  config.session.config_entries = options.session_config_entries;
  config.long_audio.vad_model = options.vad_model;
  config.max_batch_size = options.max_batch_size;
  config.long_audio.max_window_seconds = options.max_window_seconds;
  config.streaming_mode = options.pad_and_drop_preencoded ? StreamingMode::kPadAndDropPreencoded : StreamingMode::kAuto;
  config.decoding.method = options.decoding == Decoding::kBeam     ? DecodingMethod::kBeam
                           : options.decoding == Decoding::kGreedy ? DecodingMethod::kGreedy
                                                                   : DecodingMethod::kModelDefault;
  config.decoding.beam_size = options.beam_size;
  config.decoding.lm_path = options.lm_path;
  config.decoding.lm_weight = options.lm_weight;
  config.decoding.word_bonus = options.word_bonus;
  config.decoding.hotword_boost = options.hotword_boost;
  config.decoding.token_min_log_prob = options.token_min_log_prob;
  config.decoding.beam_prune_log_prob = options.beam_prune_log_prob;
  if (!options.hotwords_file.empty()) config.decoding.hotwords = ReadHotwordsFile(options.hotwords_file);
  config.endpoint.enabled = options.endpoint.enabled;
  config.endpoint.rule1 = RuleOf(options.endpoint.rule1);
  config.endpoint.rule2 = RuleOf(options.endpoint.rule2);
  config.endpoint.rule3 = RuleOf(options.endpoint.rule3);
  recognizer_ = std::make_unique<Recognizer>(model_dir, config);
}

Model::~Model() = default;

std::unique_ptr<Stream> Model::CreateStream() const {
  return std::unique_ptr<Stream>(new Stream(*recognizer_, recognizer_->CreateStream()));
}

void Model::DecodeStreams(const std::vector<Stream*>& streams) const {
  std::vector<RecognizerStream*> inner;
  for (Stream* s : streams) {
    if (s == nullptr) Fail(ErrorCode::kInvalidArgument, "DecodeStreams(): a stream is null");
    inner.push_back(s->stream_.get());
  }
  recognizer_->DecodeStreams(inner);
}

TranscriptionResult Model::Transcribe(const float* samples, std::size_t count, int sample_rate) const {
  auto stream = CreateStream();
  stream->AcceptWaveform(samples, count, sample_rate);
  stream->InputFinished();
  return stream->GetResult();
}

int Model::sample_rate() const { return recognizer_->spec().features.sample_rate; }

const std::string& Model::decoder() const { return recognizer_->decoder(); }

}  // namespace nemo_fast
