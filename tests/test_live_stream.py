"""`nemo-fast stream`: raw PCM from a pipe at real-time pace, the terminal and JSON outputs, bad input, and the
microphone path (with a stand-in for the sounddevice package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import read_terminal

import nemo_fast
from nemo_fast.audio import read_audio
from nemo_fast.models import default_model_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
CHUNK_SECONDS = 0.56  # the shipped model's chunk (56 feature frames)
RULE2_SILENCE = 1.2   # the default endpoint's pause after speech


def _clip() -> np.ndarray:
    clip, rate = read_audio(EXAMPLE)
    assert rate == 16000 and clip.dtype == np.int16
    return clip


def _stream_command(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "stream", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT / "tests", **kwargs)


@pytest.mark.skipif(os.environ.get("NEMO_FAST_SANITIZED") == "1", reason="timing under the sanitizers is meaningless")
def test_a_pipe_at_real_time_pace_gets_words_within_a_chunk_and_loses_nothing():
    """Two sentences with pauses written at real-time pace in 0.1 s blocks: the first words show within one
    chunk (plus decoding time) of their audio, the first sentence ends as a final event within the endpoint's
    pause after it, and at the end of input the finals hold exactly the transcript of the same audio."""
    clip = _clip()
    speech_start = np.argmax(np.abs(clip) > 0.02 * np.abs(clip).max()) / 16000
    audio = np.concatenate([clip, np.zeros(32000, np.int16), clip, np.zeros(8000, np.int16)])
    process = _stream_command("-", "--format", "json")
    events: list[tuple[float, dict]] = []

    def read_events():
        for line in process.stdout:
            events.append((time.monotonic(), json.loads(line)))

    reader = threading.Thread(target=read_events)
    reader.start()
    while not events:  # the model is loaded when "ready" comes
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.01)
    assert events[0][1]["type"] == "ready"
    started = time.monotonic()
    for i in range(0, len(audio), 1600):
        target = started + i / 16000
        time.sleep(max(0.0, target - time.monotonic()))
        process.stdin.write(audio[i:i + 1600].tobytes())
        process.stdin.flush()
    process.stdin.close()
    reader.join(timeout=60)
    assert process.wait(timeout=10) == 0, process.stderr.read()
    first_words = next(t for t, e in events if e["type"] == "partial" and e["text"])
    assert first_words - started <= speech_start + 2 * CHUNK_SECONDS + 0.5
    finals = [(t, e) for t, e in events if e["type"] == "final"]
    assert len(finals) == 2
    first_end = finals[0][1]["end"]
    assert finals[0][0] - started <= first_end + RULE2_SILENCE + CHUNK_SECONDS + 1.0
    assert finals[0][0] - started < len(clip) / 16000 + 2.0  # before the second sentence was sent
    expected = nemo_fast.Recognizer(default_model_dir()).transcribe_segments(audio.astype(np.float32) / 32768,
                                                                            sample_rate=16000)
    assert [e["text"] for _, e in finals] == [s.text for s in expected]
    assert [w["word"] for _, e in finals for w in e["words"]] == [w.text for s in expected for w in s.words]


def test_text_lines_with_times_when_not_a_terminal():
    clip = _clip()
    process = _stream_command("-")
    out, err = process.communicate(clip.tobytes(), timeout=60)
    assert process.returncode == 0, err
    [line] = out.decode().splitlines()
    expected = nemo_fast.Recognizer(default_model_dir()).transcribe_segments(EXAMPLE)[0]
    assert line == f"[{expected.start_seconds:.2f} --> {expected.end_seconds:.2f}] {expected.text}"


def test_the_growing_segment_is_redrawn_in_place_on_a_terminal():
    import pty

    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "stream", "-"], stdin=subprocess.PIPE,
                               stdout=secondary, stderr=subprocess.PIPE, cwd=ROOT / "tests")
    os.close(secondary)
    process.stdin.write(_clip().tobytes())
    process.stdin.close()
    shown = read_terminal(primary)
    assert process.wait(timeout=60) == 0
    redraws = shown.decode().split("\r\x1b[2K")
    assert len(redraws) > 3  # the partial text grew in place several times
    assert redraws[-1].startswith("[0.00 --> ") and "problem of pay in equity" in redraws[-1]


def test_a_trailing_half_sample_is_an_error_after_the_words_before_it_are_printed():
    process = _stream_command("-", "--format", "json")
    out, err = process.communicate(_clip().tobytes() + b"\x01", timeout=60)
    assert process.returncode == 2
    assert "ended inside a sample: 1 stray byte" in err.decode()
    assert json.loads(out.decode().splitlines()[-1])["type"] == "final"


@pytest.mark.parametrize("args,message", [([], "give '-'"), (["-", "--mic"], "give '-'"),
                                          (["clip.wav"], "not 'clip.wav'")])
def test_the_input_must_be_a_pipe_or_the_microphone(args, message):
    process = _stream_command(*args)
    _, err = process.communicate(b"", timeout=60)
    assert process.returncode == 2 and message in err.decode()


def test_warnings_are_worded_for_the_command_line():
    """int16 values sent as f32le: the warning says what is wrong, as the tool's own line, no source line."""
    loud = (_clip().astype(np.float32)).astype("<f4").tobytes()
    process = _stream_command("-", "--encoding", "f32le")
    _, err = process.communicate(loud, timeout=120)
    assert process.returncode == 0
    assert err.decode().startswith("nemo-fast: warning: float audio reaches") and ".py:" not in err.decode()


def test_the_microphone_path_records_until_ctrl_c_and_prints_the_last_words(monkeypatch, capsys):
    """A stand-in for sounddevice plays the clip through the callback in 0.1 s blocks, then presses Ctrl-C: the
    stream is flushed and the whole sentence printed."""
    import _thread

    from nemo_fast import cli

    clip = _clip().astype(np.float32) / 32768
    opened = {}

    class InputStream:
        def __init__(self, samplerate, channels, dtype, device, blocksize, callback):
            opened.update(samplerate=samplerate, channels=channels, dtype=dtype, blocksize=blocksize)
            self.callback = callback

        def __enter__(self):
            def play():
                for i in range(0, len(clip), 1600):
                    self.callback(clip[i:i + 1600, None], 1600, None, None)
                time.sleep(0.5)
                _thread.interrupt_main()

            threading.Thread(target=play, daemon=True).start()
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(InputStream=InputStream))
    assert cli.main(["stream", "--mic"]) == 0
    assert opened == {"samplerate": 16000, "channels": 1, "dtype": "float32", "blocksize": 1600}
    expected = nemo_fast.Recognizer(default_model_dir()).transcribe_segments(EXAMPLE)[0]
    assert capsys.readouterr().out.splitlines()[-1].endswith(expected.text)


def test_a_missing_sounddevice_is_named(monkeypatch, capsys):
    from nemo_fast import cli

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    assert cli.main(["stream", "--mic"]) == 2
    assert "pip install \"nemo_fast[mic]\"" in capsys.readouterr().err
