"""Stream behaviour: any chunking gives the same result, streams really stream, batched equals single,
reset equals fresh, the recognizer is shared safely across threads, and flushing returns every token."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recognizer_cases import MODELS_DIR, audio_cases

import nemo_fast

SPEECH = audio_cases()["speech"]
STREAMING_MODEL = MODELS_DIR / "char_d32_80mel_70_1"  # 0.16 s chunks: many chunks per utterance


@pytest.fixture(scope="module")
def recognizer():
    return nemo_fast.Recognizer(STREAMING_MODEL, keep_log_probs=True)


def feed(stream, audio, cuts):
    bounds = [0, *sorted(cuts), len(audio)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        stream.accept_waveform(audio[a:b], 16000)
    stream.input_finished()
    return stream.result()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(SPEECH)), max_size=40))
def test_any_partition_gives_identical_results(recognizer, cuts):
    whole = recognizer.transcribe(SPEECH, sample_rate=16000)
    pieces = feed(recognizer.create_stream(), SPEECH, cuts)
    assert pieces.token_ids == whole.token_ids
    assert pieces.token_times_seconds == whole.token_times_seconds
    np.testing.assert_array_equal(pieces.log_probs, whole.log_probs)


def test_results_arrive_before_the_end(recognizer):
    stream = recognizer.create_stream()
    stream.accept_waveform(SPEECH[:32000], 16000)
    partial = stream.result()
    assert partial.num_frames > 0  # chunks were decoded while audio was still coming
    final = feed(stream, SPEECH[32000:], [])
    assert final.num_frames > partial.num_frames
    assert final.token_ids[: len(partial.token_ids)] == partial.token_ids


def test_flush_returns_every_frame(recognizer):
    """After input_finished the stream has decoded all output frames NeMo produces (golden count)."""
    from recognizer_cases import load_golden

    arrays, _ = load_golden("char_d32_80mel_70_1")
    result = feed(recognizer.create_stream(), SPEECH, [])
    assert result.num_frames == arrays["speech.default.log_probs"].shape[0]
    assert result.token_ids == arrays["speech.default.tokens"].tolist()


def test_batched_streams_equal_single_streams(recognizer):
    check_batched_equals_single(recognizer)


def test_batched_transducer_streams_equal_single_streams():
    check_batched_equals_single(nemo_fast.Recognizer(MODELS_DIR / "rnnt_bpe_d48_80mel_70_6"))


@pytest.mark.parametrize("model", ["rnnt_bpe_d48_80mel_70_6", "hybrid_bpe_d48_80mel_70_13", "tdt_bpe_d48_80mel_offline"])
def test_greedy_transducer_streams_decoded_together_equal_each_alone(model):
    """decode_streams runs a greedy transducer's joint once per step for the whole batch (streams of every
    length, several tokens per frame from these random-weight models, TDT's durations): every stream's tokens,
    times and confidences equal its own decoding."""
    recognizer = nemo_fast.Recognizer(MODELS_DIR / model, decoder="rnnt" if "hybrid" in model else None,
                                      decoding="greedy", max_batch_size=64)  # fmt: skip
    audios = [SPEECH[int(o) : int(o) + int(n)] for o, n in zip(range(0, 40000, 3000), range(8000, 60000, 4000))]
    singles = [recognizer.transcribe(a, sample_rate=16000) for a in audios]
    streams = [recognizer.create_stream() for _ in audios]
    for start in range(0, max(len(a) for a in audios), 2400):
        for stream, audio in zip(streams, audios):
            if start < len(audio):
                stream.accept_waveform_only(audio[start : start + 2400], 16000)
        recognizer.decode_streams(streams)
    finish_and_check_against_singles(recognizer, streams, singles)
    assert sum(len(s.token_ids) for s in singles) > 10 * len(singles)
    for stream, single in zip(streams, singles):
        assert stream.result().token_confidences == single.token_confidences


def test_transducer_recognizer_shared_by_threads():
    recognizer = nemo_fast.Recognizer(MODELS_DIR / "hybrid_bpe_d48_80mel_70_1")
    assert recognizer.decoder == "rnnt"
    check_shared_by_threads(recognizer)


def check_batched_equals_single(recognizer):
    rng = np.random.default_rng(5)
    audios = [SPEECH[int(o):] for o in rng.integers(0, 30000, 6)] + [SPEECH, SPEECH[:5000]]
    singles = [recognizer.transcribe(a, sample_rate=16000) for a in audios]
    streams = [recognizer.create_stream() for _ in audios]
    # Feed all streams in 0.1 s steps and decode them together, as a server would.
    for start in range(0, len(SPEECH), 1600):
        for stream, audio in zip(streams, audios):
            if start < len(audio):
                stream.accept_waveform_only(audio[start : start + 1600], 16000)
        recognizer.decode_streams(streams)
    finish_and_check_against_singles(recognizer, streams, singles)


def finish_and_check_against_singles(recognizer, streams, singles):
    """Flush the streams in one batch; each must equal its single-stream transcription."""
    for stream in streams:
        stream.input_finished_only()
    recognizer.decode_streams(streams)
    for stream, single in zip(streams, singles):
        batched = stream.result()
        assert batched.token_ids == single.token_ids
        assert batched.token_times_seconds == single.token_times_seconds
        if single.log_probs is not None:
            assert batched.log_probs.shape == single.log_probs.shape
            np.testing.assert_allclose(batched.log_probs, single.log_probs, atol=1e-5)


def test_batches_that_change_between_ticks_equal_single_streams(recognizer):
    """decode_streams reuses the last call's stacked caches when the same streams come back in the same
    order; a stream decoded alone in between, a reset stream or a new order must each invalidate that."""
    audios = [SPEECH, SPEECH[3000:], SPEECH[7000:]]
    singles = [recognizer.transcribe(a, sample_rate=16000) for a in audios]
    streams = [recognizer.create_stream() for _ in audios]
    order = [0, 1, 2]
    for tick, start in enumerate(range(0, len(SPEECH), 1600)):
        if tick == 6:  # one stream goes on alone for a while, decoding as it is fed
            for alone in range(start, start + 3 * 1600, 1600):
                streams[1].accept_waveform(audios[1][alone : alone + 1600], 16000)
        if tick == 12:  # a stream starts over
            streams[2].reset()
            streams[2].accept_waveform_only(audios[2][:start], 16000)
        if tick == 15:
            order = [2, 0, 1]
        for i in order:
            offset = start + (3 * 1600 if i == 1 and tick >= 6 else 0)
            streams[i].accept_waveform_only(audios[i][offset : offset + 1600], 16000)
        recognizer.decode_streams([streams[i] for i in order])
    finish_and_check_against_singles(recognizer, streams, singles)


def test_reset_equals_a_fresh_stream(recognizer):
    stream = recognizer.create_stream()
    feed(stream, SPEECH[:20000], [7000])
    stream.reset()
    again = feed(stream, SPEECH, [16000])
    fresh = recognizer.transcribe(SPEECH, sample_rate=16000)
    assert again.token_ids == fresh.token_ids
    np.testing.assert_array_equal(again.log_probs, fresh.log_probs)


def test_one_recognizer_shared_by_threads(recognizer):
    check_shared_by_threads(recognizer)


def check_shared_by_threads(recognizer):
    """Streams of one recognizer on 4 threads, each fed at random cuts, equal the single-thread result."""
    expected = recognizer.transcribe(SPEECH, sample_rate=16000)
    assert expected.token_ids

    def work(seed):
        rng = np.random.default_rng(seed)
        return feed(recognizer.create_stream(), SPEECH, rng.integers(0, len(SPEECH), 12).tolist())

    with ThreadPoolExecutor(max_workers=4) as pool:
        for result in pool.map(work, range(12)):
            assert result.token_ids == expected.token_ids
            if expected.log_probs is not None:
                np.testing.assert_array_equal(result.log_probs, expected.log_probs)


def test_empty_stream_gives_empty_result(recognizer):
    stream = recognizer.create_stream()
    stream.input_finished()
    result = stream.result()
    assert result.text == "" and result.token_ids == [] and result.num_frames == 0


def test_int16_and_float64_input(recognizer):
    pcm = np.round(SPEECH * 32768).astype(np.int16)
    as_float = pcm.astype(np.float32) / 32768
    ref = recognizer.transcribe(as_float, sample_rate=16000)
    assert recognizer.transcribe(pcm, sample_rate=16000).token_ids == ref.token_ids
    assert recognizer.transcribe(as_float.astype(np.float64), sample_rate=16000).token_ids == ref.token_ids


def test_transcribe_a_wav_file(recognizer, tmp_path):
    from feature_cases import SPEECH_WAV

    from_file = recognizer.transcribe(SPEECH_WAV)
    assert from_file.token_ids == recognizer.transcribe(SPEECH, sample_rate=16000).token_ids


def test_reading_the_partial_text_does_not_convert_the_whole_transcript():
    """A live caption reads the text after every piece of audio: after five minutes that must cost a small part of
    what converting the whole transcript's tokens costs (it used to convert them on every read)."""
    import os
    import time
    from pathlib import Path

    if os.environ.get("NEMO_FAST_SANITIZED"):
        pytest.skip("timings under the sanitizers measure the sanitizers")
    recognizer = nemo_fast.Recognizer(Path(__file__).resolve().parents[1] / "models" / "default")
    stream = recognizer.create_stream()
    stream.accept_waveform(np.tile(SPEECH, int(300 * 16000 / len(SPEECH))), 16000)
    assert len(stream.result().token_ids) > 1000

    def median_seconds(read, repeats=200) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            read()
            times.append(time.perf_counter() - start)
        return sorted(times)[repeats // 2]

    text = median_seconds(lambda: stream.result().text)
    everything = median_seconds(lambda: (lambda r: (r.text, r.token_ids, r.token_times_seconds))(stream.result()))
    assert text < everything / 5, f"reading the text took {text * 1e6:.1f} us, everything {everything * 1e6:.1f} us"
