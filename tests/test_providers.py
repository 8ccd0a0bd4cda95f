"""Execution providers: choosing them, the error for one the loaded ONNX Runtime lacks, the CPU fall-back.
Tests marked `gpu` run only where ONNX Runtime offers CUDA (the onnxruntime-gpu wheel and a GPU); the others
run everywhere, and on the CPU wheel they check the missing-provider paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nemo_fast
from nemo_fast.errors import ConfigError
from nemo_fast.models import default_model_dir

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "speech_example.wav"
AVAILABLE = nemo_fast.runtime_info()["providers"]
CPU_WHEEL = "CUDAExecutionProvider" not in AVAILABLE


def test_runtime_info_lists_the_providers_and_the_default_is_the_cpu():
    assert "CPUExecutionProvider" in AVAILABLE
    assert nemo_fast.Recognizer(default_model_dir()).providers == ["CPUExecutionProvider"]
    assert nemo_fast.Recognizer(default_model_dir(), providers=["cpu"]).providers == ["CPUExecutionProvider"]
    assert nemo_fast.Recognizer(default_model_dir()).cache_memory == "host"


@pytest.mark.skipif(not CPU_WHEEL, reason="checks the ONNX Runtime build without CUDA")
@pytest.mark.parametrize("providers", [["cuda"], ["tensorrt"], ["tensorrt", "cuda"]])
def test_a_missing_provider_names_the_library_and_the_wheel_to_install(providers):
    with pytest.raises(ConfigError) as error:
        nemo_fast.Recognizer(default_model_dir(), providers=providers)
    message = str(error.value)
    assert nemo_fast.runtime_info()["library_path"] in message
    assert "onnxruntime-gpu" in message and "'cpu' after it" in message


@pytest.mark.skipif(not CPU_WHEEL, reason="checks the ONNX Runtime build without CUDA")
def test_cpu_after_a_missing_provider_falls_back_to_the_same_transcript():
    audio = str(EXAMPLE)
    expected = nemo_fast.Recognizer(default_model_dir()).transcribe(audio).text
    recognizer = nemo_fast.Recognizer(default_model_dir(), providers=["tensorrt", "cuda", "cpu"])
    assert recognizer.providers == ["CPUExecutionProvider"]
    assert recognizer.transcribe(audio).text == expected


def test_bad_provider_settings_are_refused():
    with pytest.raises(ConfigError, match="unknown execution provider 'gpu'"):
        nemo_fast.Recognizer(default_model_dir(), providers=["gpu"])
    with pytest.raises(ConfigError, match="provider_options for 'cuda'"):
        nemo_fast.Recognizer(default_model_dir(), providers=["cpu"], provider_options={"cuda": {"device_id": "0"}})


def test_provider_flag_of_the_command_line():
    cli = [sys.executable, "-m", "nemo_fast.cli", "transcribe", str(EXAMPLE), "--provider"]
    bad = subprocess.run([*cli, "cpu,gpu"], capture_output=True, text=True)
    assert bad.returncode == 2 and "providers are cpu, cuda and tensorrt" in bad.stderr
    ok = subprocess.run([*cli, "cuda,cpu"], capture_output=True, text=True)
    assert ok.returncode == 0 and "landscape" in ok.stdout
    if CPU_WHEEL:
        missing = subprocess.run([*cli, "cuda"], capture_output=True, text=True)
        assert missing.returncode == 2 and "onnxruntime-gpu" in missing.stderr


def test_every_recognizing_command_takes_the_provider_flag(tmp_path):
    """stream and serve choose providers as transcribe does; --ray, whose actors run on the CPU, refuses one."""
    from nemo_fast.audio import read_audio

    samples, rate = read_audio(EXAMPLE)
    assert samples.dtype == np.int16 and rate == 16000
    pcm = samples.astype("<i2").tobytes()
    stream = [sys.executable, "-m", "nemo_fast.cli", "stream", "-", "--provider"]
    ok = subprocess.run([*stream, "cuda,cpu"], input=pcm, capture_output=True)
    assert ok.returncode == 0 and b"landscape" in ok.stdout, ok.stderr
    serve = [sys.executable, "-m", "nemo_fast.cli", "serve", "--port", "0", "--log-format", "text", "--provider"]
    if CPU_WHEEL:
        missing = subprocess.run([*stream, "cuda"], input=pcm, capture_output=True)
        assert missing.returncode == 2 and b"onnxruntime-gpu" in missing.stderr
        missing = subprocess.run([*serve, "cuda"], capture_output=True, text=True, timeout=120)
        assert missing.returncode == 2 and "onnxruntime-gpu" in missing.stderr
    bad = subprocess.run([*serve, "cpu,gpu"], capture_output=True, text=True)
    assert bad.returncode == 2 and "providers are cpu, cuda and tensorrt" in bad.stderr
    manifest = tmp_path / "in.json"
    manifest.write_text(json.dumps({"audio_filepath": str(EXAMPLE), "duration": 3.7}) + "\n")
    ray = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", "--manifest", manifest,
                          "--output-manifest", tmp_path / "out.json", "--ray", "--provider", "cuda"],
                         capture_output=True, text=True)  # fmt: skip
    assert ray.returncode == 2 and "--ray runs its actors on the CPU" in ray.stderr


@pytest.mark.gpu
@pytest.mark.skipif(CPU_WHEEL, reason="needs ONNX Runtime with CUDA (onnxruntime-gpu) and a GPU")
def test_cuda_gives_the_cpu_transcript():
    audio = str(EXAMPLE)
    expected = nemo_fast.Recognizer(default_model_dir()).transcribe(audio).text
    recognizer = nemo_fast.Recognizer(default_model_dir(), providers=["cuda"], provider_options={"cuda": {"device_id": "0"}})
    assert recognizer.providers[0] == "CUDAExecutionProvider"
    assert recognizer.transcribe(audio).text == expected


@pytest.mark.gpu
@pytest.mark.skipif(CPU_WHEEL, reason="needs ONNX Runtime with CUDA (onnxruntime-gpu) and a GPU")
@pytest.mark.parametrize("model,decoder", [("char_d32_80mel_70_1", "ctc"), ("hybrid_bpe_d48_80mel_70_13", "ctc"),
                                           ("hybrid_bpe_d48_80mel_70_13", "rnnt"), ("rnnt_bpe_d48_80mel_70_6", "rnnt")])
def test_cuda_streams_in_changing_batches_equal_the_cpu(model, decoder):
    """The caches stay on the GPU between chunks and are stacked and unstacked there when the batch changes
    (a stream ends, the order changes, one stream is decoded alone): every stream still gives the CPU's
    tokens, and CTC log-probs within float32 rounding of cuDNN against the CPU's kernels. The transducer heads
    run on the CPU with the recognizer's two threads there, the CPU recognizer's on one."""
    from recognizer_cases import MODELS_DIR, audio_cases

    speech = audio_cases()["speech"]
    settings = {"decoder": decoder, "keep_log_probs": decoder == "ctc", "decoding": "greedy"}
    cpu = nemo_fast.Recognizer(MODELS_DIR / model, **settings)
    gpu = nemo_fast.Recognizer(MODELS_DIR / model, **settings, providers=["cuda"], num_threads=2,
                               provider_options={"cuda": {"use_tf32": "0"}})  # fmt: skip
    assert gpu.providers[0] == "CUDAExecutionProvider" and gpu.cache_memory == "cuda:0"
    audios = [speech, speech[3000:], speech[7000:20000]]
    expected = [cpu.transcribe(a, sample_rate=16000) for a in audios]
    streams = [gpu.create_stream() for _ in audios]
    order = [0, 1, 2]
    for tick, start in enumerate(range(0, len(speech), 1600)):
        if tick == 9:
            order = [2, 0, 1]
        if tick == 11:  # one stream alone: batch of one, then back in the batch
            streams[1].accept_waveform(audios[1][start : start + 1600], 16000)
        for i in order:
            if tick != 11 or i != 1:
                streams[i].accept_waveform_only(audios[i][start : start + 1600], 16000)
        gpu.decode_streams([streams[i] for i in order])
    for stream in streams:
        stream.input_finished_only()
    gpu.decode_streams(streams)
    for stream, single in zip(streams, expected):
        result = stream.result()
        assert result.token_ids == single.token_ids
        if single.log_probs is not None:
            np.testing.assert_allclose(result.log_probs, single.log_probs, atol=2e-3)


@pytest.mark.parametrize("provider", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    CPU_WHEEL, reason="needs ONNX Runtime with CUDA (onnxruntime-gpu) and a GPU")])])  # fmt: skip
def test_recognizers_made_and_deleted_in_turn_decode_batches_alike(provider):
    """The stacked caches a batched step keeps for the next tick belong to their recognizer: deleting it frees
    them with its session (on a GPU they are that session's device memory), and the next recognizer decodes
    the same batches to the same tokens."""
    import gc

    from recognizer_cases import MODELS_DIR, audio_cases

    speech = audio_cases()["speech"]
    audios = [speech, speech[5000:]]
    results = []
    for _ in range(3):
        recognizer = nemo_fast.Recognizer(MODELS_DIR / "rnnt_bpe_d48_80mel_70_6", providers=[provider],
                                          decoding="greedy")  # fmt: skip
        streams = [recognizer.create_stream() for _ in audios]
        for start in range(0, len(speech), 1600):
            for stream, audio in zip(streams, audios):
                stream.accept_waveform_only(audio[start : start + 1600], 16000)
            recognizer.decode_streams(streams)
        for stream in streams:
            stream.input_finished_only()
        recognizer.decode_streams(streams)
        results.append([stream.result().token_ids for stream in streams])
        del recognizer, streams
        gc.collect()
    assert results[0][0] and results[1] == results[0] and results[2] == results[0]


@pytest.mark.parametrize("provider", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    CPU_WHEEL, reason="needs ONNX Runtime with CUDA (onnxruntime-gpu) and a GPU")])])  # fmt: skip
def test_a_profiled_recognizer_writes_each_encoder_node_with_its_provider(tmp_path, provider):
    """profile= makes ONNX Runtime time every node of the encoder session: the trace names the provider each
    node ran on (what shows where a GPU session waits on the host) and sums to no more than the runs.
    end_profile() completes it while streams still hold the recognizer."""
    import json

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from ort_profile_summary import summarize

    recognizer = nemo_fast.Recognizer(default_model_dir(), providers=[provider], profile=tmp_path / "encoder")
    stream = recognizer.create_stream()
    assert "landscape" in recognizer.transcribe(str(EXAMPLE)).text
    trace = recognizer.end_profile()
    assert trace.parent == tmp_path and trace.name.startswith("encoder_") and list(tmp_path.iterdir()) == [trace]
    events = json.loads(trace.read_text())
    ran_on = {e["args"]["provider"] for e in events if e.get("cat") == "Node" and "provider" in e.get("args", {})}
    expected = "CUDAExecutionProvider" if provider == "cuda" else "CPUExecutionProvider"
    assert expected in ran_on
    summary = summarize(events)
    assert summary["runs"] > 1 and summary["nodes_per_run"] > 100
    assert 0 < summary["node_ms_per_run"] <= summary["run_ms_mean"] * 1.05
    with pytest.raises(ConfigError, match="not being profiled"):
        recognizer.end_profile()
    stream.accept_waveform(np.zeros(16000, np.float32), 16000)  # the recognizer goes on decoding
    with pytest.raises(ConfigError, match="not being profiled"):
        nemo_fast.Recognizer(default_model_dir()).end_profile()


def test_another_onnxruntime_build_in_the_process_is_refused_for_the_gpu(monkeypatch, tmp_path):
    """With another build's onnxruntime module imported first (NeMo imports one), ONNX Runtime's CUDA provider
    called into that build and crashed: a GPU recognizer is refused naming both, a CPU one is not affected."""
    import types

    from nemo_fast import _runtime

    library = nemo_fast.runtime_info()["library_path"]
    if "onnxruntime/capi" in library:  # nemo_fast loaded the wheel's library: its own module is no other build
        import onnxruntime  # noqa: F401

        assert _runtime.other_onnxruntime_module() is None
    other = types.ModuleType("onnxruntime")
    other.__file__ = str(tmp_path / "onnxruntime" / "__init__.py")
    other.__version__ = "1.30.0"
    monkeypatch.setitem(sys.modules, "onnxruntime", other)
    assert _runtime.other_onnxruntime_module() == f"{tmp_path / 'onnxruntime'} (onnxruntime 1.30.0)"
    info = dict(nemo_fast.runtime_info())
    info["providers"] = ["CUDAExecutionProvider", *info["providers"]]  # as the onnxruntime-gpu library offers
    monkeypatch.setattr(_runtime, "runtime_info", lambda: info)
    with pytest.raises(ConfigError) as error:
        nemo_fast.Recognizer(default_model_dir(), providers=["cuda", "cpu"])
    message = str(error.value)
    assert str(tmp_path / "onnxruntime") in message and library in message and "onnxruntime-gpu" in message
    assert nemo_fast.Recognizer(default_model_dir(), providers=["cpu"]).providers == ["CPUExecutionProvider"]
