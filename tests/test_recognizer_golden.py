"""The streaming recognizer against NeMo's own conformer_stream_step (goldens written by NeMo): per-frame
CTC log-probs within 1e-4, the same number of frames, identical greedy tokens and text, whatever sizes
the audio is fed in, in both of NeMo's streaming modes; for transducer heads (RNN-T streaming, TDT
offline) identical greedy tokens and text."""

from __future__ import annotations

import numpy as np
import pytest
from recognizer_cases import MODELS_DIR, audio_cases, exports, feed_in_pieces, heads, load_golden

import nemo_fast

TOLERANCE = 1e-4
EXPORTS = [name for _, _, name in exports()]
HEADS = {name: heads(spec) for spec, _, name in exports()}
CTC_EXPORTS = [name for name in EXPORTS if HEADS[name][0]]
TRANSDUCER_EXPORTS = [name for name in EXPORTS if HEADS[name][1]]
FEEDS = {"whole": None, "10ms": 160, "1234_samples": 1234}


def modes(export):
    return ["offline"] if export.endswith("_offline") else ["default", "pad_and_drop_preencoded"]


@pytest.mark.parametrize("export", CTC_EXPORTS)
@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_ctc_matches_nemo(export, feed):
    arrays, texts = load_golden(export)
    for mode in modes(export):
        recognizer = nemo_fast.Recognizer(MODELS_DIR / export, decoder="ctc", keep_log_probs=True,
                                          streaming_mode="default" if mode == "offline" else mode)
        for case, audio in audio_cases().items():
            result = feed_in_pieces(recognizer, audio, FEEDS[feed])
            ref = arrays[f"{case}.{mode}.log_probs"]
            where = f"{export} {mode} {case} fed {feed}"
            assert result.log_probs.shape == ref.shape, where
            assert result.num_frames == ref.shape[0], where
            if ref.size:
                diff = np.abs(result.log_probs - ref).max()
                assert diff <= TOLERANCE, f"{where}: max |log-prob diff| {diff:.3g}"
            assert result.token_ids == arrays[f"{case}.{mode}.tokens"].tolist(), where
            assert result.text == texts[f"{case}.{mode}"], where


@pytest.mark.parametrize("export", TRANSDUCER_EXPORTS)
@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_transducer_matches_nemo(export, feed):
    arrays, texts = load_golden(export)
    head = HEADS[export][1]
    for mode in modes(export):
        recognizer = nemo_fast.Recognizer(MODELS_DIR / export, decoder=head,
                                          streaming_mode="default" if mode == "offline" else mode)
        assert recognizer.decoder == head
        for case, audio in audio_cases().items():
            result = feed_in_pieces(recognizer, audio, FEEDS[feed])
            where = f"{export} {head} {mode} {case} fed {feed}"
            assert result.token_ids == arrays[f"{case}.{mode}.transducer_tokens"].tolist(), where
            assert result.text == texts[f"{case}.{mode}.transducer"], where
            assert result.log_probs is None


@pytest.mark.parametrize("export", TRANSDUCER_EXPORTS)
def test_transducer_is_the_default_head_and_token_times_are_ordered(export):
    recognizer = nemo_fast.Recognizer(MODELS_DIR / export)
    assert recognizer.decoder == HEADS[export][1]
    result = recognizer.transcribe(audio_cases()["speech"], sample_rate=16000)
    times = result.token_times_seconds
    assert len(times) == len(result.token_ids) > 0
    assert times == sorted(times)
    assert 0 <= times[0] and times[-1] < result.num_frames * recognizer.spec.frame_shift_seconds


@pytest.mark.parametrize("export", CTC_EXPORTS)
def test_token_times_are_output_frame_starts(export):
    recognizer = nemo_fast.Recognizer(MODELS_DIR / export, decoder="ctc", keep_log_probs=True)
    result = recognizer.transcribe(audio_cases()["speech"], sample_rate=16000)
    frame_shift = recognizer.spec.frame_shift_seconds
    assert frame_shift == pytest.approx(0.01 * recognizer.spec.subsampling_factor)  # 10 ms feature hop
    best = result.log_probs.argmax(axis=1)
    blank = recognizer.spec.blank_id
    frames = [round(t / frame_shift) for t in result.token_times_seconds]
    assert len(frames) == len(result.token_ids)
    for frame, token in zip(frames, result.token_ids):
        assert best[frame] == token != blank
        assert frame == 0 or best[frame - 1] != token  # the first frame of a run of this token


@pytest.mark.parametrize("export", [name for name in EXPORTS if not name.endswith("_offline")])
def test_streaming_exports_cache_keys_and_values_and_have_no_1d_convs(export):
    """The export rewrites the goldens above prove exact: the attention cache holds projected keys and
    values (each frame projected once, not at every step of its window), kernel-1 convolutions run as
    MatMuls (batched over streams, weights pre-packed) and depthwise ones as 2-D Convs (ONNX Runtime's 1-D
    depthwise kernel is several times slower)."""
    import onnx

    model = onnx.load(str(MODELS_DIR / export / "model.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["cache.last_channel_content"] == "keys_values"
    assert int(meta["cache.last_channel_shape"].split(",")[2]) == 2 * int(meta["d_model"])
    kernels = {tuple(a.ints) for n in model.graph.node if n.op_type == "Conv" for a in n.attribute
               if a.name == "kernel_shape"}
    assert kernels and all(len(kernel) == 2 for kernel in kernels)
