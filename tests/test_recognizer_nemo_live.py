"""Live NeMo parity of the recognizer and the exporter (marker `nemo`; CI requires it)."""

from __future__ import annotations

import numpy as np
import pytest
from recognizer_cases import MODEL_SPECS, MODELS_DIR, audio_cases, exports

import nemo_fast

pytestmark = pytest.mark.nemo


def longer_audio() -> np.ndarray:
    """Eight seconds not in the goldens: the clip at two gains with noise."""
    x = audio_cases()["speech"]
    rng = np.random.default_rng(3)
    y = np.concatenate([0.7 * x, 1.3 * x[: len(x) // 2]])
    return (y + rng.normal(0, 1e-3, len(y))).astype(np.float32)


@pytest.fixture(scope="module")
def nemo_models(tmp_path_factory):
    from nemo_model_factory import build_model

    tmp = tmp_path_factory.mktemp("models")
    return {spec.name: build_model(spec, tmp) for spec in MODEL_SPECS}


@pytest.mark.parametrize("spec,lookahead,name", exports(), ids=[name for _, _, name in exports()])
def test_committed_exports_match_live_nemo(nemo_models, spec, lookahead, name):
    from nemo_fast.export.reference import nemo_offline_log_probs, nemo_streaming_log_probs

    model = nemo_models[spec.name]
    if lookahead is not None:
        model.encoder.set_default_att_context_size(list(lookahead))
        model.encoder.setup_streaming_params()
    audio = longer_audio()
    for mode in ["default", "pad_and_drop_preencoded"] if spec.streaming else ["default"]:
        if spec.streaming:
            ref, tokens = nemo_streaming_log_probs(model, audio, mode == "pad_and_drop_preencoded")
        else:
            ref, tokens = nemo_offline_log_probs(model, audio)
        recognizer = nemo_fast.Recognizer(MODELS_DIR / name, keep_log_probs=True, streaming_mode=mode)
        stream = recognizer.create_stream()
        for i in range(0, len(audio), 2731):
            stream.accept_waveform(audio[i : i + 2731], 16000)
        stream.input_finished()
        ours = stream.result()
        assert ours.log_probs.shape == ref.shape
        assert np.abs(ours.log_probs - ref).max() <= 1e-4
        assert ours.token_ids == tokens


def test_export_cli_from_a_nemo_file_with_lookahead(nemo_models, tmp_path):
    from nemo_fast.cli import main

    model = nemo_models["char_d32_80mel"]
    nemo_file = tmp_path / "model.nemo"
    model.save_to(str(nemo_file))
    out = tmp_path / "exported"
    assert main(["export", str(nemo_file), str(out), "--att-context-size", "70,6"]) == 0  # includes parity check
    recognizer = nemo_fast.Recognizer(out)
    assert recognizer.spec["att_context_size"] == (70, 6)
    assert recognizer.spec["streaming"]["chunk_size"] == (49, 56)
    assert main(["export", str(nemo_file), str(tmp_path / "bad"), "--att-context-size", "70,5"]) == 2


def test_parity_check_catches_a_mismatch(nemo_models, tmp_path):
    import torch

    from nemo_fast.export import ExportParityError, export_model
    from nemo_fast.export.exporter import check_parity

    from nemo_model_factory import build_model

    spec = MODEL_SPECS[1]
    model = build_model(spec, tmp_path)
    out = export_model(None, tmp_path / "exported", model=model)
    with torch.no_grad():
        model.encoder.layers[0].feed_forward1.linear1.weight.mul_(1.5)
    with pytest.raises(ExportParityError, match="parity check failed"):
        check_parity(model, out, streaming=True)


def test_streaming_export_of_a_non_streaming_model_is_refused(nemo_models, tmp_path):
    from nemo_fast.errors import ModelError
    from nemo_fast.export import export_model

    with pytest.raises(ModelError, match="not cache-aware"):
        export_model(None, tmp_path, model=nemo_models["offline_char_d32_80mel"], mode="streaming")
