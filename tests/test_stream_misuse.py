"""Misuse of streams is refused with a typed error and leaves every stream as it was: a stream listed twice
in one decode_streams call, a stream of another recognizer, and a stream used by two threads at once."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from recognizer_cases import MODELS_DIR, audio_cases

import nemo_fast
from nemo_fast import errors
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
EXAMPLE = ROOT / "examples" / "speech_example.wav"
STREAMING_MODEL = MODELS_DIR / "char_d32_80mel_70_1"  # 0.16 s chunks: many chunks per utterance


@pytest.fixture(scope="module")
def shipped():
    return nemo_fast.Recognizer(SHIPPED)


def test_a_stream_listed_twice_is_refused_and_unchanged(shipped):
    audio, rate = read_audio(EXAMPLE)
    expected = shipped.transcribe(audio, rate)
    stream = shipped.create_stream()
    refused = 0
    for start in range(0, len(audio), 1600):
        stream.accept_waveform_only(audio[start:start + 1600], rate)
        with pytest.raises(errors.ArgumentError, match="listed twice"):
            shipped.decode_streams([stream, stream, stream])
        refused += 1
        shipped.decode_streams([stream])
    stream.input_finished_only()
    with pytest.raises(errors.ArgumentError, match=r"positions 0 and 2"):
        shipped.decode_streams([stream, shipped.create_stream(), stream])
    shipped.decode_streams([stream])
    assert refused > 10
    assert stream.result().text == expected.text
    assert stream.result().token_ids == expected.token_ids


def test_a_stream_of_another_recognizer_is_refused_and_unchanged(shipped):
    other = nemo_fast.Recognizer(SHIPPED)
    audio, rate = read_audio(EXAMPLE)
    stream = other.create_stream()
    stream.accept_waveform_only(audio, rate)
    stream.input_finished_only()
    mine = shipped.create_stream()
    mine.accept_waveform_only(audio, rate)
    with pytest.raises(errors.ArgumentError, match="created by another Recognizer"):
        shipped.decode_streams([mine, stream])
    # Nothing was decoded in either stream by the refused call.
    assert mine.result().token_ids == [] and stream.result().token_ids == []
    other.decode_streams([stream])
    assert stream.result().text == shipped.transcribe(audio, rate).text


def test_what_is_not_a_stream_is_named(shipped):
    stream = shipped.create_stream()
    with pytest.raises(errors.ArgumentError, match="item 1 is a Result, not a Stream"):
        shipped.decode_streams([stream, stream.result()])


@pytest.mark.parametrize("second_user", ["feeds", "decodes"])
def test_a_stream_in_use_by_another_thread_refuses_a_second_user(second_user):
    recognizer = nemo_fast.Recognizer(STREAMING_MODEL)
    speech = audio_cases()["speech"]
    audio = np.tile(speech, 40)  # tens of seconds: hundreds of chunks for the first thread to decode
    stream = recognizer.create_stream()
    stream.accept_waveform_only(audio, 16000)
    failures = []

    def decode():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the main thread holds the stream for moments too
            try:
                recognizer.decode_streams([stream])
                return
            except errors.StreamBusyError:
                time.sleep(random.uniform(0, 0.002))
            except Exception as e:  # noqa: BLE001 - reported to the main thread
                failures.append(e)
                return
        failures.append("never got the stream")

    decoding = threading.Thread(target=decode)
    decoding.start()
    # Wait until the decoding thread holds the stream (a read from here is refused): its call decodes
    # hundreds of chunks, so the second use that follows at once overlaps it.
    held = False
    while decoding.is_alive() and not held:
        try:
            stream.result()
            time.sleep(0.0005)
        except errors.StreamBusyError:
            held = True
    fed = []
    piece = speech[:1600]
    second_use_refused = False
    try:
        if second_user == "feeds":
            stream.accept_waveform_only(piece, 16000)
            fed.append(piece)
        else:
            recognizer.decode_streams([stream])
    except errors.StreamBusyError:
        second_use_refused = True
    decoding.join()
    assert not failures, failures
    assert held and second_use_refused
    # Every refused call left the stream unchanged: it holds exactly the audio that was accepted.
    stream.input_finished_only()
    recognizer.decode_streams([stream])
    expected = recognizer.transcribe(np.concatenate([audio, *fed]), sample_rate=16000)
    assert stream.result().token_ids == expected.token_ids


def test_streams_of_other_threads_are_not_refused():
    recognizer = nemo_fast.Recognizer(STREAMING_MODEL)
    speech = audio_cases()["speech"]
    results = {}

    def run(i):
        stream = recognizer.create_stream()
        for start in range(0, len(speech), 800):
            stream.accept_waveform(speech[start:start + 800], 16000)
        stream.input_finished()
        results[i] = stream.result().token_ids

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = recognizer.transcribe(speech, sample_rate=16000).token_ids
    assert all(results[i] == expected for i in range(4))
