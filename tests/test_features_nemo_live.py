"""Live NeMo parity: recomputes the feature references with NeMo itself (marker `nemo`; CI requires it).

Adds what goldens cannot hold: a 10-minute utterance, and NeMo's valid-frame count for empty input."""

from __future__ import annotations

import numpy as np
import pytest
from feature_cases import FEATURE_CONFIGS, cases
from feature_checks import assert_matches_nemo

import nemo_fast

pytestmark = pytest.mark.nemo


@pytest.mark.parametrize("config_name", sorted(FEATURE_CONFIGS))
def test_all_cases_against_live_nemo(config_name):
    from nemo_features_reference import nemo_log_mel, nemo_log_mel_float64, nemo_preprocessor

    config = FEATURE_CONFIGS[config_name]
    pre = nemo_preprocessor(config)
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(
        config, window_taps=pre.featurizer.window.numpy(), mel_weights=pre.featurizer.fb[0].numpy()
    )
    for _case, x in cases(config["sample_rate"]).items():
        ref = nemo_log_mel(config, x, pre)
        if ref is None:
            assert fbank.options.num_valid_frames(len(x)) == 0
            continue
        assert_matches_nemo(fbank.compute(x, config["sample_rate"]), ref, nemo_log_mel_float64(config, x))


@pytest.mark.parametrize("config_name", ["streaming_fastconformer_80", "fastconformer_128_per_feature"])
def test_ten_minutes_against_live_nemo(config_name):
    from nemo_features_reference import nemo_log_mel, nemo_log_mel_float64, nemo_preprocessor

    config = FEATURE_CONFIGS[config_name]
    speech = cases(16000)["speech"]
    rng = np.random.default_rng(10)
    # Ten minutes of the clip at varying gains with a low noise floor.
    reps = int(np.ceil(600 * 16000 / len(speech)))
    gains = rng.uniform(0.2, 1.5, reps).astype(np.float32)
    x = (np.concatenate([speech * g for g in gains])[: 600 * 16000]
         + rng.normal(0, 1e-4, 600 * 16000).astype(np.float32)).astype(np.float32)
    pre = nemo_preprocessor(config)
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(
        config, window_taps=pre.featurizer.window.numpy(), mel_weights=pre.featurizer.fb[0].numpy()
    )
    ours = fbank.compute(x, 16000)
    assert ours.shape[0] == 60000
    assert_matches_nemo(ours, nemo_log_mel(config, x, pre), nemo_log_mel_float64(config, x))


def test_valid_frame_counts_of_awkward_lengths_including_zero():
    from nemo_features_reference import nemo_valid_frames

    config = FEATURE_CONFIGS["streaming_fastconformer_80"]
    lengths = [0, 1, 159, 160, 161, 399, 400, 401, 5919, 5920, 5921]
    fbank = nemo_fast.ImprovedFbank.from_nemo_config(config)
    assert [fbank.options.num_valid_frames(n) for n in lengths] == nemo_valid_frames(config, lengths)
    stream = fbank.create_stream()
    assert stream.input_finished().shape[0] == nemo_valid_frames(config, [0])[0] == 0
