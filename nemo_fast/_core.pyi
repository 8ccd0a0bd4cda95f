"""
nemo_fast C++ core (private; use the nemo_fast package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['ArpaLm', 'CtcBeamSearch', 'DecodingConfig', 'DecodingMethod', 'EndpointConfig', 'EndpointRule', 'FbankOptions', 'FbankStream', 'Hotword', 'ImprovedFbank', 'LongAudioConfig', 'RecognitionResult', 'Recognizer', 'RecognizerConfig', 'RecognizerStream', 'Segment', 'SessionConfig', 'SileroVadModel', 'StreamUpdate', 'StreamingMode', 'VadOptions', 'VadStream', 'Word', 'load_onnxruntime', 'model_spec_from_metadata', 'onnxruntime_loaded', 'read_hotwords_file', 'runtime_info', 'speech_spans']
class FbankOptions:
    """
    Options of ImprovedFbank (NeMo's AudioToMelSpectrogramPreprocessor in inference mode).
    Build them from a NeMo preprocessor config with nemo_fast.fbank_options_from_nemo().
    """
    __hash__: typing.ClassVar[None] = None
    @staticmethod
    def from_key_values(key_values: collections.abc.Mapping[str, str]) -> FbankOptions:
        """
        Options from the flat string form stored in model metadata; unknown or missing keys are errors.
        """
    def __eq__(self, arg0: FbankOptions) -> bool:
        ...
    def __init__(self) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def num_valid_frames(self, num_samples: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        Frames NeMo marks valid for this many samples.
        """
    def to_key_values(self) -> dict[str, str]:
        ...
    def with_model_buffers(self, window_taps: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None = None, mel_weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None = None) -> FbankOptions:
        """
        A copy using a checkpoint's own window taps (win_length) and mel matrix (features x n_fft/2+1).
        """
    @property
    def has_model_buffers(self) -> bool:
        ...
    @property
    def hop_length_samples(self) -> int:
        ...
    @property
    def n_fft(self) -> int:
        ...
    @property
    def normalize(self) -> str:
        ...
    @property
    def num_mel_bins(self) -> int:
        ...
    @property
    def pad_to(self) -> int:
        ...
    @property
    def sample_rate(self) -> int:
        ...
    @property
    def win_length_samples(self) -> int:
        ...
class FbankStream:
    """
    Incremental features of one utterance. Use from one thread at a time.
    """
    def accept_waveform(self, samples: typing.Any, sample_rate: typing.Any) -> numpy.typing.NDArray[numpy.float32]:
        """
        Feed samples (any count, zero included); returns the frames that became final, shape (n, feature_dim).
        """
    def input_finished(self) -> numpy.typing.NDArray[numpy.float32]:
        """
        Mark the end of the audio; returns the remaining frames.
        """
    def reset(self) -> None:
        ...
    @property
    def input_is_finished(self) -> bool:
        ...
    @property
    def num_frames(self) -> int:
        ...
    @property
    def num_samples(self) -> int:
        ...
class ImprovedFbank:
    """
    Log-mel features identical to NeMo's preprocessor. Immutable; safe to share between threads.
    """
    def __init__(self, options: FbankOptions) -> None:
        ...
    def compute(self, samples: typing.Any, sample_rate: typing.Any) -> numpy.typing.NDArray[numpy.float32]:
        """
        Features of a whole utterance: float32 array (num_valid_frames, feature_dim).
        """
    def create_stream(self) -> FbankStream:
        """
        A new incremental feature stream.
        """
    def mel_filterbank(self) -> numpy.typing.NDArray[numpy.float32]:
        """
        The (num_mel_bins, n_fft/2+1) mel weight matrix.
        """
    def window(self) -> typing.Any:
        ...
    @property
    def feature_dim(self) -> int:
        ...
    @property
    def options(self) -> FbankOptions:
        ...
class Hotword:
    phrase: str
    def __init__(self, phrase: str, boost: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def boost(self) -> float:
        ...
    @boost.setter
    def boost(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class DecodingMethod:
    """
    Members:
    
      model_default
    
      greedy
    
      beam
    """
    __members__: typing.ClassVar[dict[str, DecodingMethod]]
    beam: typing.ClassVar[DecodingMethod]
    greedy: typing.ClassVar[DecodingMethod]
    model_default: typing.ClassVar[DecodingMethod]
    @typing.overload
    def __eq__(self, other: DecodingMethod) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: DecodingMethod) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class DecodingConfig:
    lm_path: str | None
    method: DecodingMethod
    def __init__(self) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def beam_prune_log_prob(self) -> float | None:
        ...
    @beam_prune_log_prob.setter
    def beam_prune_log_prob(self, arg0: typing.SupportsFloat | typing.SupportsIndex | None) -> None:
        ...
    @property
    def beam_size(self) -> int | None:
        ...
    @beam_size.setter
    def beam_size(self, arg0: typing.SupportsInt | typing.SupportsIndex | None) -> None:
        ...
    @property
    def hotword_boost(self) -> float | None:
        ...
    @hotword_boost.setter
    def hotword_boost(self, arg0: typing.SupportsFloat | typing.SupportsIndex | None) -> None:
        ...
    @property
    def hotwords(self) -> list[Hotword]:
        ...
    @hotwords.setter
    def hotwords(self, arg0: collections.abc.Sequence[Hotword]) -> None:
        ...
    @property
    def lm_weight(self) -> float | None:
        ...
    @lm_weight.setter
    def lm_weight(self, arg0: typing.SupportsFloat | typing.SupportsIndex | None) -> None:
        ...
    @property
    def token_min_log_prob(self) -> float | None:
        ...
    @token_min_log_prob.setter
    def token_min_log_prob(self, arg0: typing.SupportsFloat | typing.SupportsIndex | None) -> None:
        ...
    @property
    def unknown_word_penalty(self) -> float:
        ...
    @unknown_word_penalty.setter
    def unknown_word_penalty(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def word_bonus(self) -> float | None:
        ...
    @word_bonus.setter
    def word_bonus(self, arg0: typing.SupportsFloat | typing.SupportsIndex | None) -> None:
        ...
class ArpaLm:
    max_order: typing.ClassVar[int] = 8
    def __contains__(self, arg0: str) -> bool:
        ...
    def __init__(self, path: str) -> None:
        ...
    def score(self, context: collections.abc.Sequence[str], word: str, sentence_start: bool = True) -> float:
        """
        log10 p(word | context), after <s> when sentence_start.
        """
    @property
    def order(self) -> int:
        ...
class CtcBeamSearch:
    def __init__(self, tokens: collections.abc.Sequence[str], blank_id: typing.SupportsInt | typing.SupportsIndex, sentencepiece: bool, config: DecodingConfig) -> None:
        ...
    def decode(self, log_probs: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], keep_beam: bool = False) -> list:
        """
        The final beam, best first, as (token ids, text, score) (keep_beam: the beam before the end of the input, without the end-of-sentence scores).
        """
class StreamingMode:
    """
    Members:
    
      DEFAULT
    
      PAD_AND_DROP_PREENCODED
    
      AUTO
    """
    AUTO: typing.ClassVar[StreamingMode]
    DEFAULT: typing.ClassVar[StreamingMode]
    PAD_AND_DROP_PREENCODED: typing.ClassVar[StreamingMode]
    __members__: typing.ClassVar[dict[str, StreamingMode]]
    @typing.overload
    def __eq__(self, other: StreamingMode) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: StreamingMode) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class SessionConfig:
    profile_prefix: str
    def __init__(self) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def config_entries(self) -> dict[str, str]:
        ...
    @config_entries.setter
    def config_entries(self, arg0: collections.abc.Mapping[str, str]) -> None:
        ...
    @property
    def graph_optimization_level(self) -> int:
        ...
    @graph_optimization_level.setter
    def graph_optimization_level(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def inter_op_threads(self) -> int:
        ...
    @inter_op_threads.setter
    def inter_op_threads(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def intra_op_threads(self) -> int:
        ...
    @intra_op_threads.setter
    def intra_op_threads(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def provider_options(self) -> dict[str, dict[str, str]]:
        ...
    @provider_options.setter
    def provider_options(self, arg0: collections.abc.Mapping[str, collections.abc.Mapping[str, str]]) -> None:
        ...
    @property
    def providers(self) -> list[str]:
        ...
    @providers.setter
    def providers(self, arg0: collections.abc.Sequence[str]) -> None:
        ...
class EndpointRule:
    """
    One endpoint rule: a segment ends when all its conditions hold.
    """
    must_contain_speech: bool
    def __init__(self, must_contain_speech: bool = False, min_trailing_silence: typing.SupportsFloat | typing.SupportsIndex = 0.0, min_segment_length: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def min_segment_length(self) -> float:
        ...
    @min_segment_length.setter
    def min_segment_length(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def min_trailing_silence(self) -> float:
        ...
    @min_trailing_silence.setter
    def min_trailing_silence(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class EndpointConfig:
    """
    Where transcripts are cut into segments; a segment ends when any rule holds.
    """
    enabled: bool
    rule1: EndpointRule
    rule2: EndpointRule
    rule3: EndpointRule
    def __getstate__(self) -> tuple[bool, tuple[bool, float, float], tuple[bool, float, float], tuple[bool, float, float]]:
        ...
    def __init__(self, enabled: bool = True, rule1: EndpointRule = None, rule2: EndpointRule = None, rule3: EndpointRule = None) -> None:
        """
        The defaults are sherpa-onnx's rules; pass a rule to replace one.
        """
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def validate(self) -> None:
        """
        Raises ConfigError for negative durations or a rule that would end every segment at once.
        """
class LongAudioConfig:
    """
    How offline models cut a long input into windows at pauses (see docs/usage.md).
    """
    vad_model: str
    def __getstate__(self) -> tuple[float, float, float, str]:
        ...
    def __init__(self, max_window_seconds: typing.SupportsFloat | typing.SupportsIndex = 0.0, cut_search_seconds: typing.SupportsFloat | typing.SupportsIndex = 10.0, quiet_seconds: typing.SupportsFloat | typing.SupportsIndex = 0.1, vad_model: str = '') -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def validate(self) -> None:
        """
        Raises ConfigError for values out of range.
        """
    @property
    def cut_search_seconds(self) -> float:
        ...
    @cut_search_seconds.setter
    def cut_search_seconds(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def max_window_seconds(self) -> float:
        ...
    @max_window_seconds.setter
    def max_window_seconds(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def quiet_seconds(self) -> float:
        ...
    @quiet_seconds.setter
    def quiet_seconds(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class Word:
    @property
    def confidence(self) -> float:
        ...
    @property
    def end_frame(self) -> int:
        ...
    @property
    def end_seconds(self) -> float:
        ...
    @property
    def onset_frame(self) -> int:
        ...
    @property
    def onset_seconds(self) -> float:
        ...
    @property
    def start_frame(self) -> int:
        ...
    @property
    def start_seconds(self) -> float:
        ...
    @property
    def text(self) -> str:
        ...
class Segment:
    @property
    def end_seconds(self) -> float:
        ...
    @property
    def final(self) -> bool:
        ...
    @property
    def start_seconds(self) -> float:
        ...
    @property
    def text(self) -> str:
        ...
    @property
    def token_confidences(self) -> list[float]:
        ...
    @property
    def token_ids(self) -> list[int]:
        ...
    @property
    def token_times_seconds(self) -> list[float]:
        ...
    @property
    def words(self) -> list[Word]:
        ...
class RecognizerConfig:
    decoder: str
    decoding: DecodingConfig
    endpoint: EndpointConfig
    keep_log_probs: bool
    long_audio: LongAudioConfig
    session: SessionConfig
    streaming_mode: StreamingMode
    def __init__(self) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def max_batch_size(self) -> int:
        ...
    @max_batch_size.setter
    def max_batch_size(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class RecognitionResult:
    @property
    def log_probs(self) -> numpy.typing.NDArray[numpy.float32]:
        ...
    @property
    def num_frames(self) -> int:
        ...
    @property
    def text(self) -> str:
        ...
    @property
    def token_confidences(self) -> list[float]:
        ...
    @property
    def token_ids(self) -> list[int]:
        ...
    @property
    def token_times_seconds(self) -> list[float]:
        ...
class StreamUpdate:
    """
    What changed in a stream's transcript since the last pop_update.
    """
    @property
    def finals(self) -> list[Segment]:
        ...
    @property
    def first_segment(self) -> int:
        ...
    @property
    def partial(self) -> str:
        ...
    @property
    def partial_changed(self) -> bool:
        ...
class RecognizerStream:
    def accept_waveform(self, samples: typing.Any, sample_rate: typing.Any) -> None:
        ...
    def input_finished(self) -> None:
        ...
    def pop_segments(self) -> list[Segment]:
        ...
    def pop_update(self) -> StreamUpdate:
        ...
    def reset(self) -> None:
        ...
    def result(self) -> RecognitionResult:
        ...
    def segments(self) -> list[Segment]:
        ...
    @property
    def input_is_finished(self) -> bool:
        ...
    @property
    def is_ready(self) -> bool:
        ...
    @property
    def num_feature_frames(self) -> int:
        ...
    @property
    def peak_abs_sample(self) -> float:
        ...
class Recognizer:
    def __init__(self, model_path: str, config: RecognizerConfig) -> None:
        ...
    def create_stream(self, endpoint: EndpointConfig = None, hotwords: collections.abc.Sequence[Hotword] | None = None) -> RecognizerStream:
        """
        A new stream; endpoint replaces the recognizer's endpoint rules and hotwords the recognizer's hotwords (beam decoding) for this stream.
        """
    def decode_streams(self, streams: collections.abc.Sequence[RecognizerStream]) -> None:
        ...
    def end_profile(self) -> str:
        ...
    def window_starts(self, samples: typing.Any) -> list[int]:
        ...
    @property
    def cache_memory(self) -> str:
        ...
    @property
    def config(self) -> RecognizerConfig:
        ...
    @property
    def decoder(self) -> str:
        ...
    @property
    def max_window_samples(self) -> int:
        ...
    @property
    def providers(self) -> list[str]:
        ...
    @property
    def spec(self) -> dict:
        ...
    @property
    def tokens(self) -> list[str]:
        ...
class VadOptions:
    use_longest_silence_at_max_speech: bool
    def __init__(self) -> None:
        ...
    def validate(self) -> None:
        ...
    @property
    def max_speech_seconds(self) -> float:
        ...
    @max_speech_seconds.setter
    def max_speech_seconds(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def min_silence_at_max_speech_ms(self) -> int:
        ...
    @min_silence_at_max_speech_ms.setter
    def min_silence_at_max_speech_ms(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def min_silence_ms(self) -> int:
        ...
    @min_silence_ms.setter
    def min_silence_ms(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def min_speech_ms(self) -> int:
        ...
    @min_speech_ms.setter
    def min_speech_ms(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def neg_threshold(self) -> float:
        ...
    @neg_threshold.setter
    def neg_threshold(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def speech_pad_ms(self) -> int:
        ...
    @speech_pad_ms.setter
    def speech_pad_ms(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def threshold(self) -> float:
        ...
    @threshold.setter
    def threshold(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class SileroVadModel:
    def __init__(self, path: str, num_threads: typing.SupportsInt | typing.SupportsIndex = 1) -> None:
        ...
class VadStream:
    def __init__(self, model: SileroVadModel, sample_rate: typing.Any) -> None:
        ...
    def accept_waveform(self, samples: typing.Any) -> None:
        ...
    def input_finished(self) -> None:
        ...
    @property
    def decimation(self) -> int:
        ...
    @property
    def input_samples(self) -> int:
        ...
    @property
    def model_rate(self) -> int:
        ...
    @property
    def probabilities(self) -> typing.Any:
        ...
def load_onnxruntime(path: str) -> dict:
    """
    Load the ONNX Runtime shared library at `path` (once per process) and return what was loaded.
    """
def model_spec_from_metadata(metadata: collections.abc.Mapping[str, str], source: str) -> dict:
    """
    What a model's metadata says, as the core reads it when it loads the model (no graph is loaded).
    """
def onnxruntime_loaded() -> bool:
    ...
def read_hotwords_file(path: str) -> list[Hotword]:
    """
    Phrases from a file: one per line, optionally followed by ' :BOOST'; '#' starts a comment line.
    """
def runtime_info() -> dict:
    ...
def speech_spans(stream: VadStream, options: VadOptions) -> list[tuple[int, int]]:
    """
    get_speech_timestamps' spans (start, end) in input samples
    """
