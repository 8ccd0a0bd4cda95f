"""Fault injection: damaged model metadata and graphs, wrong arguments, bad files and interrupts each end in a
typed error or a documented result within a time bound, never a signal, a hang or silently wrong text.

Cases that crashed or hung before they were fixed run in a child process, so that a regression fails its
test instead of taking the test run down with it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require, require_module
from recognizer_cases import MODELS_DIR, audio_cases

import nemo_fast
from nemo_fast import errors

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CTC_MODEL = MODELS_DIR / "char_d32_80mel_70_6"
RNNT_MODEL = MODELS_DIR / "rnnt_bpe_d48_80mel_70_6"
TDT_MODEL = MODELS_DIR / "tdt_bpe_d48_80mel_offline"
BPE_MODEL = MODELS_DIR / "rnnt_bpe_d48_80mel_70_6"  # a random joint that emits many tokens


def copy_model(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def set_metadata(model_dir: Path, **values: str) -> Path:
    onnx = require_module("onnx")

    path = model_dir / "model.onnx"
    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    props.update({key.replace("__", "."): value for key, value in values.items()})
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return model_dir


def child_env() -> dict:
    paths = [str(TESTS), str(TESTS / "models"), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def outcome(model_dir: Path, decoder: str | None = None, seconds: float = 3.0, timeout: float = 60) -> dict:
    """Loads the model and transcribes `seconds` of speech in a child process: {"error": class, "message": ...}
    or {"tokens": n, "frames": m, "text": ...}. Fails the test on a signal, a traceback or a time-out."""
    code = textwrap.dedent(f"""
        import json, numpy as np, nemo_fast
        from recognizer_cases import audio_cases
        speech = audio_cases()["speech"]
        audio = np.tile(speech, int(np.ceil({seconds} * 16000 / len(speech))))[:int({seconds} * 16000)]
        try:
            r = nemo_fast.Recognizer({str(model_dir)!r}, decoder={decoder!r})
            result = r.transcribe(audio, sample_rate=16000)
            print(json.dumps({{"tokens": len(result.token_ids), "frames": result.num_frames, "text": result.text}}))
        except nemo_fast.errors.NemoFastError as e:
            print(json.dumps({{"error": type(e).__name__, "message": str(e)}}))
    """)
    env = child_env()
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=TESTS,
                             env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no result within {timeout} s (hang)")
    if run.returncode != 0:
        pytest.fail(f"child process ended with status {run.returncode}:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def refused(model_dir: Path, words: str, error: str = "ModelError", **kwargs) -> None:
    result = outcome(model_dir, **kwargs)
    assert result.get("error") == error, result
    assert words in result["message"], result["message"]


def never_blank(model_dir: Path) -> Path:
    """The transducer's joint biased so that it never emits blank: a decoder without a bound loops forever."""
    onnx = require_module("onnx")
    from onnx import numpy_helper

    path = model_dir / "joiner.onnx"
    joiner = onnx.load(str(path))
    blank = nemo_fast.Recognizer(model_dir).spec.blank_id
    (bias,) = [t for t in joiner.graph.initializer if t.name == "joint.joint_net.1.bias"]
    values = numpy_helper.to_array(bias).copy()
    values[blank] = -1e4
    bias.CopyFrom(numpy_helper.from_array(values, bias.name))
    onnx.save(joiner, str(path))
    return model_dir


# --- 1. Transducer metadata -------------------------------------------------------------------------------------

@pytest.mark.parametrize("durations, words", [
    ("-1,-1,-1,-1,-1", "durations must lie in 0..1024"),
    ("0,1,2,3,-4", "durations must lie in 0..1024"),
    ("0,0,0,0,0", "must include a positive duration"),
    ("0,1,2,3,100000", "durations must lie in 0..1024"),
])
def test_tdt_durations_that_cannot_advance_are_refused(tmp_path, durations, words):
    model = set_metadata(copy_model(TDT_MODEL, tmp_path), transducer__durations=durations)
    refused(model, words)


@pytest.mark.parametrize("max_symbols", ["-1", "2147483647"])
def test_unbounded_symbols_per_frame_stop_at_the_documented_limit(tmp_path, max_symbols):
    model = never_blank(set_metadata(copy_model(RNNT_MODEL, tmp_path), transducer__max_symbols_per_step=max_symbols))
    result = outcome(model, seconds=1.0)
    # NeMo would loop forever on this joint; the decoder emits kMaxSymbolsPerFrame tokens per frame.
    assert result["tokens"] == 100 * result["frames"] > 0, result


@pytest.mark.parametrize("value", ["0", "-2", "4294967297"])
def test_bad_max_symbols_are_refused(tmp_path, value):
    refused(set_metadata(copy_model(RNNT_MODEL, tmp_path), transducer__max_symbols_per_step=value),
            "max_symbols_per_step")


def test_a_long_decode_stops_on_ctrl_c():
    """SIGINT during a long transcription raises KeyboardInterrupt within a chunk, not after the whole file."""
    code = textwrap.dedent(f"""
        import sys, time, numpy as np, nemo_fast
        from recognizer_cases import audio_cases
        r = nemo_fast.Recognizer({str(ROOT / "models" / "default")!r})
        audio = np.tile(audio_cases()["speech"], 600)  # about 20 minutes
        print("start", flush=True)
        start = time.monotonic()
        try:
            r.transcribe(audio, sample_rate=16000)
            print("finished", time.monotonic() - start, flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic() - start, flush=True)
    """)
    env = child_env()
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=TESTS, env=env)
    try:
        assert child.stdout.readline().strip() == "start"
        time.sleep(1.0)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
        reaction = time.monotonic() - sent
    finally:
        child.kill()
    assert out.startswith("interrupted"), out + err
    assert reaction < 3.0, f"KeyboardInterrupt came {reaction:.1f} s after the signal"


# --- 2. Graph outputs are checked --------------------------------------------------------------------------------

def test_encoded_lengths_beyond_the_output_are_refused(tmp_path):
    """A graph whose encoded_lengths claim more frames than it returns gets a ModelError, not an over-read."""
    onnx = require_module("onnx")
    from onnx import helper, numpy_helper

    model_dir = copy_model(CTC_MODEL, tmp_path)
    path = model_dir / "model.onnx"
    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    (producer,) = [n for n in graph.node if "encoded_lengths" in n.output]
    producer.output[list(producer.output).index("encoded_lengths")] = "encoded_lengths_true"
    graph.initializer.append(numpy_helper.from_array(np.array([1000], np.int64), "encoded_lengths_excess"))
    graph.node.append(helper.make_node("Add", ["encoded_lengths_true", "encoded_lengths_excess"], ["encoded_lengths"]))
    onnx.save(graph_model, str(path))
    refused(model_dir, "encoded_lengths output")


# --- 3. Streaming geometry ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, words", [
    ("streaming.shift_size", "-5,56", "first chunk shift"),
    ("streaming.shift_size", "0,56", "first chunk shift"),
    ("streaming.shift_size", "100000,56", "first chunk shift"),
    ("streaming.shift_size", "49,57", "later chunk shift"),
    ("streaming.chunk_size", "-53,56", "first chunk size must be positive"),
    ("streaming.pre_encode_cache_size", "0,-50", "pre_encode_cache_size"),
    ("streaming.pre_encode_cache_size", "0,100000", "pre_encode_cache_size"),
    ("streaming.pre_encode_cache_size", "-50,9", "pre_encode_cache_size"),
    ("streaming.sampling_frames", "0,8", "sampling_frames"),
    ("streaming.drop_extra_pre_encoded", "-1", "drop_extra_pre_encoded"),
    ("streaming.drop_extra_pre_encoded", "-7", "drop_extra_pre_encoded"),
    ("streaming.drop_extra_pre_encoded", "3", "drop_extra_pre_encoded"),
    ("streaming.valid_out_len", "0", "valid_out_len"),
    ("streaming.valid_out_len", "1000", "valid_out_len"),
    ("streaming.last_channel_cache_size", "-7", "last_channel_cache_size"),
    ("att_context_size", "-2,6", "att_context_size"),
    ("cache.last_channel_shape", "2,70,-64", "cache shapes"),
])
def test_tampered_streaming_geometry_is_refused(tmp_path, key, value, words):
    model = set_metadata(copy_model(CTC_MODEL, tmp_path), **{key.replace(".", "__"): value})
    refused(model, words)


# --- 4. Text decoding --------------------------------------------------------------------------------------------

def _per_byte_replacement(error):
    # SentencePiece (and so NeMo) replaces every byte of an invalid sequence with U+FFFD.
    return "\ufffd" * (error.end - error.start), error.end


def test_byte_fallback_text_is_valid_utf8_and_partials_hold_back_unfinished_characters(tmp_path):
    import codecs

    codecs.register_error("nemo_fast_test_per_byte", _per_byte_replacement)
    model = copy_model(BPE_MODEL, tmp_path)
    # Pieces that form a euro sign, an e-acute and an emoji only in the right order, an invalid byte, and a
    # raw line that is not UTF-8 at all; a random model emits them in any order.
    pieces = ["<0xE2>", "<0x82>", "<0xAC>", "<0xC3>", "<0xA9>", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "<0xFF>",
              "a", "\u2581b"]
    lines = (model / "tokens.txt").read_text().splitlines()
    new_lines = [pieces[i % len(pieces)].encode() for i in range(len(lines) - 1)] + [lines[-1].encode()]
    new_lines[len(pieces)] = b"\xe2\x82"  # a damaged token file
    (model / "tokens.txt").write_bytes(b"\n".join(new_lines) + b"\n")
    token_bytes = []
    for line in new_lines:
        text = line.decode("utf-8", "surrogateescape")
        if len(text) == 6 and text.startswith("<0x"):
            token_bytes.append(bytes([int(text[3:5], 16)]))
        else:
            token_bytes.append(line.replace("\u2581".encode(), b" "))

    recognizer = nemo_fast.Recognizer(model)
    speech = audio_cases()["speech"]
    stream = recognizer.create_stream()
    partials = 0
    for start in range(0, len(speech), 1600):
        stream.accept_waveform(speech[start:start + 1600], 16000)
        result = stream.result()
        raw = b"".join(token_bytes[t] for t in result.token_ids).lstrip(b" ")
        decoder = codecs.getincrementaldecoder("utf-8")("nemo_fast_test_per_byte")
        assert result.text == decoder.decode(raw, final=False)
        partials += 1
    stream.input_finished()
    result = stream.result()
    raw = b"".join(token_bytes[t] for t in result.token_ids).lstrip(b" ")
    assert result.text == raw.decode("utf-8", "nemo_fast_test_per_byte")
    assert len(result.token_ids) > 20 and partials > 10
    assert "\ufffd" in result.text  # the random order produced invalid sequences, which were replaced
    assert isinstance(recognizer._core.tokens[len(pieces)], str)


def test_an_error_message_quoting_invalid_utf8_is_a_model_error(tmp_path):
    model = set_metadata(copy_model(CTC_MODEL, tmp_path), decoders="ZZZZZZ")
    path = model / "model.onnx"
    data = path.read_bytes()
    assert data.count(b"ZZZZZZ") == 1
    path.write_bytes(data.replace(b"ZZZZZZ", b"ZZ\xff\xfeZZ"))
    with pytest.raises(errors.ModelError, match=r"decoder 'ZZ\\xff\\xfeZZ' is not supported"):
        nemo_fast.Recognizer(model)


# --- 6. Arguments and metadata values ----------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, words", [
    ("vocab_size", "4294967553", "out of range"),
    ("features.n_fft", "inf", "not a finite number"),
    ("features.n_fft", "1048576", "n_fft must be a power of two in 4..65536"),
    ("features.sample_rate", "4", "sample_rate must lie in"),
    ("features.high_freq_hz", "-7", "highfreq must be >= 0"),
    ("nemo_fast.schema_version", "2.0", "schema version 2.0"),
    ("subsampling_factor", "0", "subsampling_factor must be positive"),
    ("subsampling_factor", "-4", "subsampling_factor must be positive"),
    ("vocabulary_type", "wordpiece", "vocabulary_type must be 'bpe' or 'char'"),
    ("blank_id", "99999999999", "out of range"),
])
def test_out_of_range_metadata_values_are_refused(tmp_path, key, value, words):
    model = set_metadata(copy_model(CTC_MODEL, tmp_path), **{key.replace(".", "__"): value})
    refused(model, words)


def test_thread_counts_are_bounded():
    with pytest.raises(errors.ConfigError, match="thread counts must lie in"):
        nemo_fast.Recognizer(CTC_MODEL, num_threads=1000)
    with pytest.raises(errors.ConfigError, match="thread counts must lie in"):
        nemo_fast.Recognizer(CTC_MODEL, num_threads=-1)


@pytest.mark.parametrize("samples, rate, error, words", [
    ([0.0] * 100, 16000, errors.AudioError, "numpy array.*got list"),
    (None, 16000, errors.AudioError, "numpy array.*got NoneType"),
    (np.array(0.5, np.float32), 16000, errors.AudioError, r"1-D mono array.*shape \(\)"),
    (np.zeros(100, np.float32), 16000.0, errors.ConfigError, "integer number of Hz, got 16000.0"),
    (np.zeros(100, np.float32), True, errors.ConfigError, "integer number of Hz, got True"),
    (np.zeros(100, np.float32), 2**31, errors.ConfigError, "2147483648 Hz is out of range"),
    (np.zeros(20000, np.float32), 4, errors.ConfigError, "4 Hz is out of range"),
])
def test_bad_arguments_to_a_stream_are_typed_errors(samples, rate, error, words):
    recognizer = nemo_fast.Recognizer(CTC_MODEL)
    stream = recognizer.create_stream()
    with pytest.raises(error, match=words):
        stream.accept_waveform(samples, rate)
    stream.accept_waveform(np.zeros(1600, np.float32), np.int32(16000))  # numpy integers are rates too


@pytest.mark.parametrize("rate, words", [
    (0, "sample rate 0 Hz is out of range"),
    (-16000, "sample rate -16000 Hz is out of range"),  # once fed nothing and returned an empty transcript
    (16000.0, "integer number of Hz, got 16000.0"),
    (True, "integer number of Hz, got True"),
])
def test_transcribe_checks_the_rate_of_an_array_before_cutting_it(rate, words):
    recognizer = nemo_fast.Recognizer(CTC_MODEL)
    with pytest.raises(errors.ConfigError, match=words):
        recognizer.transcribe(audio_cases()["speech"], sample_rate=rate)
    with pytest.raises(errors.ConfigError, match=words):  # empty audio too: the rate is wrong all the same
        recognizer.transcribe(np.zeros(0, np.float32), sample_rate=rate)


@pytest.mark.parametrize("audio, words", [
    (np.array(0.5, np.float32), r"1-D mono array.*shape \(\)"),
    (np.zeros((48000, 2), np.float32), r"1-D mono array.*shape \(48000, 2\)"),
])
def test_transcribe_names_the_shape_of_an_array_that_is_not_mono(audio, words):
    with pytest.raises(errors.AudioError, match=words):
        nemo_fast.Recognizer(CTC_MODEL).transcribe(audio, sample_rate=16000)


# --- 7. CLI and exporter messages --------------------------------------------------------------------------------

def cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "nemo_fast.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)


def write_wav(path: Path, data: bytes, channels=1, rate=16000, width=2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)
    return path


def speech_bytes() -> bytes:
    return (audio_cases()["speech"] * 32767).astype("<i2").tobytes()


def test_wav_cut_inside_a_sample_is_read(tmp_path):
    """A file cut short inside a sample (its header claims more data, an odd byte count arrives) is read up to
    the last whole sample, as libsndfile does."""
    data = speech_bytes()
    whole = write_wav(tmp_path / "whole.wav", data)
    cut = write_wav(tmp_path / "cut.wav", data + b"\x01\x02")
    cut.write_bytes(cut.read_bytes()[:-1])
    a = cli("transcribe", whole, "--model", CTC_MODEL, cwd=tmp_path)
    b = cli("transcribe", cut, "--model", CTC_MODEL, cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, b.stderr
    assert a.stdout == b.stdout


def test_stereo_wav_cut_inside_a_frame_is_read(tmp_path):
    mono = write_wav(tmp_path / "mono.wav", speech_bytes())
    both = np.repeat(np.frombuffer(speech_bytes(), "<i2")[:, None], 2, axis=1)
    path = write_wav(tmp_path / "stereo.wav", both.tobytes() + b"\x01\x02", channels=2)
    path.write_bytes(path.read_bytes())  # the header claims a sample of a frame that never comes
    a = cli("transcribe", mono, "--model", CTC_MODEL, cwd=tmp_path)
    b = cli("transcribe", path, "--model", CTC_MODEL, cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    assert a.stdout == b.stdout


def test_wav_header_rate_beyond_32_bits_signed_gets_a_message(tmp_path):
    path = write_wav(tmp_path / "rate.wav", speech_bytes())
    data = bytearray(path.read_bytes())
    data[24:28] = (2**32 - 1).to_bytes(4, "little")  # the fmt chunk's sample rate
    path.write_bytes(bytes(data))
    out = cli("transcribe", path, "--model", CTC_MODEL, cwd=tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "4294967295 Hz is out of range" in out.stderr


def test_a_directory_argument_gets_a_message(tmp_path):
    out = cli("transcribe", tmp_path, "--model", CTC_MODEL, cwd=tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "is a directory" in out.stderr


def test_unreadable_file_is_not_reported_as_missing(tmp_path, monkeypatch):
    from nemo_fast import audio

    path = write_wav(tmp_path / "locked.wav", speech_bytes())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(audio.Path, "read_bytes", denied)
    with pytest.raises(errors.AudioError, match="Permission denied"):
        audio.read_audio(path)


def test_later_files_are_transcribed_after_a_bad_one(tmp_path):
    good = write_wav(tmp_path / "good.wav", speech_bytes())
    out = cli("transcribe", tmp_path / "missing.wav", good, "--model", CTC_MODEL, cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "missing.wav" in out.stderr and "not found" in out.stderr
    assert out.stdout.startswith(f"{good}: ")


def test_export_without_nemo_names_what_to_install(tmp_path):
    blocker = tmp_path / "no_nemo"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['nemo'] = None\n")  # import nemo fails
    fake = tmp_path / "model.nemo"
    import tarfile

    with tarfile.open(fake, "w") as tar:
        tar.add(blocker / "sitecustomize.py", arcname="model_config.yaml")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [str(blocker), os.environ.get("PYTHONPATH")] if p))
    out = cli("export", fake, tmp_path / "out", cwd=tmp_path, env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "pip install 'nemo-toolkit[asr]'" in out.stderr


@pytest.mark.parametrize("content", [b"", b"not a tar archive at all" * 100])
def test_export_of_a_file_that_is_no_checkpoint_gets_a_message(tmp_path, content):
    path = tmp_path / "model.nemo"
    path.write_bytes(content)
    out = cli("export", path, tmp_path / "out", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "is not a .nemo checkpoint" in out.stderr


@pytest.mark.parametrize("audio", [[0.0] * 100, None, 3.5])
def test_transcribe_refuses_what_is_not_audio_in_one_line(audio):
    recognizer = nemo_fast.Recognizer(CTC_MODEL)
    with pytest.raises(errors.AudioError, match="takes a numpy array of samples, an audio file path or a binary") as info:
        recognizer.transcribe(audio, sample_rate=16000)
    assert len(str(info.value)) < 140


# --- Every metadata key, tampered --------------------------------------------------------------------------------

TAMPERED_VALUES = ["-7", "0", "1", "99999999999", "abc", "", "1e400"]
# Tampered values that are valid NeMo preprocessor settings: the features change, as they would in NeMo.
VALID_ALTERNATIVES = {
    ("features.exact_pad", "1"), ("features.hop_length_samples", "1"), ("features.log", "0"),
    ("features.log", "1"), ("features.log_guard_value", "1"), ("features.log_guard_value", "99999999999"),
    ("features.mag_power", "1"), ("features.mag_power", "99999999999"), ("features.pad_value", "-7"),
    ("features.pad_value", "0"), ("features.pad_value", "1"), ("features.pad_value", "99999999999"),
    ("features.preemph", "0"), ("features.low_freq_hz", "1"), ("features.high_freq_hz", "1"),
    ("transducer.max_symbols_per_step", "1"),
}


@pytest.mark.parametrize("model", [CTC_MODEL, RNNT_MODEL], ids=lambda p: p.name)
def test_every_metadata_key_tampered_ends_in_an_error_or_the_same_text(model, tmp_path):
    """Each metadata key the model has, set to negative, zero, one, 64-bit, non-numeric, empty and overflowing
    values: the model is refused with a typed error, or transcribes exactly as before (keys that do not
    change decoding), or the value is a valid alternative setting. Never a crash or silently other tokens."""
    code = textwrap.dedent(f"""
        import json, shutil, sys
        from pathlib import Path
        import onnx, nemo_fast
        from recognizer_cases import audio_cases
        source, work = Path({str(model)!r}), Path({str(tmp_path)!r})
        speech = audio_cases()["speech"]
        def tokens(model_dir):
            try:
                return nemo_fast.Recognizer(model_dir).transcribe(speech, sample_rate=16000).token_ids
            except nemo_fast.errors.NemoFastError as e:
                return type(e).__name__
        reference = tokens(source)
        graph = onnx.load(str(source / "model.onnx"))
        metadata = {{p.key: p.value for p in graph.metadata_props}}
        for key in sorted(metadata):
            if key in ("features.window_taps", "features.mel_weights"):
                continue
            for value in {TAMPERED_VALUES!r}:
                target = work / "model"
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)
                del graph.metadata_props[:]
                for k, v in {{**metadata, key: value}}.items():
                    entry = graph.metadata_props.add()
                    entry.key, entry.value = k, v
                onnx.save(graph, str(target / "model.onnx"))
                print("case", key, value, flush=True)  # names the case if the next line never comes
                got = tokens(target)
                outcome = got if isinstance(got, str) else ("same" if got == reference else "other tokens")
                print(json.dumps([key, value, outcome]), flush=True)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=TESTS,
                         env=child_env())
    assert run.returncode == 0, run.stdout[-500:] + run.stderr[-3000:]
    outcomes = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("[")]
    assert len(outcomes) > 30 * len(TAMPERED_VALUES)
    typed = {"ModelError", "ConfigError", "ModelFileNotFoundError", "OnnxRuntimeError"}
    silent = [(k, v, o) for k, v, o in outcomes if o not in typed and o != "same" and (k, v) not in VALID_ALTERNATIVES]
    assert not silent, silent


@pytest.mark.parametrize("key, value", [("n_layers", "3"), ("d_model", "64"), ("n_layers", "0"),
                                        ("cache.last_channel_shape", "2,70,65")])
def test_encoder_sizes_must_agree_with_the_cache_shapes(tmp_path, key, value):
    model = set_metadata(copy_model(CTC_MODEL, tmp_path), **{key.replace(".", "__"): value})
    refused(model, "n_layers" if key != "cache.last_channel_shape" else "cache shapes")


# --- Inputs a new user passes ------------------------------------------------------------------------------------

def test_transcribe_takes_paths_and_binary_file_objects(tmp_path):
    import io

    recognizer = nemo_fast.Recognizer(CTC_MODEL)
    path = write_wav(tmp_path / "speech.wav", speech_bytes())
    expected = recognizer.transcribe(str(path)).token_ids
    assert recognizer.transcribe(path).token_ids == expected
    assert recognizer.transcribe(io.BytesIO(path.read_bytes())).token_ids == expected
    with open(path, "rb") as f:
        assert recognizer.transcribe(f).token_ids == expected
    with open(path) as f, pytest.raises(errors.AudioError, match="binary mode"):
        recognizer.transcribe(f)
    soundfile = require_module("soundfile")
    flac = io.BytesIO()
    soundfile.write(flac, audio_cases()["speech"], 16000, format="FLAC")
    flac.seek(0)
    assert recognizer.transcribe(flac).token_ids == recognizer.transcribe(path).token_ids


def test_24_bit_wav_is_read_as_pcm(tmp_path):
    samples = audio_cases()["speech"]
    as_24 = np.round(samples * (2**23 - 1)).astype("<i4")
    data = np.stack([as_24 & 0xFF, (as_24 >> 8) & 0xFF, (as_24 >> 16) & 0xFF], axis=1).astype(np.uint8).tobytes()
    path = write_wav(tmp_path / "24bit.wav", data, width=3)
    from nemo_fast.audio import read_audio

    audio, rate = read_audio(path)
    assert rate == 16000 and audio.dtype == np.float32
    np.testing.assert_allclose(audio, samples, atol=2**-22)


def test_the_vocabulary_is_public():
    recognizer = nemo_fast.Recognizer(RNNT_MODEL)
    tokens = recognizer.tokens
    assert len(tokens) == recognizer.spec.vocab_size
    assert tokens == (RNNT_MODEL / "tokens.txt").read_text(encoding="utf-8").splitlines()


# --- Multi-channel and other formats -----------------------------------------------------------------------------

def test_stereo_is_averaged_as_nemo_unless_a_channel_is_picked(tmp_path):
    from nemo_fast.audio import read_audio

    speech = np.frombuffer(speech_bytes(), "<i2")
    quiet = (speech // 4).astype("<i2")
    path = write_wav(tmp_path / "stereo.wav", np.stack([speech, quiet], axis=1).tobytes(), channels=2)
    mixed, rate = read_audio(path)
    np.testing.assert_allclose(mixed, (speech.astype(np.float64) + quiet) / 2 / 32768, atol=1e-7)
    left, _ = read_audio(path, channel=0)
    np.testing.assert_array_equal(left, speech)
    recognizer = nemo_fast.Recognizer(CTC_MODEL)
    assert recognizer.transcribe(path, channel=0).token_ids == recognizer.transcribe(
        write_wav(tmp_path / "mono.wav", speech.tobytes())).token_ids
    out = cli("transcribe", path, "--channel", "1", "--model", CTC_MODEL, cwd=tmp_path)
    assert out.returncode == 0, out.stderr


def test_formats_libsndfile_cannot_read_go_through_ffmpeg(tmp_path):
    require(shutil.which("ffmpeg") is not None, "ffmpeg")
    wav = write_wav(tmp_path / "speech.wav", speech_bytes())
    m4a = tmp_path / "speech.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-c:a", "aac", "-b:a", "128k", str(m4a)],
                   check=True)
    from nemo_fast.audio import read_audio

    audio, rate = read_audio(m4a)
    reference, _ = read_audio(wav)
    assert rate == 16000 and abs(len(audio) - len(reference)) < 2048
    recognizer = nemo_fast.Recognizer(ROOT / "models" / "default")
    assert recognizer.transcribe(m4a).text == recognizer.transcribe(wav).text


def test_without_a_decoder_for_the_format_the_message_names_what_to_install(tmp_path, monkeypatch):
    from nemo_fast import audio

    path = tmp_path / "speech.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    with pytest.raises(errors.AudioError, match="ffmpeg on PATH"):
        audio.read_audio(path)


def test_an_empty_or_damaged_file_is_named_in_the_error(tmp_path):
    from nemo_fast.audio import read_audio

    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(errors.AudioError, match="empty.wav: the file is empty"):
        read_audio(empty)
    require(shutil.which("ffmpeg") is not None, "ffmpeg")
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(errors.AudioError) as failure:
        read_audio(damaged)
    message = str(failure.value)
    assert message.startswith(f"{damaged}: cannot read audio") and "tmp" not in message.replace(str(tmp_path), "")


def test_float_audio_far_outside_the_unit_range_gets_a_warning():
    recognizer = nemo_fast.Recognizer(CTC_MODEL)
    speech = audio_cases()["speech"]
    with pytest.warns(RuntimeWarning, match="far outside \\[-1, 1\\].*int16 values"):
        recognizer.transcribe(speech * 32767, sample_rate=16000)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recognizer.transcribe(speech, sample_rate=16000)  # in range: no warning
        recognizer.transcribe((speech * 32767).astype(np.int16), sample_rate=16000)
