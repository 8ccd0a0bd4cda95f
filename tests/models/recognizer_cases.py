"""The test models of the recognizer tests (built by NeMo, exported by nemo-fast, committed under
tests/models/exported/) and the audio they are checked on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from feature_cases import speech
from nemo_model_factory import ModelRecipe

MODELS_DIR = Path(__file__).resolve().parent / "exported"
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "recognizer"

# Two widths, 80 and 128 mel features, 8x and 4x subsampling (the shipped model's is 4x), char and BPE
# vocabularies, CTC-only, hybrid RNN-T/CTC and RNN-T (two LSTM layers, a max_symbols limit it reaches),
# four lookaheads, and two offline (non-streaming) models, one of them a TDT transducer. blank_bias makes
# the untrained joints emit blanks and runs of symbols both.
MODEL_SPECS = [
    ModelRecipe(name="char_d32_80mel", model_class="EncDecCTCModel", features=80, d_model=32, n_heads=2,
                  att_context_size=((70, 13), (70, 6), (70, 1), (70, 0)), seed=1),
    ModelRecipe(name="char_d32_80mel_4x", model_class="EncDecCTCModel", features=80, d_model=32, n_heads=2,
                  subsampling_factor=4, att_context_size=((70, 13), (70, 1)), seed=7),
    ModelRecipe(name="bpe_d48_128mel", model_class="EncDecCTCModelBPE", features=128, d_model=48, n_heads=4,
                  att_context_size=((70, 6),), vocab_size=40, seed=2),
    ModelRecipe(name="hybrid_bpe_d48_80mel", model_class="EncDecHybridRNNTCTCBPEModel", features=80, d_model=48,
                  n_heads=4, att_context_size=((70, 13), (70, 1)), vocab_size=40, seed=3, blank_bias=18.0),
    ModelRecipe(name="rnnt_bpe_d48_80mel", model_class="EncDecRNNTBPEModel", features=80, d_model=48, n_heads=4,
                  att_context_size=((70, 6),), vocab_size=40, seed=5, pred_rnn_layers=2, max_symbols=3,
                  blank_bias=9.0),
    ModelRecipe(name="tdt_bpe_d48_80mel", model_class="EncDecRNNTBPEModel", features=80, d_model=48, n_heads=4,
                  vocab_size=40, seed=6, streaming=False, tdt_durations=(0, 1, 2, 3, 4)),
    ModelRecipe(name="offline_char_d32_80mel", model_class="EncDecCTCModel", features=80, d_model=32, n_heads=2,
                  streaming=False, seed=4),
]  # fmt: skip

MODES = ["default", "pad_and_drop_preencoded"]


def heads(spec: ModelRecipe) -> tuple[bool, str | None]:
    """Whether the model has a CTC head, and its transducer head ("rnnt", "tdt") if any."""
    has_ctc = spec.model_class != "EncDecRNNTBPEModel"
    transducer = None
    if spec.model_class in ("EncDecRNNTBPEModel", "EncDecHybridRNNTCTCBPEModel"):
        transducer = "tdt" if spec.tdt_durations else "rnnt"
    return has_ctc, transducer


def export_name(spec: ModelRecipe, lookahead) -> str:
    return f"{spec.name}_offline" if not spec.streaming else f"{spec.name}_{lookahead[0]}_{lookahead[1]}"


def exports() -> list[tuple[ModelRecipe, tuple | None, str]]:
    """(model spec, lookahead, export directory name) for every exported test model."""
    out = []
    for spec in MODEL_SPECS:
        if spec.streaming:
            out += [(spec, tuple(a), export_name(spec, a)) for a in spec.att_context_size]
        else:
            out.append((spec, None, export_name(spec, None)))
    return out


def audio_cases() -> dict[str, np.ndarray]:
    """The speech clip, a short piece (first chunk only), and a one-sample input."""
    x = speech(16000)
    return {"speech": x, "short_3000": np.ascontiguousarray(x[8000:11000]), "len_1": np.ascontiguousarray(x[9000:9001])}


def load_golden(name: str) -> tuple[dict, dict]:
    arrays = dict(np.load(GOLDEN_DIR / f"{name}.npz"))
    texts = json.loads((GOLDEN_DIR / f"{name}.json").read_text())
    return arrays, texts


def feed_in_pieces(recognizer, audio: np.ndarray, piece: int | None):
    """One stream fed `piece` samples at a time (None: all at once), then finished; its result."""
    stream = recognizer.create_stream()
    piece = piece or len(audio)
    for i in range(0, len(audio), piece):
        stream.accept_waveform(audio[i : i + piece], 16000)
    stream.input_finished()
    return stream.result()
