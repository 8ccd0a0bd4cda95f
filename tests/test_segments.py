"""Endpointing: a stream's transcript cut into segments at pauses, on the decoder's output alone, so the
segments' tokens joined are exactly the unsegmented stream's tokens; popping them bounds a stream's memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recognizer_cases import MODELS_DIR, audio_cases

import nemo_fast
from nemo_fast import errors
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
EXAMPLE = ROOT / "examples" / "speech_example.wav"
SPEECH = audio_cases()["speech"]


def eager_endpoints() -> nemo_fast.EndpointConfig:
    """Rules that cut often, so that random-weight models produce many segments."""
    config = nemo_fast.EndpointConfig()
    config.rule2 = nemo_fast.EndpointRule(must_contain_speech=True, min_trailing_silence=0.16)
    config.rule3 = nemo_fast.EndpointRule(min_segment_length=1.0)
    return config


def feed(stream, audio, cuts, pop_every: int | None = None):
    popped = []
    bounds = [0, *sorted(cuts), len(audio)]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        stream.accept_waveform(audio[a:b], 16000)
        if pop_every and i % pop_every == 0:
            popped += stream.pop_segments()
    stream.input_finished()
    return popped


@pytest.mark.parametrize("model, decoder", [("char_d32_80mel_70_1", None), ("rnnt_bpe_d48_80mel_70_6", None),
                                            ("hybrid_bpe_d48_80mel_70_1", "ctc"), ("hybrid_bpe_d48_80mel_70_1", "rnnt")])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=0, max_value=3 * len(SPEECH)), max_size=30),
       pop_every=st.sampled_from([None, 1, 3]))
def test_segments_joined_are_the_unsegmented_tokens(model, decoder, cuts, pop_every):
    audio = np.tile(SPEECH, 3)
    plain = nemo_fast.Recognizer(MODELS_DIR / model, decoder=decoder, endpoint=_disabled())
    expected = plain.transcribe(audio, sample_rate=16000)
    recognizer = nemo_fast.Recognizer(MODELS_DIR / model, decoder=decoder, endpoint=eager_endpoints())
    stream = recognizer.create_stream()
    popped = feed(stream, audio, cuts, pop_every)
    segments = popped + stream.pop_segments()
    assert [t for s in segments for t in s.token_ids] == expected.token_ids
    assert [t for s in segments for t in s.token_times_seconds] == expected.token_times_seconds
    assert all(s.final for s in segments) and all(s.token_ids for s in segments)
    assert all(s.start_seconds <= s.end_seconds for s in segments)
    assert stream.result().token_ids == [] and stream.segments() == []


def _disabled() -> nemo_fast.EndpointConfig:
    return nemo_fast.EndpointConfig(enabled=False)


def speech_span(audio: np.ndarray, rate: int) -> tuple[float, float]:
    """Where the clip's speech starts and ends: the first and last 10 ms above 2% of its peak level."""
    frames = np.abs(audio[: len(audio) // 160 * 160].astype(np.float32)).reshape(-1, 160).max(axis=1)
    loud = np.nonzero(frames > 0.02 * frames.max())[0]
    return loud[0] * 160 / rate, (loud[-1] + 1) * 160 / rate


def test_sentences_separated_by_pauses_become_one_segment_each():
    clip, rate = read_audio(EXAMPLE)
    clip = clip.astype(np.float32) / 32768 if clip.dtype == np.int16 else clip
    start, end = speech_span(clip, rate)
    pause = np.zeros(int(2.0 * rate), np.float32)
    audio = np.concatenate([clip, pause, clip, pause, clip, pause])
    truth = [(k * (len(clip) + len(pause)) / rate + start, k * (len(clip) + len(pause)) / rate + end)
             for k in range(3)]
    recognizer = nemo_fast.Recognizer(SHIPPED)
    stream = recognizer.create_stream()
    live = []
    for i in range(0, len(audio), 1600):  # 0.1 s pieces, as from a microphone
        stream.accept_waveform(audio[i:i + 1600], rate)
        live += stream.pop_segments()
    assert len(live) == 3, [s.text for s in live]  # each ended by its pause, before the input ended
    stream.input_finished()
    assert stream.pop_segments() == []
    [whole] = nemo_fast.Recognizer(SHIPPED, endpoint=_disabled()).transcribe_segments(audio, sample_rate=rate)
    assert " ".join(s.text for s in live) == whole.text
    # The words, with their times and confidences, do not depend on where the transcript was cut.
    assert [w for s in live for w in s.words] == whole.words
    assert len(whole.words) == 3 * len(live[0].words) and all(0 <= w.confidence <= 1 for w in whole.words)
    for segment, (true_start, true_end) in zip(live, truth):
        assert abs(segment.start_seconds - true_start) <= 0.3, (segment, true_start)
        assert abs(segment.end_seconds - true_end) <= 0.3, (segment, true_end)


def test_the_growing_segment_is_always_available_and_popping_bounds_the_result():
    recognizer = nemo_fast.Recognizer(MODELS_DIR / "rnnt_bpe_d48_80mel_70_6", endpoint=eager_endpoints())
    stream = recognizer.create_stream()
    audio = np.tile(SPEECH, 4)
    kept = []
    for i in range(0, len(audio), 3200):
        stream.accept_waveform(audio[i:i + 3200], 16000)
        segments = stream.segments()
        assert [t for s in segments for t in s.token_ids] == stream.result().token_ids
        assert all(s.final for s in segments[:-1])
        kept += stream.pop_segments()
        assert len(stream.result().token_ids) <= len(segments[-1].token_ids) if segments else True
    assert len(kept) > 3


def test_endpoint_rules_are_validated():
    config = nemo_fast.EndpointConfig()
    config.rule2 = nemo_fast.EndpointRule(must_contain_speech=True)
    with pytest.raises(errors.ConfigError, match="rule2 needs a minimum trailing silence or segment length"):
        nemo_fast.Recognizer(SHIPPED, endpoint=config)
    config.rule2 = nemo_fast.EndpointRule(min_trailing_silence=-1.0)
    with pytest.raises(errors.ConfigError, match="rule2: durations must be >= 0"):
        nemo_fast.Recognizer(SHIPPED, endpoint=config)


def test_words_have_onsets_and_subtitle_cues_start_at_them():
    """A word's onset is the time of its first token (NeMo's CTC start is the token before's, in the pause
    before the word). Two sentences 0.5 s apart in one segment: the onset cues split at the pause, the second
    starting within 0.2 s of its speech; with NeMo's starts the pause does not show and that cue starts over
    a second late (benchmarks/word_onsets.py measures it on 36 phrases)."""
    from nemo_fast import subtitles

    clip, rate = read_audio(ROOT / "examples" / "speech_example.wav")
    clip = clip.astype(np.float32) / 32768
    speech = np.abs(clip) > 0.05 * np.abs(clip).max()
    audio = np.concatenate([clip, np.zeros(rate // 2, np.float32), clip])
    second_onset = (len(clip) + rate // 2 + np.argmax(speech)) / rate
    (segment,) = nemo_fast.Recognizer(ROOT / "models" / "default").transcribe_segments(audio, sample_rate=rate)
    times = segment.token_times_seconds
    for word in segment.words:
        assert word.onset in times and word.start <= word.onset <= word.end
    onset_cues, nemo_cues = subtitles.cues(segment), subtitles.cues(segment, "nemo")
    assert len(onset_cues) == 2 and abs(onset_cues[1].start - second_onset) < 0.2, onset_cues
    assert min(abs(c.start - second_onset) for c in nemo_cues) > 0.5, nemo_cues
    assert " ".join(c.text for c in onset_cues) == segment.text
