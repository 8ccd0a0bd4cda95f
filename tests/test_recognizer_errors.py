"""Bad models and bad input give clear typed errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import require_module
from recognizer_cases import MODELS_DIR, audio_cases

import nemo_fast
from nemo_fast import errors

MODEL = MODELS_DIR / "char_d32_80mel_70_13"


@pytest.fixture(scope="module")
def recognizer():
    return nemo_fast.Recognizer(MODEL)


def copy_model(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(MODEL, target)
    return target


def test_missing_model_directory(tmp_path):
    with pytest.raises(errors.ModelFileNotFoundError, match="model file not found"):
        nemo_fast.Recognizer(tmp_path / "nowhere")


def test_missing_tokens_file(tmp_path):
    model = copy_model(tmp_path)
    (model / "tokens.txt").unlink()
    with pytest.raises(errors.ModelFileNotFoundError, match="tokens file not found"):
        nemo_fast.Recognizer(model)


def test_tokens_of_another_model(tmp_path):
    model = copy_model(tmp_path)
    shutil.copy(MODELS_DIR / "bpe_d48_128mel_70_6" / "tokens.txt", model / "tokens.txt")
    with pytest.raises(errors.ModelError, match="do not belong together"):
        nemo_fast.Recognizer(model)


def _rewrite_metadata(path, change):
    import onnx

    m = onnx.load(str(path))
    props = {p.key: p.value for p in m.metadata_props}
    change(props)
    del m.metadata_props[:]
    for k, v in props.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, str(path))


def test_onnx_without_nemo_fast_metadata(tmp_path):
    require_module("onnx")
    model = copy_model(tmp_path)
    _rewrite_metadata(model / "model.onnx", lambda p: p.clear())
    with pytest.raises(errors.ModelError, match="nemo-fast export"):
        nemo_fast.Recognizer(model)


def test_missing_metadata_keys_are_all_named(tmp_path):
    require_module("onnx")
    model = copy_model(tmp_path)

    def drop(props):
        del props["streaming.valid_out_len"]
        del props["blank_id"]

    _rewrite_metadata(model / "model.onnx", drop)
    with pytest.raises(errors.ModelError) as info:
        nemo_fast.Recognizer(model)
    assert "streaming.valid_out_len" in str(info.value) and "blank_id" in str(info.value)


def test_newer_schema_version_is_refused(tmp_path):
    require_module("onnx")
    model = copy_model(tmp_path)
    _rewrite_metadata(model / "model.onnx", lambda p: p.update({"nemo_fast.schema_version": "99"}))
    with pytest.raises(errors.ModelError, match="schema version 99"):
        nemo_fast.Recognizer(model)


def test_unsupported_decoder(tmp_path):
    require_module("onnx")
    model = copy_model(tmp_path)
    _rewrite_metadata(model / "model.onnx", lambda p: p.update({"decoders": "ctc,beam"}))
    with pytest.raises(errors.ModelError, match="decoder 'beam' is not supported"):
        nemo_fast.Recognizer(model)


def test_asking_for_a_head_the_model_lacks():
    with pytest.raises(errors.ConfigError, match="decoder 'rnnt' is not available.*it has: ctc"):
        nemo_fast.Recognizer(MODEL, decoder="rnnt")


def test_log_probs_are_a_ctc_feature():
    with pytest.raises(errors.ConfigError, match="keep_log_probs applies to the CTC head"):
        nemo_fast.Recognizer(MODELS_DIR / "rnnt_bpe_d48_80mel_70_6", keep_log_probs=True)


def test_missing_transducer_graph(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(MODELS_DIR / "rnnt_bpe_d48_80mel_70_6", target)
    (target / "joiner.onnx").unlink()
    with pytest.raises(errors.ModelFileNotFoundError, match="joiner.onnx"):
        nemo_fast.Recognizer(target)


# Not the prediction network: ONNX Runtime 1.32's CPU provider crashes creating a session for a float16 LSTM.
@pytest.mark.parametrize("graph", ["model.onnx", "joiner.onnx"])
def test_a_graph_with_float16_inputs_is_refused_on_loading(tmp_path, graph):
    """A float16 conversion that also converts the graph's inputs and outputs (the converter's default) is named
    at load time, with the fix; one that keeps them float32 loads and decodes."""
    require_module("onnx")
    require_module("onnxruntime")
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    source = MODELS_DIR / "rnnt_bpe_d48_80mel_70_6"
    for keep_io_types in (False, True):
        target = tmp_path / f"keep_{keep_io_types}"
        shutil.copytree(source, target)
        half = convert_float_to_float16(onnx.load(str(source / graph)), keep_io_types=keep_io_types)
        onnx.save(half, str(target / graph))
        if keep_io_types:
            text = nemo_fast.Recognizer(target).transcribe(audio_cases()["speech"], sample_rate=16000).text
            assert text
        else:
            name = "audio_signal" if graph == "model.onnx" else "encoder_output"
            with pytest.raises(errors.ModelError, match=f"input '{name}' is a float16 tensor.*keep_io_types=True"):
                nemo_fast.Recognizer(target)


def test_not_an_onnx_file(tmp_path):
    model = copy_model(tmp_path)
    (model / "model.onnx").write_bytes(b"garbage")
    with pytest.raises(errors.ModelError, match="cannot load"):
        nemo_fast.Recognizer(model)


@pytest.mark.parametrize(
    "samples, rate, error, words",
    [
        (np.zeros(16000, np.float32), 0, errors.ConfigError, "sample rate 0 Hz is out of range"),
        (np.zeros(16000, np.float32), 16001, errors.ConfigError, "16001 Hz to 16000 Hz.*too small a factor"),
        (np.array([0.1, np.nan], np.float32), 8000, errors.NonFiniteAudioError, "index 1"),
        (np.zeros((16000, 2), np.float32), 16000, errors.AudioError, "mono"),
        (np.array([0.1, np.nan], np.float32), 16000, errors.NonFiniteAudioError, "index 1"),
        (np.zeros(100, np.uint8), 16000, errors.AudioError, "uint8"),
    ],
)
def test_bad_audio(recognizer, samples, rate, error, words):
    stream = recognizer.create_stream()
    with pytest.raises(error, match=words):
        stream.accept_waveform(samples, rate)
    # The stream is unchanged and still usable.
    speech = audio_cases()["short_3000"]
    stream.accept_waveform(speech, 16000)
    stream.input_finished()
    assert stream.result().token_ids == recognizer.transcribe(speech, sample_rate=16000).token_ids


def test_sample_rate_cannot_change_within_a_stream(recognizer):
    stream = recognizer.create_stream()
    stream.accept_waveform(np.zeros(800, np.float32), 8000)
    with pytest.raises(errors.SampleRateMismatchError, match="16000 Hz but this stream's audio so far is at 8000 Hz"):
        stream.accept_waveform(np.zeros(1600, np.float32), 16000)
    stream.reset()
    stream.accept_waveform(np.zeros(1600, np.float32), 16000)


def test_audio_after_input_finished(recognizer):
    stream = recognizer.create_stream()
    stream.input_finished()
    with pytest.raises(errors.StreamStateError, match="reset"):
        stream.accept_waveform(np.zeros(10, np.float32), 16000)


def test_transcribe_needs_a_sample_rate_for_arrays(recognizer):
    with pytest.raises(errors.ConfigError, match="sample_rate"):
        recognizer.transcribe(np.zeros(100, np.float32))


def test_a_channel_that_does_not_exist_is_refused(recognizer, tmp_path):
    import wave

    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(3200, np.int16).tobytes())
    with pytest.raises(errors.AudioError, match="has 2 channel.*channel 2 does not exist"):
        recognizer.transcribe(path, channel=2)


def test_bad_streaming_mode():
    with pytest.raises(errors.ConfigError, match="streaming_mode"):
        nemo_fast.Recognizer(MODEL, streaming_mode="fast")
