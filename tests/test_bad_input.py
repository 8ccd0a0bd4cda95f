"""Bad input raises a typed error naming the problem (and subclassing ValueError), never crashes."""

from __future__ import annotations

import numpy as np
import pytest
from feature_cases import FEATURE_CONFIGS

import nemo_fast
from nemo_fast import errors

FBANK = nemo_fast.ImprovedFbank.from_nemo_config(FEATURE_CONFIGS["streaming_fastconformer_80"])
AUDIO = (np.sin(np.arange(16000) * 0.05) * 0.1).astype(np.float32)


@pytest.mark.parametrize(
    "samples, error, words",
    [
        (np.zeros((2, 16000), np.float32), errors.AudioError, "1-D mono"),
        (np.zeros((16000, 1), np.float32), errors.AudioError, "shape (16000, 1)"),
        (np.zeros(16000, np.int32), errors.AudioError, "int32"),
        (np.zeros(16000, np.complex64), errors.AudioError, "complex64"),
        (np.array([0.0, np.nan, 0.0], np.float32), errors.NonFiniteAudioError, "index 1"),
        (np.array([0.0, 0.0, np.inf], np.float64), errors.NonFiniteAudioError, "index 2"),
        (np.array([0.0, 1e300], np.float64), errors.NonFiniteAudioError, "non-finite"),
        (np.zeros(0, np.float32), errors.EmptyAudioError, "empty"),
    ],
)
def test_bad_samples(samples, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        FBANK.compute(samples, 16000)
    assert isinstance(info.value, ValueError)


def test_sample_rate_mismatch_names_both_rates():
    with pytest.raises(errors.SampleRateMismatchError, match="8000 Hz.*16000 Hz"):
        FBANK.compute(AUDIO, 8000)
    with pytest.raises(errors.SampleRateMismatchError):
        FBANK.create_stream().accept_waveform(AUDIO, 44100)


def test_rejected_chunk_leaves_the_stream_unchanged():
    stream = FBANK.create_stream()
    first = stream.accept_waveform(AUDIO[:4000], 16000)
    bad = AUDIO[4000:8000].copy()
    bad[17] = np.nan
    with pytest.raises(errors.NonFiniteAudioError):
        stream.accept_waveform(bad, 16000)
    rest = [stream.accept_waveform(AUDIO[4000:], 16000), stream.input_finished()]
    np.testing.assert_array_equal(np.concatenate([first, *rest]), FBANK.compute(AUDIO, 16000))


def test_audio_after_input_finished_is_a_state_error():
    stream = FBANK.create_stream()
    stream.input_finished()
    with pytest.raises(errors.StreamStateError, match="reset"):
        stream.accept_waveform(AUDIO, 16000)


def test_empty_chunks_are_fine_in_a_stream():
    stream = FBANK.create_stream()
    assert stream.accept_waveform(np.zeros(0, np.float32), 16000).shape == (0, 80)
    assert stream.input_finished().shape == (0, 80)


def test_non_array_input_is_rejected():
    with pytest.raises((TypeError, errors.AudioError)):
        FBANK.compute("not audio", 16000)


@pytest.mark.parametrize(
    "config, words",
    [
        ({"features": 80, "unknown_option": 1}, "unknown preprocessor keys: unknown_option"),
        ({"_target_": "nemo.collections.asr.modules.AudioToMFCCPreprocessor"}, "unsupported preprocessor"),
        ({"window_size": 0.025, "n_window_size": 400}, "both window_size and n_window_size"),
        ({"frame_splicing": 3}, "frame_splicing"),
        ({"normalize": {"fixed_mean": [0.0]}}, "normalize"),
        ({"window": "kaiser"}, "window='kaiser'"),
        ({"log_zero_guard_value": "huge"}, "huge"),
        ({"n_fft": 400}, "power of two"),
        ({"features": 80, "highfreq": 9000}, "highfreq"),
        ({"pad_to": "max"}, "pad_to"),
    ],
)
def test_bad_configs_are_rejected_with_every_problem_named(config, words):
    with pytest.raises(errors.ConfigError, match=words.replace("(", r"\(")) as info:
        nemo_fast.ImprovedFbank.from_nemo_config(config)
    assert isinstance(info.value, ValueError)


def test_several_problems_are_reported_together():
    with pytest.raises(errors.ConfigError) as info:
        nemo_fast.ImprovedFbank.from_nemo_config({"bogus": 1, "frame_splicing": 2, "mel_norm": "htk"})
    message = str(info.value)
    assert "bogus" in message and "frame_splicing" in message and "mel_norm" in message


def test_metadata_options_reject_unknown_and_missing_keys():
    kv = FBANK.options.to_key_values()
    with pytest.raises(errors.ConfigError, match="unknown key 'surprise'"):
        nemo_fast.FbankOptions.from_key_values({**kv, "surprise": "1"})
    del kv["n_fft"]
    with pytest.raises(errors.ConfigError, match="missing key 'n_fft'"):
        nemo_fast.FbankOptions.from_key_values(kv)
