"""Live NeMo parity of the recognizer and the exporter (marker `nemo`; CI requires it)."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import numpy as np
import pytest
from recognizer_cases import MODEL_SPECS, MODELS_DIR, audio_cases, exports, feed_in_pieces, heads

import nemo_fast

pytestmark = pytest.mark.nemo


def longer_audio() -> np.ndarray:
    """Eight seconds not in the goldens: the clip at two gains with noise."""
    x = audio_cases()["speech"]
    rng = np.random.default_rng(3)
    y = np.concatenate([0.7 * x, 1.3 * x[: len(x) // 2]])
    return (y + rng.normal(0, 1e-3, len(y))).astype(np.float32)


@pytest.mark.parametrize("name", ["rnnt_bpe_d48_80mel", "tdt_bpe_d48_80mel"])
def test_transducer_graphs_match_nemo_prediction_network_and_joint(nemo_models, name):
    """decoder.onnx and joiner.onnx against NeMo's decoder.predict and joint on a token sequence
    (the start-of-sequence step first): joint log-probs within 1e-4."""
    import onnxruntime
    import torch

    model = nemo_models[name]
    export = next(n for s, _, n in exports() if s.name == name)
    options = onnxruntime.SessionOptions()
    decoder = onnxruntime.InferenceSession(str(MODELS_DIR / export / "decoder.onnx"), options)
    joiner = onnxruntime.InferenceSession(str(MODELS_DIR / export / "joiner.onnx"), options)
    blank = model.decoder.blank_idx
    layers, hidden = model.decoder.pred_rnn_layers, model.decoder.pred_hidden
    rng = np.random.default_rng(0)
    h = np.zeros((layers, 1, hidden), np.float32)
    c = np.zeros_like(h)
    state = None
    label = None
    durations = len(model.cfg.model_defaults.get("tdt_durations", []) or [])
    for step in range(6):
        enc = rng.standard_normal((1, 1, model.encoder.d_model)).astype(np.float32)
        with torch.inference_mode():
            g, state_next = model.decoder.predict(None if label is None else torch.tensor([[label]]), state,
                                                  add_sos=False, batch_size=1)
            ref = model.joint.joint(torch.from_numpy(enc), g)[0, 0, 0]
        target = np.array([[blank if label is None else label]], np.int64)
        g_ours, h, c = decoder.run(None, {"targets": target, "states_h": h, "states_c": c})
        f_ours = model.joint.project_encoder(torch.from_numpy(enc)).detach().numpy()[:, 0]
        outputs = joiner.run(None, {"encoder_output": f_ours, "decoder_output": g_ours})
        if durations:
            ref_tokens = ref[:-durations].log_softmax(-1).numpy()
            ref_durations = ref[-durations:].log_softmax(-1).numpy()
            assert np.abs(outputs[1][0] - ref_durations).max() <= 1e-4
        else:
            ref_tokens = ref.log_softmax(-1).numpy()
        assert np.abs(outputs[0][0] - ref_tokens).max() <= 1e-4, f"step {step}"
        label = int(rng.integers(0, blank))
        state = state_next


def test_offline_tdt_matches_nemo_transcribe(nemo_models):
    """Offline TDT tokens equal NeMo's own `transcribe` (inputs of at least one second, which it does not pad)."""
    import torch

    model = nemo_models["tdt_bpe_d48_80mel"]
    audio = longer_audio()
    with torch.inference_mode():
        hypotheses = model.transcribe([audio], batch_size=1, return_hypotheses=True, verbose=False)
    model.eval()  # transcribe leaves NeMo 3.0's encoder in training mode
    expected = [int(t) for t in hypotheses[0].y_sequence]
    recognizer = nemo_fast.Recognizer(MODELS_DIR / "tdt_bpe_d48_80mel_offline")
    result = recognizer.transcribe(audio, sample_rate=16000)
    assert result.token_ids == expected
    assert result.text == hypotheses[0].text


@pytest.fixture(scope="module")
def nemo_models(tmp_path_factory):
    from nemo_model_factory import build_model

    tmp = tmp_path_factory.mktemp("models")
    return {spec.name: build_model(spec, tmp) for spec in MODEL_SPECS}


@pytest.mark.parametrize("spec,lookahead,name", exports(), ids=[name for _, _, name in exports()])
def test_committed_exports_match_live_nemo(nemo_models, spec, lookahead, name):
    from nemo_fast.export import reference

    model = nemo_models[spec.name]
    if lookahead is not None:
        model.encoder.set_default_att_context_size(list(lookahead))
        model.encoder.setup_streaming_params()
    audio = longer_audio()
    has_ctc, transducer = heads(spec)
    for mode in ["default", "pad_and_drop_preencoded"] if spec.streaming else ["default"]:
        if transducer:
            if spec.streaming:
                tokens = reference.nemo_streaming_transducer_tokens(model, audio, mode == "pad_and_drop_preencoded")
            else:
                tokens = reference.nemo_offline_transducer_tokens(model, audio)
            recognizer = nemo_fast.Recognizer(MODELS_DIR / name, decoder=transducer, streaming_mode=mode)
            assert feed_in_pieces(recognizer, audio, 2731).token_ids == tokens
        if not has_ctc:
            continue
        if spec.streaming:
            ref, tokens = reference.nemo_streaming_log_probs(model, audio, mode == "pad_and_drop_preencoded")
        else:
            ref, tokens = reference.nemo_offline_log_probs(model, audio)
        recognizer = nemo_fast.Recognizer(MODELS_DIR / name, decoder="ctc", keep_log_probs=True, streaming_mode=mode)
        ours = feed_in_pieces(recognizer, audio, 2731)
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
    assert recognizer.spec.att_context_size == (70, 6)
    assert recognizer.spec.geometry.chunk_size == (49, 56)
    assert main(["export", str(nemo_file), str(tmp_path / "bad"), "--att-context-size", "70,5"]) == 2


def test_parity_check_catches_a_mismatch(nemo_models, tmp_path):
    import torch
    from nemo_model_factory import build_model

    from nemo_fast.export import ExportParityError, export_model
    from nemo_fast.export.exporter import check_parity

    spec = MODEL_SPECS[1]
    model = build_model(spec, tmp_path)
    out = export_model(None, tmp_path / "exported", model=model)
    with torch.no_grad():
        model.encoder.layers[0].feed_forward1.linear1.weight.mul_(1.5)
    with pytest.raises(ExportParityError, match="parity check failed"):
        check_parity(model, out, streaming=True)


def test_a_failed_parity_check_leaves_nothing_loadable(nemo_models, tmp_path, monkeypatch):
    """The export is staged beside out_dir and moved into place only after the parity check passes."""
    from nemo_fast.export import ExportParityError, export_model, exporter

    def failing(model, out_dir, streaming):
        assert (out_dir / "model.onnx").exists() and out_dir.parent == tmp_path  # checked where it was staged
        raise ExportParityError("parity check failed (simulated)")

    monkeypatch.setattr(exporter, "check_parity", failing)
    with pytest.raises(ExportParityError):
        export_model(None, tmp_path / "out", model=nemo_models["char_d32_80mel"])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"])  # the staging folder is gone too


def test_streaming_export_of_a_non_streaming_model_is_refused(nemo_models, tmp_path):
    from nemo_fast.errors import ModelError
    from nemo_fast.export import export_model

    with pytest.raises(ModelError, match="not cache-aware"):
        export_model(None, tmp_path, model=nemo_models["offline_char_d32_80mel"], mode="streaming")


def test_int8_export_runs_and_says_so(nemo_models, tmp_path):
    """--quantize int8: the encoder's MatMuls become dynamic-quantized (smaller file), the metadata says
    int8, and the model still recognizes, close to the float model on this random-weight model."""
    from nemo_fast.export import export_model
    from nemo_fast.model_format import read_metadata

    model = nemo_models["bpe_d48_128mel"]
    float_dir = export_model(None, tmp_path / "float", model=model, parity_check=False)
    int8_dir = export_model(None, tmp_path / "int8", model=model, parity_check=False, quantize="int8")
    assert read_metadata(int8_dir / "model.onnx")["quantization"] == "int8"
    assert "quantization" not in read_metadata(float_dir / "model.onnx")
    assert (int8_dir / "model.onnx").stat().st_size < (float_dir / "model.onnx").stat().st_size
    audio = longer_audio()
    ours = nemo_fast.Recognizer(int8_dir, keep_log_probs=True).transcribe(audio, sample_rate=16000)
    ref = nemo_fast.Recognizer(float_dir, keep_log_probs=True).transcribe(audio, sample_rate=16000)
    assert ours.log_probs.shape == ref.log_probs.shape
    assert 0 < np.abs(ours.log_probs - ref.log_probs).max() < 1.0


@pytest.mark.parametrize("name", ["hybrid_bpe_d48_80mel"])
def test_export_with_external_weights_passes_parity_and_quantizes_into_one_file(nemo_models, tmp_path, name):
    """Models over protobuf's 2 GB keep their weights in model.onnx.data: forced here on a small model. The
    parity check runs on it (export_model raises otherwise), inspect and the runtime load it, it gives the
    single-file export's results, and --quantize int8 leaves one file; a re-export into the same folder leaves
    no stale weights file."""
    from nemo_fast.export import export_model
    from nemo_fast.model_format import read_metadata

    model = nemo_models[name]
    single = export_model(None, tmp_path / "single", model=model, att_context_size=(70, 1))
    split = export_model(None, tmp_path / "split", model=model, att_context_size=(70, 1), external_data=True)
    weights = (split / "model.onnx.data").stat().st_size
    moved = (single / "model.onnx").stat().st_size - (split / "model.onnx").stat().st_size
    assert weights > 0 and moved > 0.9 * weights
    assert not (single / "model.onnx.data").exists()
    assert read_metadata(split / "model.onnx") == read_metadata(single / "model.onnx")
    audio = longer_audio()
    for decoder in ("ctc", "rnnt"):
        a = nemo_fast.Recognizer(single, decoder=decoder).transcribe(audio, sample_rate=16000)
        b = nemo_fast.Recognizer(split, decoder=decoder).transcribe(audio, sample_rate=16000)
        assert list(a.token_ids) == list(b.token_ids) and a.token_ids
    shown = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "inspect", str(split)], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert "cache_last_channel" in shown
    int8 = export_model(None, split, model=model, att_context_size=(70, 1), external_data=True, quantize="int8",
                        parity_check=False)  # fmt: skip
    assert not (int8 / "model.onnx.data").exists()
    assert nemo_fast.Recognizer(int8).transcribe(audio, sample_rate=16000).token_ids


def test_export_names_the_chosen_default_head(nemo_models, tmp_path):
    """--default-decoder ctc on a hybrid model: the runtime decodes with CTC unless told otherwise; a head the
    model lacks is refused with its name."""
    from nemo_fast.errors import ConfigError
    from nemo_fast.export import export_model

    hybrid = nemo_models["hybrid_bpe_d48_80mel"]
    out = export_model(None, tmp_path / "hybrid", model=hybrid, parity_check=False, default_decoder="ctc")
    assert nemo_fast.Recognizer(out).decoder == "ctc"
    assert nemo_fast.Recognizer(out, decoder="rnnt").decoder == "rnnt"
    with pytest.raises(ConfigError, match="'tdt' is not one of this model's decoders: rnnt, ctc"):
        export_model(None, tmp_path / "bad", model=hybrid, parity_check=False, default_decoder="tdt")


@pytest.mark.parametrize("name", ["bpe_d48_128mel", "offline_char_d32_80mel"])
def test_lean_subsampling_masks_equal_nemo_on_a_padded_batch(nemo_models, name):
    """The exporter's subsampling convolutions (masked only before layers that mix frames) give NeMo's
    MaskedConvSequential output bit for bit on a batch of three lengths, padding included, and its lengths."""
    import torch

    from nemo_fast.export.wrappers import _MaskedSubsamplingConvs

    convs = nemo_models[name].encoder.pre_encode.conv
    feat_in = nemo_models[name].encoder._feat_in
    x = torch.randn(3, 203, feat_in, generator=torch.Generator().manual_seed(0)) * 3 - 5
    lengths = torch.tensor([203, 150, 37])
    with torch.inference_mode():
        ref, ref_lengths = convs(x, lengths)
        ours, our_lengths = _MaskedSubsamplingConvs(convs)(x, lengths)
    assert torch.equal(our_lengths, ref_lengths)
    assert torch.equal(ours, ref)
    assert ours[2, :, int(ref_lengths[2]):].abs().max() == 0  # padding is zero, as in NeMo


# --- Word timestamps and confidences against NeMo's own (`timestamps=True`, default ConfidenceConfig) ---


@contextlib.contextmanager
def _nemo_decoding_with_timestamps(model, head: str, word_confidence: bool):
    """The model's decoding of `head` set, for the duration, to compute timestamps and NeMo's default
    confidence (the shared test model gets its decoding back afterwards)."""
    from nemo.collections.asr.parts.utils.asr_confidence_utils import ConfidenceConfig
    from omegaconf import OmegaConf, open_dict

    from nemo_fast.export import reference

    reference.use_head(model, head)
    hybrid = hasattr(model, "cur_decoder")
    original = model.cfg.aux_ctc.decoding if hybrid and head == "ctc" else model.cfg.decoding
    original = OmegaConf.create(OmegaConf.to_container(original))
    cfg = original.copy()
    with open_dict(cfg):
        cfg.compute_timestamps = True
        cfg.confidence_cfg = OmegaConf.structured(ConfidenceConfig(
            preserve_word_confidence=word_confidence, preserve_token_confidence=True))
    extra = {"decoder_type": head} if hybrid else {}
    model.change_decoding_strategy(cfg, verbose=False, **extra)
    try:
        yield model.ctc_decoding if hybrid and head == "ctc" else model.decoding
    finally:
        model.change_decoding_strategy(original, verbose=False, **extra)


def _nemo_streaming_hypothesis(model, head: str, audio: np.ndarray, word_confidence: bool = True):
    """NeMo's hypothesis with timestamps and confidences for NeMo's own cache-aware streaming of `audio`:
    CTC decoding of the streamed log-probs; transducer greedy decoding of the streamed encoder output (the
    frame loop with its carried state is the chunked one; the token tests above check they agree)."""
    import torch

    from nemo_fast.export import reference

    if head == "ctc":
        log_probs, _ = reference.nemo_streaming_log_probs(model, audio)
        with _nemo_decoding_with_timestamps(model, head, word_confidence) as decoding, torch.inference_mode():
            return decoding.ctc_decoder_predictions_tensor(torch.from_numpy(log_probs)[None],
                                                           decoder_lengths=torch.tensor([len(log_probs)]),
                                                           return_hypotheses=True)[0]
    reference.use_head(model, head)
    frames = []
    plain = model.decoding.rnnt_decoder_predictions_tensor

    def spy(encoder_output, encoded_lengths, **kwargs):
        frames.append(encoder_output[0, :, : int(encoded_lengths[0])].clone())
        return plain(encoder_output=encoder_output, encoded_lengths=encoded_lengths, **kwargs)

    model.decoding.rnnt_decoder_predictions_tensor = spy
    try:
        reference.nemo_streaming_transducer_tokens(model, audio)
    finally:
        del model.decoding.rnnt_decoder_predictions_tensor
    encoded = torch.cat(frames, dim=1)[None]
    with _nemo_decoding_with_timestamps(model, head, word_confidence) as decoding, torch.inference_mode():
        return decoding.rnnt_decoder_predictions_tensor(encoder_output=encoded,
                                                        encoded_lengths=torch.tensor([encoded.shape[2]]),
                                                        return_hypotheses=True)[0]


def _check_words_equal_nemo(segment, shift: float, hypothesis, nemo_word_confidence):
    nemo_words = [w for w in hypothesis.timestamp["word"] if w["word"]]  # nemo_fast leaves empty words out
    assert len(nemo_words) >= 2, "the case should have several words"
    assert [w.text for w in segment.words] == [w["word"] for w in nemo_words]
    frames = [(round(w.start / shift), round(w.end / shift)) for w in segment.words]
    assert frames == [(int(w["start_offset"]), int(w["end_offset"])) for w in nemo_words]
    assert all(abs(w.start - a * shift) < 1e-9 and abs(w.end - b * shift) < 1e-9  # whole frames in seconds
               for w, (a, b) in zip(segment.words, frames))
    assert np.abs(np.array(segment.token_confidences) - np.array(hypothesis.token_confidence)).max() <= 1e-4
    ours = [w.confidence for w in segment.words]
    if len(nemo_word_confidence) != len(ours):
        # NeMo's word confidences make "<unk>" a word of its own while its word timestamps join the pieces
        # after it to it; nemo_fast gives each timestamped word its confidence. Compare up to the first one.
        first_unknown = next(i for i, w in enumerate(segment.words) if "\u2047" in w.text)
        ours, nemo_word_confidence = ours[:first_unknown], nemo_word_confidence[:first_unknown]
    assert np.abs(np.array(ours) - np.array(nemo_word_confidence)).max(initial=0) <= 1e-4


def _one_segment(recognizer_dir, head: str, audio: np.ndarray):
    """The whole transcript as one segment (endpointing off), streamed in pieces of 2731 samples."""
    recognizer = nemo_fast.Recognizer(recognizer_dir, decoder=head, endpoint=nemo_fast.EndpointConfig(enabled=False))
    stream = recognizer.create_stream()
    for i in range(0, len(audio), 2731):
        stream.accept_waveform(audio[i:i + 2731], 16000)
    stream.input_finished()
    [segment] = stream.pop_segments()
    return recognizer, segment


@pytest.mark.parametrize("name,head", [("bpe_d48_128mel_70_6", "ctc"), ("hybrid_bpe_d48_80mel_70_13", "ctc"),
                                       ("hybrid_bpe_d48_80mel_70_13", "rnnt"), ("rnnt_bpe_d48_80mel_70_6", "rnnt")])
def test_streaming_words_equal_nemo_timestamps_and_confidence(nemo_models, name, head):
    """Word texts, start/end frame offsets and confidences of a streamed input equal NeMo's
    `compute_timestamps` and default ConfidenceConfig (Tsallis entropy, alpha 0.33, exp normalization, blank
    excluded, min over a word's tokens) for NeMo's own streaming of the same model and audio."""
    spec, lookahead = next((s, a) for s, a, n in exports() if n == name)
    model = nemo_models[spec.name]
    model.encoder.set_default_att_context_size(list(lookahead))
    model.encoder.setup_streaming_params()
    audio = longer_audio()
    hypothesis = _nemo_streaming_hypothesis(model, head, audio)
    recognizer, segment = _one_segment(MODELS_DIR / name, head, audio)
    if head == "ctc":
        tokens = [int(t) for t in hypothesis.y_sequence]  # frame-wise argmax: collapse and drop blanks
        tokens = [t for i, t in enumerate(tokens) if t != recognizer.spec.blank_id and (i == 0 or tokens[i - 1] != t)]
    else:
        tokens = [int(t) for t in hypothesis.y_sequence]
    assert segment.token_ids == tokens
    _check_words_equal_nemo(segment, recognizer.spec.frame_shift_seconds, hypothesis, hypothesis.word_confidence)


def _token_ranges_of_words(hypothesis, word_delimiter_decoding):
    """The token index ranges of NeMo's words: its own get_words_offsets run on offsets replaced by token indexes."""
    import copy

    from nemo.collections.asr.parts.utils.timestamp_utils import get_words_offsets

    chars = copy.deepcopy(hypothesis.timestamp["char"])
    for i, c in enumerate(chars):
        c["start_offset"] = c["end_offset"] = i
    decoding = word_delimiter_decoding
    ranges = get_words_offsets(chars, copy.deepcopy(chars), decoding.decode_tokens_to_str, decoding.word_seperator,
                               decoding.tokenizer_type, decoding.supported_punctuation)
    return [(w["start_offset"], w["end_offset"]) for w in ranges if w["word"]]


def test_offline_transcribe_words_equal_nemo_with_spaces_and_punctuation(nemo_models, tmp_path):
    """A character model whose output has spaces and apostrophes (its CTC biases raised): the words of
    `Recognizer.transcribe` equal NeMo's `transcribe(..., timestamps=True)` words and frame offsets, spaces
    before punctuation and punctuation without a word included; word confidence is the least token confidence
    over the word's tokens (NeMo 3.0's own word confidence fails on character CTC models), token confidences
    within 1e-4 of NeMo's."""
    import torch
    from nemo_model_factory import CHAR_LABELS, build_model

    from nemo_fast.export import export_model

    spec = next(s for s in MODEL_SPECS if s.name == "offline_char_d32_80mel")
    model = build_model(spec, tmp_path)
    with torch.no_grad():
        bias = model.decoder.decoder_layers[0].bias
        bias[CHAR_LABELS.index(" ")] += 4.5
        bias[CHAR_LABELS.index("'")] += 2.2
    out = export_model(None, tmp_path / "exported", model=model, parity_check=False)
    audio = longer_audio()
    with _nemo_decoding_with_timestamps(model, "ctc", word_confidence=False) as decoding, torch.inference_mode():
        [hypothesis] = model.transcribe([audio], batch_size=1, return_hypotheses=True, timestamps=True,
                                        verbose=False)
    model.eval()
    assert " " in hypothesis.text and "'" in hypothesis.text
    recognizer = nemo_fast.Recognizer(out, endpoint=nemo_fast.EndpointConfig(enabled=False))
    [segment] = recognizer.transcribe_segments(audio, sample_rate=16000)
    assert segment.text == hypothesis.text
    confidences = np.array(hypothesis.token_confidence)
    expected = [confidences[a:b + 1].min() for a, b in _token_ranges_of_words(hypothesis, decoding)]
    _check_words_equal_nemo(segment, recognizer.spec.frame_shift_seconds, hypothesis, expected)
    assert len(segment.words) >= 5


def test_offline_tdt_words_equal_nemo_transcribe(tmp_path):
    """TDT, with word pieces and apostrophes made likely (joint biases raised): word offsets (frame plus
    predicted duration; punctuation placed at the end of the token before) and confidences equal NeMo's
    `transcribe(..., timestamps=True)` with its default ConfidenceConfig."""
    import torch
    from nemo_model_factory import build_model

    from nemo_fast.export import export_model

    model = build_model(next(s for s in MODEL_SPECS if s.name == "tdt_bpe_d48_80mel"), tmp_path)
    vocab = model.tokenizer.vocab
    with torch.no_grad():
        bias = model.joint.joint_net[-1].bias
        for piece in ["\u2581t", "\u2581s", "\u2581a", "\u2581the"]:
            bias[vocab.index(piece)] += 12.0
        bias[vocab.index("'")] += 14.0
    out = export_model(None, tmp_path / "exported", model=model, parity_check=False)
    audio = longer_audio()
    with _nemo_decoding_with_timestamps(model, "rnnt", word_confidence=True), torch.inference_mode():
        [hypothesis] = model.transcribe([audio], batch_size=1, return_hypotheses=True, timestamps=True,
                                        verbose=False)
    model.eval()
    assert " " in hypothesis.text and "'" in hypothesis.text
    recognizer = nemo_fast.Recognizer(out, endpoint=nemo_fast.EndpointConfig(enabled=False))
    [segment] = recognizer.transcribe_segments(audio, sample_rate=16000)
    assert segment.token_ids == [int(t) for t in hypothesis.y_sequence]
    assert segment.text == hypothesis.text
    _check_words_equal_nemo(segment, recognizer.spec.frame_shift_seconds, hypothesis, hypothesis.word_confidence)
    assert len(segment.words) >= 5
