"""Offline models on long inputs: windows cut at pauses (no length limit, memory bounded by the window)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest
from recognizer_cases import MODELS_DIR

import nemo_fast
from nemo_fast.errors import ConfigError
from nemo_fast.export.exporter import parity_audio

RATE = 16000
FRAME = 1280  # samples per encoder frame of the 8x test models (10 ms hop)


def speech_with_pauses(seconds: float, cuts_every: float | None = None, seed: int = 0) -> np.ndarray:
    """Speech-like audio with noise everywhere; with cuts_every, 100 ms of digital silence centred on every
    multiple of it (on the encoder-frame grid), the only stretches quiet enough to be cut at."""
    rng = np.random.default_rng(seed)
    piece = parity_audio(4.0)
    n = int(seconds * RATE)
    audio = np.tile(piece, n // len(piece) + 1)[:n] * rng.uniform(0.6, 1.4)
    audio = audio + 0.003 * rng.standard_normal(n).astype(np.float32)
    if cuts_every:
        step = int(cuts_every * RATE)
        assert step % FRAME == 0
        for c in range(step, n, step):
            audio[c - 800:c + 800] = 0.0
    return audio.astype(np.float32)


def test_an_offline_model_transcribes_past_its_one_pass_length():
    """120 s through the offline TDT model (one pass failed past ~41 s, its position table): every window
    decoded, the output frames continuous over the whole input, token times inside it, segments final."""
    recognizer = nemo_fast.Recognizer(MODELS_DIR / "tdt_bpe_d48_80mel_offline")
    assert recognizer.max_window_seconds == 30.0
    audio = speech_with_pauses(120.0)
    result = recognizer.transcribe(audio, sample_rate=RATE)
    assert result.num_frames == len(audio) // FRAME  # the windows' frames continue each other
    times = result.token_times_seconds
    assert len(times) > 100 and times == sorted(times) and 0 <= times[0] and times[-1] < 120.0
    assert times[-1] > 110.0  # the last window was decoded
    segments = recognizer.transcribe_segments(audio, sample_rate=RATE)
    assert all(s.final for s in segments)
    assert [t for s in segments for t in s.token_ids] == result.token_ids
    assert segments[-1].end_seconds > 110.0


def test_windows_are_cut_at_the_quietest_stretch():
    """With max_window_seconds=8 and pauses every 4.8 s, the windows end at the pauses: each window's CTC
    log-probs equal those of its audio transcribed alone, row for row."""
    long_audio = nemo_fast.LongAudioConfig(max_window_seconds=8.0, cut_search_seconds=4.0)
    recognizer = nemo_fast.Recognizer(MODELS_DIR / "offline_char_d32_80mel_offline", keep_log_probs=True,
                                      long_audio=long_audio)
    audio = speech_with_pauses(23.0, cuts_every=4.8)
    windowed = recognizer.transcribe(audio, sample_rate=RATE).log_probs
    step = int(4.8 * RATE)
    alone = [recognizer.transcribe(audio[a:a + step], sample_rate=RATE).log_probs for a in range(0, len(audio), step)]
    assert windowed.shape == np.concatenate(alone).shape
    assert np.abs(windowed - np.concatenate(alone)).max() <= 1e-5


def test_long_audio_options_are_checked():
    model = MODELS_DIR / "offline_char_d32_80mel_offline"
    for bad in [dict(max_window_seconds=-1.0), dict(cut_search_seconds=0.0), dict(quiet_seconds=float("nan")),
                dict(max_window_seconds=0.1)]:
        with pytest.raises(ConfigError, match=next(iter(bad)) if "0.1" not in str(bad) else "two encoder frames"):
            nemo_fast.Recognizer(model, long_audio=nemo_fast.LongAudioConfig(**bad))
    streaming = nemo_fast.Recognizer(MODELS_DIR / "char_d32_80mel_70_13")
    assert streaming.max_window_seconds is None


def test_a_long_wav_file_is_read_block_by_block(tmp_path):
    """transcribe(path) of a WAV file equals transcribe of its samples, and reads it in blocks."""
    from nemo_fast.audio import iter_audio

    audio = speech_with_pauses(70.0)
    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        w.writeframes(np.stack([pcm, pcm], axis=1).tobytes())
    blocks = list(iter_audio(path, block_seconds=10.0))
    assert len(blocks) == 7 and all(len(b) <= 10 * RATE and r == RATE for b, r in blocks)
    recognizer = nemo_fast.Recognizer(MODELS_DIR / "tdt_bpe_d48_80mel_offline")
    mono = np.concatenate([b for b, _ in blocks])
    assert recognizer.transcribe(path) == recognizer.transcribe(mono, sample_rate=RATE)


def test_three_hours_stream_in_bounded_memory():
    """Three hours of audio fed to an offline model's stream piece by piece (segments popped as a caller of a
    long recording does): the process's peak memory after 3 h is within 1.2x of its peak after 10 minutes."""
    script = textwrap.dedent(f"""
        import numpy as np, nemo_fast, resource
        from nemo_fast.export.exporter import parity_audio
        recognizer = nemo_fast.Recognizer({str(MODELS_DIR / "tdt_bpe_d48_80mel_offline")!r})
        piece = np.tile(parity_audio(4.0), 5)  # 20 s
        stream = recognizer.create_stream()
        tokens = 0
        def peak_mb():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for i in range(540):  # 3 hours
            stream.accept_waveform(piece, 16000)
            tokens += sum(len(s.token_ids) for s in stream.pop_segments())
            if i == 29:
                at_10_min = peak_mb()
        stream.input_finished()
        tokens += sum(len(s.token_ids) for s in stream.pop_segments())
        print(at_10_min, peak_mb(), tokens, stream.result().num_frames)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    at_10_min, at_3_h, tokens, frames = out.stdout.split()
    if not os.environ.get("NEMO_FAST_SANITIZED"):  # ASan's quarantine of freed memory grows the peak by itself
        assert float(at_3_h) <= 1.2 * float(at_10_min), (at_10_min, at_3_h)
    assert int(tokens) > 10000  # every window's tokens came out
    assert int(frames) == 3 * 3600 * RATE // FRAME


@pytest.mark.nemo
def test_a_short_position_table_is_recorded_and_windows_equal_nemo(tmp_path):
    """An offline CTC model whose position table covers 64 encoder frames (5.1 s): the export records the limit,
    a window longer than it is refused by name, and 30 s (6x the limit) transcribe with each window's
    log-probs within 1e-4 of NeMo's for that window's audio, and the tokens NeMo's greedy rule gives for the
    windows' log-probs in a row."""
    from nemo_model_factory import ModelRecipe, build_model

    from nemo_fast.export import export_model, reference

    recipe = ModelRecipe(name="offline_short_table", model_class="EncDecCTCModel", features=80, d_model=32,
                         n_heads=2, streaming=False, seed=4, pos_emb_max_len=64)
    model = build_model(recipe, tmp_path)
    out = export_model(None, tmp_path / "exported", model=model)
    recognizer = nemo_fast.Recognizer(out, keep_log_probs=True)
    assert recognizer.spec.max_encoder_frames == 64
    assert recognizer.max_window_seconds == pytest.approx(60 * 0.08)
    with pytest.raises(ConfigError, match="position table holds 64 encoder frames"):
        nemo_fast.Recognizer(out, long_audio=nemo_fast.LongAudioConfig(max_window_seconds=6.0))
    audio = speech_with_pauses(30.0, cuts_every=3.2)  # cut points 3.2 s apart: [1.6, 4.8] s searched
    result = recognizer.transcribe(audio, sample_rate=RATE)
    edges = [int(3.2 * RATE) * i for i in range(9)] + [len(audio)]  # the last 4.4 s fit in one window
    nemo = [reference.nemo_offline_log_probs(model, audio[a:b])[0] for a, b in zip(edges, edges[1:])]
    nemo = np.concatenate(nemo)
    assert result.log_probs.shape == nemo.shape
    assert np.abs(result.log_probs - nemo).max() <= 1e-4
    assert result.token_ids == reference.greedy_ctc(nemo, blank_id=nemo.shape[1] - 1)


def test_vad_cuts_fall_in_a_pause_filled_with_a_tone_not_in_soft_speech():
    """A window must be cut in its last half. There the speech's pauses hold a loud tone and one second of
    speech is soft: by energy the cut falls in the soft speech, with Silero VAD (LongAudioConfig.vad_model) in
    the pause, where nobody speaks."""
    from nemo_fast.audio import read_audio
    from nemo_fast.vad import default_model_path

    try:
        vad_model = default_model_path()
    except nemo_fast.errors.MissingDependencyError:
        pytest.skip("the silero-vad package's model is not installed")
    clip, rate = read_audio(Path(__file__).resolve().parents[1] / "examples" / "speech_example.wav")
    unit = clip.astype(np.float32) / 32768
    pause = int(3.79 * rate)  # the clip's trailing silence, 3.79-4.12 s
    unit[pause:] = 0.3 * np.sin(2 * np.pi * 440 * np.arange(len(unit) - pause) / rate)
    audio = np.tile(unit, 6)[: 20 * rate].copy()
    audio[int(6.5 * rate): int(7.5 * rate)] *= 0.1  # soft speech
    second_pause = ((len(unit) + pause) / rate, 2 * len(unit) / rate)  # 7.91-8.24 s
    model = MODELS_DIR / "tdt_bpe_d48_80mel_offline"
    by_energy = nemo_fast.Recognizer(model, long_audio=nemo_fast.LongAudioConfig(max_window_seconds=10))
    by_vad = nemo_fast.Recognizer(model, long_audio=nemo_fast.LongAudioConfig(max_window_seconds=10,
                                                                              vad_model=str(vad_model)))
    energy_cut = by_energy.windows(audio, rate)[0][1]
    vad_cut = by_vad.windows(audio, rate)[0][1]
    assert 6.5 <= energy_cut <= 7.5, energy_cut
    assert second_pause[0] <= vad_cut <= second_pause[1], (vad_cut, second_pause)
    assert by_vad.transcribe(audio, sample_rate=rate).text  # and it decodes
    windows = by_vad.windows(audio, rate)
    assert windows[0][0] == 0.0 and windows[-1][1] == len(audio) / rate
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
