"""Writes the golden references of the default test suite by running NeMo (the only writer of goldens).

    python tests/golden/make_goldens.py [--speech] [--only features|recognizer]

Features: NeMo's preprocessor (float32 and float64) on the speech clip and awkward lengths, for each
config of feature_configs.json. Recognizer: builds the small random-weight test models with NeMo,
exports them with nemo-fast into tests/models/exported/, and stores NeMo's streaming (both modes) or
offline CTC log-probs, tokens and texts, and its greedy transducer tokens and texts. --speech regenerates the speech clip tests/data/speech_16k.wav
with espeak-ng first. Needs nemo_toolkit[asr] and torch; never needed to run the tests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from feature_cases import FEATURE_CONFIGS, FEATURE_GOLDEN_DIR, SPEECH_WAV, cases  # noqa: E402
from nemo_features_reference import nemo_log_mel, nemo_log_mel_float64, nemo_preprocessor  # noqa: E402

SPEECH_TEXT = "Streaming speech recognition should give the same words as the reference, every time."


def make_speech_clip() -> None:
    """Speak SPEECH_TEXT with espeak-ng and store it as 16 kHz mono int16."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), SPEECH_TEXT], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(SPEECH_WAV)], check=True)


def write_recognizer_goldens(only_models: list[str] | None = None) -> None:
    import json
    import shutil
    import tempfile

    from nemo_model_factory import build_model
    from recognizer_cases import GOLDEN_DIR, MODELS_DIR, MODES, audio_cases, exports, heads

    from nemo_fast.export import export_model
    from nemo_fast.export import reference as ref

    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, lookahead, name in exports():
            if only_models and spec.name not in only_models:
                continue
            model = build_model(spec, Path(tmp))
            out = MODELS_DIR / name
            shutil.rmtree(out, ignore_errors=True)
            export_model(None, out, att_context_size=lookahead, model=model)
            arrays, texts = {}, {}
            has_ctc, transducer = heads(spec)
            for case, audio in audio_cases().items():
                for mode in MODES if spec.streaming else ["offline"]:
                    pad = mode == "pad_and_drop_preencoded"
                    if has_ctc:
                        if spec.streaming:
                            lp, tokens = ref.nemo_streaming_log_probs(model, audio, pad)
                        else:
                            lp, tokens = ref.nemo_offline_log_probs(model, audio)
                        arrays[f"{case}.{mode}.log_probs"] = lp
                        arrays[f"{case}.{mode}.tokens"] = np.array(tokens, dtype=np.int64)
                        texts[f"{case}.{mode}"] = ref.nemo_text(model, tokens)
                    if transducer:
                        if spec.streaming:
                            tokens = ref.nemo_streaming_transducer_tokens(model, audio, pad)
                        else:
                            tokens = ref.nemo_offline_transducer_tokens(model, audio)
                        arrays[f"{case}.{mode}.transducer_tokens"] = np.array(tokens, dtype=np.int64)
                        texts[f"{case}.{mode}.transducer"] = ref.nemo_transducer_text(model, tokens)
            np.savez_compressed(GOLDEN_DIR / f"{name}.npz", **arrays)
            (GOLDEN_DIR / f"{name}.json").write_text(json.dumps(texts, indent=1, sort_keys=True) + "\n")
            print(f"{name}: exported and {len(texts)} references written")


def write_shipped_model_goldens(nemo_file: Path) -> None:
    """NeMo's streaming CTC log-probs, tokens and texts (and for a hybrid checkpoint its streaming RNN-T tokens
    and texts) of the shipped model's checkpoint (both modes) on the shipped example and the test speech clip:
    the references of tests/test_shipped_model.py."""
    import json

    from shipped_model_cases import GOLDEN, audio_cases

    from nemo_fast.export.nemo_model import load_nemo_model
    from nemo_fast.export.reference import (
        nemo_streaming_log_probs,
        nemo_streaming_transducer_tokens,
        nemo_text,
        nemo_transducer_text,
    )

    model = load_nemo_model(nemo_file)
    arrays, texts = {}, {}
    for case, audio in audio_cases().items():
        for mode in ["default", "pad_and_drop_preencoded"]:
            lp, tokens = nemo_streaming_log_probs(model, audio, mode == "pad_and_drop_preencoded")
            arrays[f"{case}.{mode}.log_probs"] = lp
            arrays[f"{case}.{mode}.tokens"] = np.array(tokens, dtype=np.int64)
            texts[f"{case}.{mode}"] = nemo_text(model, tokens)
            if not hasattr(model, "joint"):
                continue
            tokens = nemo_streaming_transducer_tokens(model, audio, mode == "pad_and_drop_preencoded")
            arrays[f"{case}.{mode}.transducer_tokens"] = np.array(tokens, dtype=np.int64)
            texts[f"{case}.{mode}.transducer"] = nemo_transducer_text(model, tokens)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN.with_suffix(".npz"), **arrays)
    GOLDEN.with_suffix(".json").write_text(json.dumps(texts, indent=1, sort_keys=True) + "\n")
    print(f"shipped model: {len(texts)} references written")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speech", action="store_true", help="regenerate the speech clip with espeak-ng")
    parser.add_argument("--only", choices=["features", "recognizer"])
    parser.add_argument("--model", action="append", help="recognizer goldens of this test model only (repeatable)")
    parser.add_argument("--shipped", type=Path, metavar="MODEL.nemo",
                        help="only the goldens of the shipped model, from its checkpoint (recipes/shipped_model)")
    args = parser.parse_args()
    if args.speech:
        make_speech_clip()
    if args.shipped:
        write_shipped_model_goldens(args.shipped)
        return
    if args.only != "features":
        write_recognizer_goldens(args.model)
    if args.only == "recognizer":
        return
    FEATURE_GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name, config in FEATURE_CONFIGS.items():
        arrays = {}
        preprocessor = nemo_preprocessor(config)
        arrays["buffer.window"] = preprocessor.featurizer.window.numpy()
        arrays["buffer.mel_weights"] = preprocessor.featurizer.fb[0].numpy()
        for case, x in cases(config["sample_rate"]).items():
            feats = nemo_log_mel(config, x, preprocessor)
            if feats is not None:
                arrays[case] = feats
                arrays[f"{case}.float64"] = nemo_log_mel_float64(config, x).astype(np.float32)
        path = FEATURE_GOLDEN_DIR / f"{name}.npz"
        np.savez_compressed(path, **arrays)
        print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: {len(arrays)} cases")


if __name__ == "__main__":
    main()
