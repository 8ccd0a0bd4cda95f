"""Incremental features: chunking invariance (property tests), reset, and the stream's contract."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from feature_cases import FEATURE_CONFIGS, cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nemo_fast

STREAMING = FEATURE_CONFIGS["streaming_fastconformer_80"]
SPEECH = cases(16000)["speech"]


def stream_in_pieces(fbank, x, cut_points, sample_rate=16000):
    stream = fbank.create_stream()
    bounds = [0, *sorted(cut_points), len(x)]
    parts = [stream.accept_waveform(x[a:b], sample_rate) for a, b in zip(bounds[:-1], bounds[1:])]
    parts.append(stream.input_finished())
    return np.concatenate(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    length=st.integers(min_value=0, max_value=6000),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=25),
    config_name=st.sampled_from(sorted(FEATURE_CONFIGS)),
)
def test_any_partition_gives_bit_identical_frames(length, cuts, config_name):
    config = FEATURE_CONFIGS[config_name]
    rate = config["sample_rate"]
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(config)
    x = cases(rate)["speech"][rate // 2 : rate // 2 + length]
    streamed = stream_in_pieces(fbank, x, [c for c in cuts if c <= len(x)], rate)
    if len(x) == 0:
        assert streamed.shape == (0, fbank.feature_dim)
        return
    whole = fbank.compute(x, rate)
    assert streamed.shape == whole.shape
    np.testing.assert_array_equal(streamed, whole)


@settings(max_examples=20, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=4000))
def test_fixed_chunk_sizes_of_a_long_utterance(chunk):
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(STREAMING)
    streamed = stream_in_pieces(fbank, SPEECH, range(chunk, len(SPEECH), chunk))
    np.testing.assert_array_equal(streamed, fbank.compute(SPEECH, 16000))


def test_reset_equals_a_fresh_stream():
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(STREAMING)
    stream = fbank.create_stream()
    stream.accept_waveform(SPEECH[:7777], 16000)
    stream.input_finished()
    stream.reset()
    assert stream.num_samples == 0 and stream.num_frames == 0
    again = np.concatenate([stream.accept_waveform(SPEECH, 16000), stream.input_finished()])
    np.testing.assert_array_equal(again, fbank.compute(SPEECH, 16000))


def test_normalized_features_come_out_at_the_end():
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(FEATURE_CONFIGS["fastconformer_128_per_feature"])
    stream = fbank.create_stream()
    assert stream.accept_waveform(SPEECH, 16000).shape == (0, 128)
    rest = stream.input_finished()
    np.testing.assert_array_equal(rest, fbank.compute(SPEECH, 16000))


def test_dtypes_are_read_in_place_and_agree():
    """float32, float64 and int16 (scaled by 1/32768, as NeMo's loader) give the same features; strided
    views work without a copy."""
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(STREAMING)
    pcm = np.round(SPEECH * 32768).astype(np.int16)
    as_float = pcm.astype(np.float32) / 32768
    ref = fbank.compute(as_float, 16000)
    np.testing.assert_array_equal(fbank.compute(pcm, 16000), ref)
    np.testing.assert_array_equal(fbank.compute(as_float.astype(np.float64), 16000), ref)
    interleaved = np.stack([as_float, np.zeros_like(as_float)], axis=1)  # channel 0 of a stereo buffer
    np.testing.assert_array_equal(fbank.compute(interleaved[:, 0], 16000), ref)


def test_output_is_writable_float32_owned_by_numpy():
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(STREAMING)
    out = fbank.compute(SPEECH, 16000)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.flags.writeable
    # The array keeps the buffer's owner (a capsule around the C++ vector), not the extractor, alive.
    assert type(out.base).__name__ == "PyCapsule"
    expected = out.copy()
    del fbank
    gc.collect()
    reused = [np.full(out.shape, 7.0, np.float32) for _ in range(8)]  # would take over a freed buffer
    np.testing.assert_array_equal(out, expected)
    assert all((r == 7.0).all() for r in reused)


def test_shared_extractor_across_threads():
    """ImprovedFbank is immutable: threads sharing one instance get the same frames as one thread."""
    from concurrent.futures import ThreadPoolExecutor

    fbank = nemo_fast.ImprovedFbank.from_nemo_config(STREAMING)
    expected = fbank.compute(SPEECH, 16000)

    def work(seed):
        rng = np.random.default_rng(seed)
        cuts = sorted(rng.integers(0, len(SPEECH), 30))
        return stream_in_pieces(fbank, SPEECH, cuts)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for frames in pool.map(work, range(16)):
            np.testing.assert_array_equal(frames, expected)


@pytest.mark.parametrize("n", [0, 1, 159, 160, 161, 399, 400, 401])
def test_short_streams_give_nemo_frame_counts(n):
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(STREAMING)
    frames = stream_in_pieces(fbank, SPEECH[8000 : 8000 + n], [])
    assert frames.shape == (n // 160, 80)
