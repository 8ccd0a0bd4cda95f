"""The nemo-fast command line."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from conftest import read_terminal, require_module
from feature_cases import SPEECH_WAV
from recognizer_cases import MODELS_DIR

MODEL = MODELS_DIR / "char_d32_80mel_70_13"


def nemo_fast_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nemo_fast.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


SHIPPED = Path(__file__).resolve().parents[1] / "models" / "default"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "speech_example.wav"


def test_transcribe_prints_one_line_per_segment(tmp_path):
    """Three sentences separated by pauses: three lines whose words are the unsegmented transcript's."""
    import numpy as np

    import nemo_fast
    from nemo_fast.audio import read_audio

    clip, rate = read_audio(EXAMPLE)
    pause = np.zeros(2 * rate, clip.dtype)
    audio = np.concatenate([clip, pause, clip, pause, clip])
    path = tmp_path / "three.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.astype("<i2").tobytes())
    out = nemo_fast_cli("transcribe", path, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    unsegmented = nemo_fast.EndpointConfig()
    unsegmented.enabled = False
    assert len(lines) == 3 and all(line for line in lines)
    assert " ".join(lines) == nemo_fast.Recognizer(SHIPPED, endpoint=unsegmented).transcribe(path).text


@pytest.mark.parametrize("fmt", ["json", "tsv", "srt", "vtt", "txt"])
def test_transcribe_formats_and_output_dir(tmp_path, fmt):
    out_dir = tmp_path / "out"
    out = nemo_fast_cli("transcribe", EXAMPLE, SPEECH_WAV, "--format", fmt, "--output-dir", out_dir, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    written = out_dir / f"speech_example.{fmt}"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([written.name, f"{SPEECH_WAV.stem}.{fmt}"])
    text = written.read_text()
    import nemo_fast

    expected = nemo_fast.Recognizer(SHIPPED).transcribe(EXAMPLE).text
    if fmt == "json":
        doc = json.loads(text)
        assert doc["text"] == expected and doc["segments"][0]["words"][0]["word"] == expected.split()[0]
        times = [t for s in doc["segments"] for w in s["words"] for t in (w["start"], w["end"])]
        assert times == sorted(times) and all(round(t, 3) == t for t in times)
    elif fmt == "tsv":
        header, *rows = text.splitlines()
        assert header == "start\tend\ttext" and rows[0].split("\t")[2] == expected
        assert int(rows[0].split("\t")[0]) < int(rows[0].split("\t")[1])
    elif fmt == "srt":
        srt = require_module("srt")
        assert " ".join(c.content for c in srt.parse(text)) == expected
    elif fmt == "vtt":
        webvtt = require_module("webvtt")
        import io

        assert " ".join(c.text for c in webvtt.from_buffer(io.StringIO(text))) == expected
    else:
        assert text == expected + "\n"


def test_several_files_as_subtitles_need_an_output_dir(tmp_path):
    out = nemo_fast_cli("transcribe", EXAMPLE, EXAMPLE, "--format", "srt", cwd=tmp_path)
    assert out.returncode == 2 and "needs --output-dir" in out.stderr


def test_inspect_prints_the_contract(tmp_path):
    require_module("onnxruntime")
    out = nemo_fast_cli("inspect", MODEL, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for words in ["mode: streaming", "chunk_size: (105, 112)", "pre_encode_cache_size: (0, 9)",
                  "drop_extra_pre_encoded: 2", "valid_out_len: 14", "input  cache_last_channel",
                  "output log_probs", "att_context_size: (70, 13)", "num_mel_bins: 80"]:
        assert words in out.stdout, words


def test_errors_are_one_clear_line(tmp_path):
    out = nemo_fast_cli("transcribe", tmp_path / "missing.wav", "--model", MODEL, cwd=tmp_path)
    assert out.returncode == 1 and "audio file not found" in out.stderr and "Traceback" not in out.stderr
    out = nemo_fast_cli("transcribe", SPEECH_WAV, "--model", tmp_path / "nomodel", cwd=tmp_path)
    assert out.returncode == 2 and "model file not found" in out.stderr
    out = nemo_fast_cli("export", tmp_path / "missing.nemo", tmp_path / "out", cwd=tmp_path)
    assert out.returncode == 2 and ".nemo file not found" in out.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """`nemo-fast inspect MODEL | head -1`: the pipe closes before the command writes; it stops with the status
    of a tool the closed pipe ended (141), with nothing on standard error."""
    require_module("onnxruntime")
    process = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "inspect", str(MODEL)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    process.stdout.close()  # long before the model is loaded and the first line written
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141 and stderr == b"", stderr


def test_exporter_rejects_unsupported_model_classes(tmp_path):
    from nemo_fast.errors import ModelError
    from nemo_fast.export import export_model

    unsupported = type("EncDecMultiTaskModel", (), {})()
    with pytest.raises(ModelError, match="EncDecMultiTaskModel is not supported"):
        export_model(None, tmp_path, model=unsupported)


def test_version_comes_from_the_one_version_file(tmp_path):
    from pathlib import Path

    version = (Path(__file__).resolve().parents[1] / "VERSION").read_text().strip()
    out = nemo_fast_cli("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == f"nemo-fast {version}"


def _wav_of(path: Path, seconds: float) -> Path:
    from nemo_fast.audio import read_audio

    clip, rate = read_audio(EXAMPLE)
    import numpy as np

    audio = np.tile(clip, int(np.ceil(seconds * rate / len(clip))))[: int(seconds * rate)]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.astype("<i2").tobytes())
    return path


def test_files_decoded_as_a_batch_equal_one_at_a_time_in_order(tmp_path):
    files = [_wav_of(tmp_path / f"f{i}.wav", s) for i, s in enumerate([2.0, 9.5, 4.0, 1.0, 6.0])]
    files.insert(2, tmp_path / "missing.wav")
    one = nemo_fast_cli("transcribe", *files, "--jobs", "1", "--format", "json", cwd=tmp_path)
    batch = nemo_fast_cli("transcribe", *files, "--jobs", "4", "--format", "json", cwd=tmp_path)
    assert one.returncode == batch.returncode == 1 and "missing.wav" in batch.stderr
    assert batch.stdout == one.stdout
    assert [json.loads(line)["file"] for line in batch.stdout.splitlines()] == [str(f) for f in files if f.exists()]
    assert nemo_fast_cli("transcribe", *files, "--jobs", "0", cwd=tmp_path).returncode == 2


def test_progress_bar_only_on_a_terminal(tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios

    require_module("tqdm")
    path = _wav_of(tmp_path / "long.wav", 20.0)


    def stderr_of(*extra):
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 wide
        run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", str(path), *extra],
                             stdout=subprocess.PIPE, stderr=follower, cwd=tmp_path, timeout=120)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(leader)
        assert run.returncode == 0
        return b"".join(chunks).decode(errors="replace")

    assert "audio" in stderr_of()  # tqdm's bar, described as "audio"
    assert stderr_of("--quiet") == ""
    piped = nemo_fast_cli("transcribe", path, cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""


def test_same_stem_inputs_into_one_output_dir_are_refused_before_any_work(tmp_path):
    """a/x.wav and b/x.wav (or x.wav and x.flac) would write one o/x.txt: an error naming both, nothing written."""
    for names in (["a/x.wav", "b/x.wav"], ["x.wav", "x.flac"]):
        for name in names:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(EXAMPLE.read_bytes())
        out = nemo_fast_cli("transcribe", *names, "--output-dir", "o", cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert names[0] in out.stderr and names[1] in out.stderr and "x.txt" in out.stderr
        assert not (tmp_path / "o").exists()


def test_ctrl_c_during_transcribe_is_one_line_and_status_130(tmp_path):
    """SIGINT while transcribing a long file: exit 130, one line on stderr (no traceback)."""
    import signal
    import time

    import numpy as np

    rate = 16000
    t = np.arange(20 * 60 * rate) / rate  # 20 minutes: far longer than the wait below
    pcm = (3000 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype("<i2")
    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    process = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "transcribe", str(path), "--quiet"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["nemo-fast: interrupted"]


def test_transcribe_dash_reads_a_wav_or_flac_from_standard_input(tmp_path):
    """`cat x.wav | nemo-fast transcribe -` (and FLAC): the file's transcript; --output-dir names it stdin.txt."""
    import soundfile

    import nemo_fast

    expected = nemo_fast.Recognizer(SHIPPED).transcribe(EXAMPLE).text
    audio, rate = soundfile.read(EXAMPLE, dtype="int16")
    flac = tmp_path / "x.flac"
    soundfile.write(flac, audio, rate)
    for path in (EXAMPLE, flac):
        run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", "-"], input=path.read_bytes(),
                             capture_output=True, cwd=tmp_path)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert run.stdout.decode().split() == expected.split()
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", "-", "--output-dir", "o"],
                         input=EXAMPLE.read_bytes(), capture_output=True, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0 and (tmp_path / "o" / "stdin.txt").read_text().split() == expected.split()


@pytest.mark.parametrize("args,message", [([], "give audio files ('-': one from standard input) or --manifest"),
                                          (["-", "-"], "'-' (standard input) may be given once"),
                                          (["a.wav", "--manifest", "m.json"], "not both"),
                                          (["--manifest", "m.json", "--output-manifest", "o.json",
                                            "--retry-errors"], "--retry-errors goes with --resume")])  # fmt: skip
def test_transcribe_argument_messages_say_what_is_wrong(tmp_path, args, message):
    (tmp_path / "m.json").write_text(json.dumps({"audio_filepath": str(EXAMPLE)}) + "\n")
    out = nemo_fast_cli("transcribe", *args, cwd=tmp_path)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def test_the_progress_bar_on_a_terminal_shows_the_total_and_time_left(tmp_path):
    """On a terminal (a pseudo-terminal here) the bar knows the WAV files' total duration: a share and an ETA."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    process = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "transcribe", str(EXAMPLE), str(EXAMPLE)],
                               stdout=subprocess.PIPE, stderr=terminal, cwd=tmp_path)  # fmt: skip
    os.close(terminal)
    shown = read_terminal(controller)
    assert process.wait(timeout=120) == 0
    with wave.open(str(EXAMPLE)) as w:
        total = 2 * w.getnframes() / w.getframerate()
    text = shown.decode(errors="replace")
    assert "%" in text and f"/{total:.1f}" in text, text
