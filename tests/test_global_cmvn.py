"""Global CMVN: NeMo's fixed feature normalization (`normalize: {fixed_mean, fixed_std}`) in the features, the
exporter's --cmvn-stats (Kaldi global_cmvn.stats text or JSON mean/std), and bad statistics files."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from feature_cases import FEATURE_CONFIGS, cases
from feature_checks import assert_matches_nemo

import nemo_fast
from nemo_fast.errors import ConfigError
from nemo_fast.export.cmvn import read_cmvn_stats

MEAN = np.linspace(-12.0, -2.0, 80)
STD = np.linspace(1.5, 4.0, 80)


def _kaldi_stats(path, mean, std, count=1234.0) -> None:
    """The text form of Kaldi's accumulated statistics for these mean and std over `count` frames."""
    sums = np.append(mean * count, count)
    squares = np.append((std ** 2 + mean ** 2) * count, 0.0)
    rows = [" ".join(repr(float(v)) for v in row) for row in (sums, squares)]
    path.write_text(f" [\n  {rows[0]}\n  {rows[1]} ]\n")


def test_kaldi_and_json_statistics_give_the_same_mean_and_std(tmp_path):
    _kaldi_stats(tmp_path / "global_cmvn.stats", MEAN, STD)
    (tmp_path / "cmvn.json").write_text(json.dumps({"mean": MEAN.tolist(), "std": STD.tolist()}))
    for name in ("global_cmvn.stats", "cmvn.json"):
        mean, std = read_cmvn_stats(tmp_path / name)
        assert np.allclose(mean, MEAN, rtol=1e-9) and np.allclose(std, STD, rtol=1e-9), name


@pytest.mark.parametrize("content,message", [
    (b"\0BFM ", "binary Kaldi matrix"),
    (b"[ 1 2 3 ]", "2 x (features + 1) matrix"),
    (b"[ 1 2 0\n 1 2 0 ]", "frame count"),
    (b"[ 1 x 3\n 1 2 0 ]", "not a Kaldi text matrix"),
    (b'{"mean": [1, 2], "std": [1]}', "same length"),
    (b'{"mean": [1, 2], "std": [1, 0]}', "std finite and positive"),
    (b'{"average": [1]}', "expected JSON"),
])
def test_bad_statistics_files_are_named(tmp_path, content, message):
    (tmp_path / "stats").write_bytes(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_cmvn_stats(tmp_path / "stats")


def test_fixed_statistics_must_fit_the_features():
    config = dict(FEATURE_CONFIGS["streaming_fastconformer_80"], normalize={"fixed_mean": [0.0] * 79,
                                                                           "fixed_std": [1.0] * 79})
    with pytest.raises(ConfigError, match="fixed_mean has 79 values; the model has 80 features"):
        nemo_fast.ImprovedFbank.from_nemo_config(config)


@pytest.mark.nemo
def test_fixed_normalization_equals_nemo_and_streams():
    """Features with fixed statistics equal NeMo's preprocessor on every feature case; being per frame, a
    stream gives them as audio arrives, the same frames as the whole-utterance computation."""
    from nemo_features_reference import nemo_log_mel, nemo_log_mel_float64, nemo_preprocessor

    config = dict(FEATURE_CONFIGS["streaming_fastconformer_80"],
                  normalize={"fixed_mean": MEAN.tolist(), "fixed_std": STD.tolist()})
    pre = nemo_preprocessor(config)
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(config, window_taps=pre.featurizer.window.numpy(),
                                                     mel_weights=pre.featurizer.fb[0].numpy())
    assert fbank.options.normalize == "fixed"
    for _case, x in cases(16000).items():
        ref = nemo_log_mel(config, x, pre)
        if ref is None:
            continue
        assert_matches_nemo(fbank.compute(x, 16000), ref, nemo_log_mel_float64(config, x))
    speech = cases(16000)["speech"]
    stream = fbank.create_stream()
    early = [stream.accept_waveform(speech[i:i + 1600], 16000) for i in range(0, len(speech), 1600)]
    assert sum(len(f) for f in early) > 0.9 * fbank.compute(speech, 16000).shape[0]
    streamed = np.concatenate(early + [stream.input_finished()])
    assert np.array_equal(streamed, fbank.compute(speech, 16000))


@pytest.mark.nemo
def test_export_with_cmvn_stats_passes_the_parity_check_and_recognizes_as_nemo(tmp_path):
    """export --cmvn-stats on a streaming model: NeMo is given the same statistics, the exporter's parity
    check (streaming log-probs against NeMo's, 1e-4) passes, and the export's features are normalized."""
    from nemo_model_factory import build_model
    from recognizer_cases import MODEL_SPECS

    from nemo_fast.cli import main
    from nemo_fast.export import reference
    from nemo_fast.export.cmvn import apply_cmvn_stats

    spec = next(s for s in MODEL_SPECS if s.name == "char_d32_80mel")
    model = build_model(spec, tmp_path)
    nemo_file = tmp_path / "model.nemo"
    model.save_to(str(nemo_file))
    _kaldi_stats(tmp_path / "global_cmvn.stats", MEAN, STD)
    out = tmp_path / "exported"
    assert main(["export", str(nemo_file), str(out), "--att-context-size", "70,6",
                 "--cmvn-stats", str(tmp_path / "global_cmvn.stats")]) == 0  # includes the parity check
    recognizer = nemo_fast.Recognizer(out, keep_log_probs=True)
    assert recognizer.spec.features.normalize == "fixed"
    apply_cmvn_stats(model, MEAN.tolist(), STD.tolist())
    model.encoder.set_default_att_context_size([70, 6])
    model.encoder.setup_streaming_params()
    audio = cases(16000)["speech"]
    ref, tokens = reference.nemo_streaming_log_probs(model, audio)
    ours = recognizer.transcribe(audio, sample_rate=16000)
    assert np.abs(ours.log_probs - ref).max() <= 1e-4 and ours.token_ids == tokens
    assert main(["export", str(nemo_file), str(tmp_path / "bad"), "--cmvn-stats", str(tmp_path / "model.nemo")]) == 2
