// Recognizer (immutable but for a locked cache of resampling filters: model spec, features, ONNX Runtime session,
// vocabulary; share it across threads) and RecognizerStream (one utterance: incremental features, NeMo's chunk
// schedule, caches, decoder).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nemo_fast/common/busy_flag.h"
#include "nemo_fast/common/samples.h"
#include "nemo_fast/decoding/beam_search.h"
#include "nemo_fast/decoding/ctc_greedy.h"
#include "nemo_fast/decoding/endpoint.h"
#include "nemo_fast/decoding/hotwords.h"
#include "nemo_fast/decoding/stream_decoder.h"
#include "nemo_fast/decoding/token_words.h"
#include "nemo_fast/decoding/transducer_greedy.h"
#include "nemo_fast/decoding/vocabulary.h"
#include "nemo_fast/decoding/words.h"
#include "nemo_fast/features/improved_fbank.h"
#include "nemo_fast/features/resampler.h"
#include "nemo_fast/model/cache_aware_conformer.h"
#include "nemo_fast/model/stream_caches.h"
#include "nemo_fast/model/transducer.h"
#include "nemo_fast/pipeline/chunk_schedule.h"
#include "nemo_fast/pipeline/decoding_config.h"
#include "nemo_fast/pipeline/offline_windows.h"

namespace nemo_fast {

struct RecognizerConfig {
  SessionConfig session;
  std::string decoder;  // "ctc", "rnnt", "tdt"; empty or "default": the model's default_decoder
  StreamingMode streaming_mode = StreamingMode::kAuto;
  bool keep_log_probs = false;  // keep every output frame's CTC log-probs in the stream's result (CTC only)
  int max_batch_size = 32;      // most chunks per batched encoder call
  EndpointConfig endpoint;      // where transcripts are cut into segments
  DecodingConfig decoding;
  LongAudioConfig long_audio;  // offline models: the windows a long input is cut into

  std::string ToString() const;
};

// One utterance of a stream's transcript, cut by the endpoint rules.
struct Segment {
  std::string text;
  std::vector<int> token_ids;
  std::vector<double> token_times_seconds;
  std::vector<float> token_confidences;  // NeMo's default confidence of each token (see decoding/words.h)
  std::vector<Word> words;               // with NeMo's word timestamps and confidences
  double start_seconds = 0.0;            // the start of its first token's frame
  double end_seconds = 0.0;              // the end of its last frame with speech
  bool final = false;                    // ended by an endpoint or the end of the input (else: still growing)
};

struct RecognitionResult {
  std::string text;
  std::vector<int> token_ids;
  std::vector<double> token_times_seconds;  // start time of the output frame that emitted each token
  std::vector<float> token_confidences;     // NeMo's default confidence of each token
  int64_t num_frames = 0;                   // encoder output frames decoded so far
  std::vector<float> log_probs;             // num_frames x vocab_size when keep_log_probs
  int vocab_size = 0;
};

// What changed in a stream's transcript since the last PopUpdate: the segments that ended (taken out of the
// stream, as PopSegments) and the growing segment's text when it changed. What live front-ends send.
struct StreamUpdate {
  int64_t first_segment = 0;  // the index of finals[0] among the stream's segments since it began (or Reset)
  std::vector<Segment> finals;
  bool partial_changed = false;
  std::string partial;  // the growing segment's text (index first_segment + finals.size()) when partial_changed
};

class RecognizerStream;

class Recognizer {
 public:
  // model_path: a directory written by `nemo-fast export` (model.onnx + tokens file) or its model.onnx.
  Recognizer(const std::string& model_path, const RecognizerConfig& config);
  ~Recognizer();

  const ModelSpec& spec() const { return encoder_->spec(); }
  // The encoder session's execution providers (ONNX Runtime's names, the CPU last).
  const std::vector<std::string>& providers() const { return encoder_->providers(); }
  std::string cache_memory() const { return encoder_->cache_memory(); }  // see NeMoCacheAwareConformer
  // Ends the encoder's profile (SessionConfig::profile_prefix) and returns its file. Not while DecodeStreams
  // runs.
  std::string EndProfile() const { return encoder_->EndProfiling(); }
  const RecognizerConfig& config() const { return config_; }
  const ImprovedFbank& fbank() const { return *fbank_; }
  const Vocabulary& vocabulary() const { return *vocabulary_; }
  const NeMoCacheAwareConformer& encoder() const { return *encoder_; }
  const std::string& decoder() const { return encoder_->decoder(); }  // the head in use
  bool uses_transducer() const { return transducer_ != nullptr; }
  // Offline models: the longest window of a long input, in samples at the model's rate (0 for streaming models).
  int64_t max_window_samples() const { return max_window_samples_; }
  // Offline models with LongAudioConfig::vad_model: the VAD their windows are cut with (else null).
  const std::shared_ptr<const SileroVadModel>& vad() const { return vad_; }
  // Where a long input of this many samples (at the model's rate) is cut: the windows' first samples.
  std::vector<int64_t> WindowStarts(const SampleView& samples) const;

  std::unique_ptr<RecognizerStream> CreateStream() const;
  // A stream that cuts segments by its own endpoint rules instead of the recognizer's (kInvalidConfig if bad).
  std::unique_ptr<RecognizerStream> CreateStream(const EndpointConfig& endpoint) const;
  // A stream with its own hotwords instead of the recognizer's (beam decoding; kInvalidConfig if bad).
  std::unique_ptr<RecognizerStream> CreateStream(const EndpointConfig& endpoint,
                                                 const std::vector<Hotword>& hotwords) const;

  // Decodes every chunk that is ready in these streams; chunks of equal shape run as one batch.
  // Thread-safe for distinct streams. Refused, with every stream unchanged: a stream listed twice or
  // created by another Recognizer (kInvalidArgument), a stream in use by another thread (kStreamBusy).
  void DecodeStreams(const std::vector<RecognizerStream*>& streams) const;

  // The filter from input_rate to the model's rate, built on first use and shared by every stream.
  std::shared_ptr<const ResamplingFilter> ResamplingFilterFrom(int input_rate) const;
  const NeMoTransducerHead* transducer() const { return transducer_.get(); }  // null when decoding CTC
  const WordBuilder& word_builder() const { return *word_builder_; }
  const TokenWords& token_words() const { return *token_words_; }
  const BeamSearchOptions& beam_options() const { return beam_options_; }
  // The decoder of a new stream.
  std::unique_ptr<StreamDecoder> CreateDecoder(const BeamSearchOptions& options) const;

 private:
  // One encoder call for chunks of equal shape of these streams, then each stream decodes its rows.
  void DecodeBatch(const std::vector<RecognizerStream*>& streams, const std::vector<ChunkPlan>& plans) const;

  RecognizerConfig config_;
  std::unique_ptr<NeMoCacheAwareConformer> encoder_;
  mutable StackedCachePool stacked_caches_;         // declared after the encoder: destroyed before its session
  std::unique_ptr<NeMoTransducerHead> transducer_;  // when decoding with the transducer head
  std::unique_ptr<ImprovedFbank> fbank_;
  std::unique_ptr<Vocabulary> vocabulary_;
  std::unique_ptr<WordBuilder> word_builder_;
  std::unique_ptr<TokenWords> token_words_;
  BeamSearchOptions beam_options_;  // with the LM and the recognizer's hotwords
  int64_t max_window_samples_ = 0;
  std::shared_ptr<const SileroVadModel> vad_;
  mutable std::mutex resampling_mutex_;
  mutable std::map<int, std::shared_ptr<const ResamplingFilter>> resampling_filters_;  // by input rate
};

// A stream belongs to one thread at a time; a call that overlaps another call on the same stream (from another
// thread) is refused with kStreamBusy and leaves the stream unchanged.
class RecognizerStream {
 public:
  // options: the beam search's (its own hotwords), or null for the recognizer's.
  RecognizerStream(const Recognizer& recognizer, const EndpointConfig& endpoint,
                   const BeamSearchOptions* options = nullptr);

  // Throws on bad samples or after InputFinished, leaving the stream unchanged. Audio at another rate than
  // the model's is resampled; a stream takes one rate from its first samples until Reset.
  void AcceptWaveform(const SampleView& samples, int sample_rate);
  void InputFinished();
  // Whether a chunk can be decoded now (DecodeStreams would run it).
  bool IsReady() const;
  RecognitionResult Result() const;
  // The transcript of Result cut into segments: the finished ones not yet popped, then the growing one (if it
  // holds a token). Their tokens, joined, are Result's tokens.
  std::vector<Segment> Segments() const;
  // Takes the finished segments (and, once the input is finished and decoded, the last one) out of the stream:
  // their tokens leave the stream's result, so a stream running for hours holds only what was not taken.
  std::vector<Segment> PopSegments();
  // The finals popped (PopSegments) and the growing segment's text if it changed since the last call.
  StreamUpdate PopUpdate();
  void Reset();

  bool input_finished() const { return finished_; }
  const Recognizer& recognizer() const { return recognizer_; }
  int64_t num_feature_frames() const { return num_frames_; }
  int sample_rate() const { return recognizer_.spec().features.sample_rate; }
  // The largest |sample| of float audio so far (int16 audio cannot leave [-1, 1)): far above 1 means the
  // samples are not scaled to [-1, 1] (e.g. int16 values in a float array).
  float peak_abs_sample() const { return peak_abs_sample_; }

 private:
  friend class Recognizer;    // DecodeStreams runs a stream through the steps below
  friend struct StreamSteps;  // and its helpers in recognizer.cc

  // The steps of Recognizer::DecodeStreams, which holds busy() for the whole call.
  const BusyFlag& busy() const { return busy_; }
  // The next chunk NeMo's schedule would run now (offline models: the next window); false while none is ready.
  bool NextChunk(ChunkPlan* plan) const;
  // Writes the chunk's features (F x input_frames) into dst with row stride `stride` frames.
  void FillChunk(const ChunkPlan& plan, float* dst, int stride) const;
  // NeMo's valid feature frames of the next chunk of an offline model (its length input).
  int64_t valid_frames() const { return windows_->front().valid_frames; }
  StreamCaches& caches() { return caches_; }
  // A chunk's output in three steps, so that a batch's streams can be decoded together: BeginDecodingChunk
  // gives the number of kept output frames (rows of the encoder's head output), decoder() consumes them, and
  // FinishDecodingChunk updates the text and segments and moves the schedule on.
  int BeginDecodingChunk(const ChunkPlan& plan, int64_t encoded_len);
  StreamDecoder& decoder() { return *decoder_; }
  void FinishDecodingChunk(const ChunkPlan& plan, const float* head_output, int keep);

  void ResetUnlocked();
  std::vector<Segment> PopSegmentsUnlocked();
  std::vector<Segment> SegmentsUnlocked() const;
  void AppendFrames(const std::vector<float>& frames);
  void AcceptSamples(const SampleView& samples);  // at the model's rate
  const std::vector<int>& tokens() const { return decoder_->tokens(); }
  const std::vector<int64_t>& token_frames() const { return decoder_->token_frames(); }
  const std::vector<float>& token_confidences() const { return decoder_->token_confidences(); }
  DecodedTokens decoded_tokens() const;
  int64_t last_speech_frame() const;
  int64_t decoded_frames() const;
  bool Done() const;  // input finished and every chunk decoded
  // The segment of tokens [first, end): text, times; end time at the last frame with speech.
  Segment MakeSegment(size_t first, size_t end, bool final) const;
  void CutSegments();  // applies the endpoint rules after a chunk

  const Recognizer& recognizer_;
  const EndpointConfig endpoint_;
  BusyFlag busy_;  // held by the call using the stream
  std::unique_ptr<FbankStream> fbank_;
  std::unique_ptr<StreamingResampler> resampler_;  // when the audio is at another rate than the model's
  int input_rate_ = 0;                             // the rate of this stream's audio; 0 before the first samples
  std::vector<float> resampled_;                   // scratch for resampled audio
  std::vector<float> pending_;                     // scratch for new feature frames
  std::vector<float> frames_;                      // time-major feature frames from frames_begin_ to num_frames_
  int64_t frames_begin_ = 0;
  int64_t num_frames_ = 0;
  bool finished_ = false;
  float peak_abs_sample_ = 0.0f;
  ChunkSchedule schedule_;                       // streaming models
  std::unique_ptr<WindowedUtterances> windows_;  // offline models: features come window by window
  std::vector<float> window_samples_;            // scratch: samples as float for the windows
  StreamCaches caches_;
  BeamSearchOptions beam_options_;  // the stream's own (its decoder refers to it)
  std::unique_ptr<StreamDecoder> decoder_;
  size_t tokens_before_chunk_ = 0;  // tokens().size() when the chunk being decoded began
  std::vector<float> log_probs_;
  IncrementalText text_;                    // the text of the tokens so far, extended as chunks are decoded
  std::vector<Segment> finished_segments_;  // ended by an endpoint, not yet popped
  size_t segment_first_token_ = 0;          // the growing segment's first token (index into tokens())
  int64_t segment_start_frame_ = 0;         // the output frame where it started
  // The token before tokens()[0], taken away with a popped segment: its frame and NeMo span (CTC and TDT spans
  // depend on the token before).
  bool has_token_before_ = false;
  int64_t popped_segments_ = 0;  // segments PopUpdate has handed out
  std::string last_partial_;     // the growing segment's text PopUpdate last handed out
  int64_t frame_before_ = 0;
  TokenSpan span_before_;
};

}  // namespace nemo_fast
