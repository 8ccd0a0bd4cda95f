"""RecognizerOptions, the one value a Recognizer is built from: frozen, validated once (every bad field in one
error), the same from keywords, the command line (transcribe, stream, serve share their flags), the server and
Ray (it pickles)."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import nemo_fast
from nemo_fast.arguments import options_from_args
from nemo_fast.cli import build_parser
from nemo_fast.errors import ConfigError
from nemo_fast.options import DecodingOptions, RecognizerOptions, SessionOptions

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
EXAMPLE = ROOT / "examples" / "speech_example.wav"


def test_options_are_frozen_and_keywords_land_in_their_groups():
    options = RecognizerOptions.from_keywords(decoder="ctc", num_threads=2, beam_size=3, decoding="beam",
                                              hotwords=["cat", ("dog", 2.0)], providers=["cpu"])  # fmt: skip
    assert options.decoder == "ctc"
    assert options.session == SessionOptions(num_threads=2, providers=("cpu",))
    assert options.decoding == DecodingOptions(decoding="beam", beam_size=3, hotwords=("cat", ("dog", 2.0)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.decoder = "rnnt"
    assert options.replace(beam_size=5).decoding.beam_size == 5 and options.decoding.beam_size == 3


def test_every_bad_field_is_named_in_one_error():
    with pytest.raises(ConfigError) as error:
        RecognizerOptions.from_keywords(decoder="cnn", beam_size=2.5, lm_weight=float("nan"), num_threads="2",
                                        streaming_mode="fast", decoding="sampling")  # fmt: skip
    message = str(error.value)
    for field in ("decoder", "beam_size", "lm_weight", "num_threads", "streaming_mode", "decoding must be"):
        assert field in message, message
    with pytest.raises(TypeError, match="unknown recognizer option 'beam_width'"):
        RecognizerOptions.from_keywords(beam_width=4)
    with pytest.raises(TypeError, match="options must be a RecognizerOptions, not str"):
        nemo_fast.Recognizer(SHIPPED, "ctc")  # the decoder is a keyword


def test_a_recognizer_runs_with_the_options_given_either_way():
    options = RecognizerOptions.from_keywords(decoding="greedy", num_threads=1)
    by_options = nemo_fast.Recognizer(SHIPPED, options)
    by_keywords = nemo_fast.Recognizer(SHIPPED, decoding="greedy", num_threads=1)
    assert by_options.options == by_keywords.options == options
    assert by_options.transcribe(EXAMPLE).text == by_keywords.transcribe(EXAMPLE).text
    overridden = nemo_fast.Recognizer(SHIPPED, options, decoding="beam", beam_size=2)
    assert overridden.decoding == "beam" and overridden.options.decoding.beam_size == 2


def test_options_pickle_with_their_endpoint_and_long_audio_settings():
    endpoint = nemo_fast.EndpointConfig(rule2=nemo_fast.EndpointRule(True, 0.5, 0.0))
    options = RecognizerOptions.from_keywords(endpoint=endpoint, long_audio=nemo_fast.LongAudioConfig(20.0),
                                              decoding="beam", lm_weight=0.25)  # fmt: skip
    back = pickle.loads(pickle.dumps(options))
    assert back.decoding == options.decoding and back.session == options.session
    assert (back.endpoint.rule2.min_trailing_silence, back.endpoint.rule2.must_contain_speech) == (0.5, True)
    assert back.long_audio.max_window_seconds == 20.0
    recognizer = nemo_fast.Recognizer(SHIPPED, back)
    assert recognizer._core.config.decoding.lm_weight == 0.25


FLAGS = ["--decoder", "ctc", "--threads", "2", "--streaming-mode", "default", "--decoding", "beam", "--beam-size",
         "3", "--lm-weight", "0.25", "--word-bonus", "1.0"]


def test_transcribe_stream_and_serve_read_the_same_flags_into_the_same_options():
    parser = build_parser()
    read = {command: options_from_args(parser.parse_args([command, *extra, *FLAGS]))
            for command, extra in (("transcribe", ["x.wav"]), ("stream", ["-"]), ("serve", []))}  # fmt: skip
    assert read["transcribe"] == read["stream"] == read["serve"]
    options = read["stream"]
    assert (options.decoder, options.streaming_mode, options.session.num_threads) == ("ctc", "default", 2)
    assert options.decoding == DecodingOptions(decoding="beam", beam_size=3, lm_weight=0.25, word_bonus=1.0)
    batched = options_from_args(parser.parse_args(["serve", "--max-batch-size", "8"]))
    assert batched.max_batch_size == 8
    assert options_from_args(parser.parse_args(["transcribe", "x.wav", "--max-batch-size", "4"])).max_batch_size == 4


def test_the_live_module_does_not_import_the_command_line():
    """nemo_fast.live and nemo_fast.cli no longer import each other (the live printer took the CLI's options)."""
    run = subprocess.run([sys.executable, "-c", "import sys, nemo_fast.live; print('nemo_fast.cli' in sys.modules)"],
                         capture_output=True, text=True, cwd=ROOT / "tests")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"

