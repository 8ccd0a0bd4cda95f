"""Audio at other sample rates than the model's: the recognizer resamples it (C++, in the stream), so a
recording at 22.05, 44.1 or 48 kHz gives the words of the same speech at 16 kHz, telephone audio at 8 kHz
is recognized as its band-limited 16 kHz version is, and pieces of any size give the result of the whole."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import require_module
from shipped_model_cases import SHIPPED_MODEL, audio_cases

import nemo_fast


def ideal_resample(audio: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Band-limited resampling through the spectrum (an independent reference: no filter design)."""
    n = len(audio) * new_rate // rate
    spectrum = np.fft.rfft(audio.astype(np.float64))
    return (np.fft.irfft(spectrum, n) * (n / len(audio))).astype(np.float32)


@pytest.fixture(scope="module")
def recognizer():
    return nemo_fast.Recognizer(SHIPPED_MODEL, decoder="ctc", keep_log_probs=True)


@pytest.fixture(scope="module")
def speech():
    return audio_cases()["speech_clip"]


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
def test_higher_rates_give_the_words_of_the_16k_audio(recognizer, speech, rate):
    expected = recognizer.transcribe(speech, sample_rate=16000)
    assert len(expected.token_ids) > 5
    result = recognizer.transcribe(ideal_resample(speech, 16000, rate), sample_rate=rate)
    # The band above about 7.2 kHz is in the filter's transition, so the log-probs of unlikely tokens
    # move (up to 0.7 here); the words do not.
    assert result.text == expected.text
    assert result.token_ids == expected.token_ids
    assert result.log_probs.shape == expected.log_probs.shape


def test_telephone_audio_is_recognized_as_its_16k_version(recognizer, speech):
    """8 kHz audio of a telephone channel (nothing above 3.4 kHz): the same as that audio at 16 kHz."""
    telephone = np.fft.rfft(ideal_resample(speech, 16000, 8000).astype(np.float64))
    telephone[np.fft.rfftfreq(2 * (len(telephone) - 1), 1 / 8000) > 3400] = 0
    telephone = np.fft.irfft(telephone).astype(np.float32)
    expected = recognizer.transcribe(ideal_resample(telephone, 8000, 16000), sample_rate=16000)
    result = recognizer.transcribe(telephone, sample_rate=8000)
    assert result.token_ids == expected.token_ids
    assert result.text == expected.text
    assert np.abs(result.log_probs - expected.log_probs).max() < 0.1


@pytest.mark.parametrize("feed", [160, 1234, 44100])
def test_pieces_give_the_result_of_the_whole(recognizer, speech, feed):
    audio = ideal_resample(speech, 16000, 44100)
    whole = recognizer.transcribe(audio, sample_rate=44100)
    stream = recognizer.create_stream()
    for start in range(0, len(audio), feed):
        stream.accept_waveform(audio[start : start + feed], 44100)
    stream.input_finished()
    result = stream.result()
    assert result.token_ids == whole.token_ids
    np.testing.assert_array_equal(result.log_probs, whole.log_probs)


def test_files_at_other_rates_are_transcribed(recognizer, speech, tmp_path):
    soundfile = require_module("soundfile")
    expected = recognizer.transcribe(speech, sample_rate=16000).text
    wav, flac = tmp_path / "speech_48k.wav", tmp_path / "speech_44k.flac"
    soundfile.write(wav, ideal_resample(speech, 16000, 48000), 48000, subtype="PCM_16")
    soundfile.write(flac, ideal_resample(speech, 16000, 44100), 44100, subtype="PCM_16")
    out = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", "--model", str(SHIPPED_MODEL),
                          "--decoder", "ctc", str(wav), str(flac)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert expected in out.stdout
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.endswith(expected) for line in lines), out.stdout


def test_streams_at_other_rates_in_parallel_threads(speech):
    """The recognizer's shared resampling filters are safe to use from many threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    recognizer = nemo_fast.Recognizer(SHIPPED_MODEL, decoder="ctc")  # fresh: no filter built yet
    inputs = [(ideal_resample(speech, 16000, rate), rate) for rate in [22050, 44100, 48000, 8000] * 2]
    alone = [nemo_fast.Recognizer(SHIPPED_MODEL, decoder="ctc").transcribe(a, sample_rate=r).token_ids
             for a, r in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda job: recognizer.transcribe(job[0], sample_rate=job[1]).token_ids, inputs))
    assert together == alone
