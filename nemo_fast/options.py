"""RecognizerOptions: everything a Recognizer is built with, one frozen, typed value (validated once, every bad
field named in one error), the same from Python, the command line, the server and Ray actors (it pickles).

Beam settings left None take the model folder's decoding.json (read by the core), then the defaults."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nemo_fast import _core
from nemo_fast.errors import ConfigError

DECODERS = ("ctc", "rnnt", "tdt")
STREAMING_MODES = {None: _core.StreamingMode.AUTO, "default": _core.StreamingMode.DEFAULT,
                   "pad_and_drop_preencoded": _core.StreamingMode.PAD_AND_DROP_PREENCODED}  # fmt: skip
DECODING_METHODS = {None: _core.DecodingMethod.model_default, "greedy": _core.DecodingMethod.greedy,
                    "beam": _core.DecodingMethod.beam}  # fmt: skip


@dataclass(frozen=True)
class DecodingOptions:
    """How tokens are found (docs/decoding.md); None: the model's decoding.json, then the defaults."""

    decoding: str | None = None  # "greedy", "beam"; None: the model's default
    beam_size: int | None = None
    lm: str | None = None  # an ARPA file
    lm_weight: float | None = None
    word_bonus: float | None = None
    # A file (one phrase per line, optionally "PHRASE :BOOST") or phrases and (phrase, boost) pairs.
    hotwords: str | tuple[str | tuple[str, float], ...] | None = None
    hotword_boost: float | None = None
    token_min_log_prob: float | None = None
    beam_prune_log_prob: float | None = None


@dataclass(frozen=True)
class SessionOptions:
    """Where and how ONNX Runtime runs the graphs."""

    num_threads: int = 1  # intra-op threads of one encoder call
    providers: tuple[str, ...] = ()  # "cuda", "tensorrt", "cpu" in order; empty: the CPU
    provider_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    graph_optimization_level: int = 99
    session_config_entries: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None  # a path prefix for ONNX Runtime's profile of the encoder


@dataclass(frozen=True)
class RecognizerOptions:
    """Every option of a Recognizer (see Recognizer's documentation for each)."""

    decoder: str | None = None  # "ctc", "rnnt", "tdt"; None: the model's default
    streaming_mode: str | None = None  # "default", "pad_and_drop_preencoded"; None: the model's own
    keep_log_probs: bool = False
    max_batch_size: int = 32
    endpoint: _core.EndpointConfig | None = None  # None: sherpa-onnx's rules
    long_audio: _core.LongAudioConfig | None = None  # None: windows of at most 30 s
    decoding: DecodingOptions = DecodingOptions()
    session: SessionOptions = SessionOptions()

    def __post_init__(self):
        problems = _problems(self)
        if problems:
            raise ConfigError("invalid recognizer options: " + "; ".join(problems))

    @classmethod
    def from_keywords(cls, base: RecognizerOptions | None = None, **keywords) -> RecognizerOptions:
        """`base` (default: the defaults) with these fields replaced, named flat as Recognizer's keyword
        arguments (beam_size, num_threads, ...) or by their groups (decoding=, session=)."""
        if base is not None and not isinstance(base, RecognizerOptions):
            raise TypeError(f"options must be a RecognizerOptions, not {type(base).__name__} (the other settings are "
                            "keyword arguments: Recognizer(model_dir, decoder='ctc'))")
        return (base or cls()).replace(**keywords)

    def replace(self, **keywords) -> RecognizerOptions:
        """A copy with these fields replaced (flat names as Recognizer's keyword arguments)."""
        top, decoding, session = {}, {}, {}
        for name, value in keywords.items():
            if name == "decoding" and (value is None or isinstance(value, str)):
                decoding["decoding"] = value  # the method, as Recognizer(decoding="beam") names it
            elif name in _TOP:
                top[name] = value
            elif name in _DECODING:
                decoding[name] = value
            elif name in _SESSION:
                session[name] = value
            else:
                raise TypeError(f"unknown recognizer option {name!r}")
        if "hotwords" in decoding:
            decoding["hotwords"] = _hotwords(decoding["hotwords"])
        for name in ("lm", "profile"):
            for group in (decoding, session):
                if group.get(name) is not None:
                    group[name] = os.fspath(group[name])
        if "providers" in session:
            session["providers"] = tuple(session["providers"] or ())
        for name in ("provider_options", "session_config_entries"):
            if name in session:
                session[name] = dict(session[name] or {})
        base_decoding, base_session = top.pop("decoding", self.decoding), top.pop("session", self.session)
        if not isinstance(base_decoding, DecodingOptions) or not isinstance(base_session, SessionOptions):
            raise ConfigError("decoding= takes DecodingOptions or a method name, session= SessionOptions")
        return dataclasses.replace(self, **top, decoding=dataclasses.replace(base_decoding, **decoding),
                                   session=dataclasses.replace(base_session, **session))

    def to_core(self) -> _core.RecognizerConfig:
        """The core's RecognizerConfig for these options."""
        s, d = self.session, self.decoding
        session = _core.SessionConfig()
        session.intra_op_threads = s.num_threads
        session.graph_optimization_level = s.graph_optimization_level
        session.config_entries = dict(s.session_config_entries)
        session.providers = list(s.providers)
        session.provider_options = {name: {k: str(v) for k, v in opts.items()} for name, opts in
                                    s.provider_options.items()}  # fmt: skip
        session.profile_prefix = s.profile or ""
        config = _core.RecognizerConfig()
        config.session = session
        config.decoder = self.decoder or ""
        config.streaming_mode = STREAMING_MODES[self.streaming_mode]
        config.keep_log_probs = self.keep_log_probs
        config.max_batch_size = self.max_batch_size
        config.endpoint = self.endpoint if self.endpoint is not None else _core.EndpointConfig()
        config.long_audio = self.long_audio if self.long_audio is not None else _core.LongAudioConfig()
        decoding = _core.DecodingConfig()
        decoding.method = DECODING_METHODS[d.decoding]
        decoding.lm_path = d.lm
        decoding.hotwords = hotword_list(d.hotwords)
        for name in ("beam_size", "lm_weight", "word_bonus", "hotword_boost", "token_min_log_prob",
                     "beam_prune_log_prob"):
            setattr(decoding, name, getattr(d, name))
        config.decoding = decoding
        return config


_TOP = {f.name for f in dataclasses.fields(RecognizerOptions)}
_DECODING = {f.name for f in dataclasses.fields(DecodingOptions)}
_SESSION = {f.name for f in dataclasses.fields(SessionOptions)}


def _hotwords(hotwords):
    """Hotwords as the options keep them: a path as text, or a tuple of phrases and (phrase, boost) pairs."""
    if hotwords is None or isinstance(hotwords, (str, os.PathLike)):
        return None if hotwords is None else os.fspath(hotwords)
    if not isinstance(hotwords, Sequence):
        raise ConfigError(f"hotwords are a file or a list of phrases or (phrase, boost) pairs, not {hotwords!r}")
    return tuple(tuple(h) if isinstance(h, list) else h for h in hotwords)


def hotword_list(hotwords) -> list:
    """Hotwords as the core takes them, from a file path, or phrases, (phrase, boost) pairs and Hotwords: the
    one check of hotwords, for the Python API, the command line and the server's settings."""
    if hotwords is None:
        return []
    if isinstance(hotwords, (str, os.PathLike)):
        return _core.read_hotwords_file(os.fspath(hotwords))
    listed = []
    for item in hotwords:
        if isinstance(item, _core.Hotword):
            listed.append(item)
        elif isinstance(item, str):
            listed.append(_core.Hotword(item))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            if not _is_number(item[1]):
                raise ConfigError(f"hotword {item[0]!r}: its boost must be a number (finite), not {item[1]!r}")
            listed.append(_core.Hotword(item[0], float(item[1])))
        else:
            raise ConfigError(f"a hotword is a phrase or a (phrase, boost) pair, not {item!r}"[:200])
    return listed


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _problems(o: RecognizerOptions) -> list[str]:
    """Every field of the wrong type or outside its choices (the core checks the ranges of numbers)."""
    problems = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    check(o.decoder in (None, "default", *DECODERS), f"decoder must be one of {DECODERS} or None, not {o.decoder!r}")
    check(o.streaming_mode in STREAMING_MODES,
          f"streaming_mode must be 'default', 'pad_and_drop_preencoded' or None, got {o.streaming_mode!r}")
    check(isinstance(o.keep_log_probs, bool), f"keep_log_probs must be True or False, not {o.keep_log_probs!r}")
    check(_is_int(o.max_batch_size), f"max_batch_size must be a whole number, not {o.max_batch_size!r}")
    check(o.endpoint is None or isinstance(o.endpoint, _core.EndpointConfig),
          f"endpoint must be an EndpointConfig, not {type(o.endpoint).__name__}")
    check(o.long_audio is None or isinstance(o.long_audio, _core.LongAudioConfig),
          f"long_audio must be a LongAudioConfig, not {type(o.long_audio).__name__}")
    d = o.decoding
    if not isinstance(d, DecodingOptions):
        problems.append(f"decoding must be DecodingOptions or a method name, not {type(d).__name__}")
    else:
        check(d.decoding in DECODING_METHODS, f"decoding must be 'greedy' or 'beam', not {d.decoding!r}")
        check(d.beam_size is None or _is_int(d.beam_size), f"beam_size must be a whole number, not {d.beam_size!r}")
        check(d.lm is None or isinstance(d.lm, str), f"lm must be a path, not {d.lm!r}")
        for name in ("lm_weight", "word_bonus", "hotword_boost", "token_min_log_prob", "beam_prune_log_prob"):
            value = getattr(d, name)
            check(value is None or _is_number(value), f"{name} must be a finite number, not {value!r}")
    s = o.session
    if not isinstance(s, SessionOptions):
        problems.append(f"session must be SessionOptions, not {type(s).__name__}")
    else:
        check(_is_int(s.num_threads), f"num_threads must be a whole number, not {s.num_threads!r}")
        check(_is_int(s.graph_optimization_level),
              f"graph_optimization_level must be 0, 1, 2 or 99, not {s.graph_optimization_level!r}")
        check(all(isinstance(p, str) for p in s.providers), f"providers must be names, not {s.providers!r}")
        check(s.profile is None or isinstance(s.profile, str), f"profile must be a path prefix, not {s.profile!r}")
    return problems


def absolute_paths(options: RecognizerOptions) -> RecognizerOptions:
    """The options with their files (LM, hotwords) as absolute paths, for actors and servers that may run in
    another folder."""
    d = options.decoding
    changes = {}
    if d.lm is not None:
        changes["lm"] = str(Path(d.lm).resolve())
    if isinstance(d.hotwords, str):
        changes["hotwords"] = str(Path(d.hotwords).resolve())
    return options.replace(**changes) if changes else options
