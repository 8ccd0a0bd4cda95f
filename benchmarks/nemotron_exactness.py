"""Exactness of nemo_fast on the Nemotron-class replica: NVIDIA's Nemotron Speech Streaming 0.6B as published (24
FastConformer layers of width 1024, 8 heads, 128 mel features, 8x causal dw-striding subsampling, four
lookaheads) with an RNN-T head and a CTC head beside it over a 1,024-piece vocabulary with capitals and
punctuation, random weights (NeMo builds it). For each lookahead and both of NeMo's streaming modes, the streamed
speech clip of the tests must give NeMo's conformer_stream_step tokens for both heads and its CTC log-probs within
1e-4; the text keeps the vocabulary's casing. Too slow for CI (the test suite runs the same checks on a 2-layer
replica); results go to BENCHMARKS.md.

    python benchmarks/nemotron_exactness.py WORK [--layers 24] [--out results.json]

The joint has no extra noise (the factory's transducer_noise 0): a random joint with it has near-ties that
float rounding flips on 1024-wide products (tests/test_nemotron_replica.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models"))
sys.path.insert(0, str(ROOT / "tests"))

LOOKAHEADS = ((70, 13), (70, 6), (70, 1), (70, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", type=Path)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import torch
    from nemo_model_factory import ModelRecipe, build_model
    from recognizer_cases import audio_cases

    import nemo_fast
    from nemo_fast.export import export_model, reference

    torch.set_num_threads(2)
    recipe = ModelRecipe(name=f"nemotron_hybrid_{args.layers}", model_class="EncDecHybridRNNTCTCBPEModel",
                         features=128, d_model=1024, n_layers=args.layers, n_heads=8, subsampling_channels=256,
                         att_context_size=LOOKAHEADS, vocab_size=1024, seed=17, pred_hidden=640, max_symbols=10,
                         blank_bias=3.0, transducer_noise=0.0, joint_dropout=0.2, cased=True)  # fmt: skip
    args.work.mkdir(parents=True, exist_ok=True)
    model = build_model(recipe, args.work)
    parameters = sum(p.numel() for p in model.parameters())
    audio = audio_cases()["speech"]
    results = {"layers": args.layers, "parameters": parameters, "audio_seconds": len(audio) / 16000, "rows": []}
    print(f"replica: {parameters / 1e6:.1f} M parameters, {len(audio) / 16000:.1f} s of speech", flush=True)
    for lookahead in LOOKAHEADS:
        start = time.time()
        out = export_model(None, args.work / f"nemotron_{lookahead[0]}_{lookahead[1]}", model=model,
                           att_context_size=lookahead, parity_check=False)
        model.encoder.set_default_att_context_size(list(lookahead))
        model.encoder.setup_streaming_params()
        for pad_and_drop in (False, True):
            mode = "pad_and_drop_preencoded" if pad_and_drop else "default"
            expected = reference.nemo_streaming_transducer_tokens(model, audio, pad_and_drop_preencoded=pad_and_drop)
            rnnt = nemo_fast.Recognizer(out, decoder="rnnt", streaming_mode=mode).transcribe(audio, sample_rate=16000)
            ref_log_probs, ref_tokens = reference.nemo_streaming_log_probs(model, audio,
                                                                           pad_and_drop_preencoded=pad_and_drop)
            ctc = nemo_fast.Recognizer(out, decoder="ctc", keep_log_probs=True, streaming_mode=mode).transcribe(
                audio, sample_rate=16000)
            row = {
                "lookahead": list(lookahead), "mode": mode, "rnnt_tokens": len(expected),
                "rnnt_tokens_equal": list(rnnt.token_ids) == list(expected),
                "rnnt_text_equal": rnnt.text == reference.nemo_transducer_text(model, expected),
                "text_has_capitals": any(c.isupper() for c in rnnt.text),
                "ctc_max_log_prob_difference": float(np.abs(ctc.log_probs - ref_log_probs).max())
                if ctc.log_probs.shape == ref_log_probs.shape else None,
                "ctc_tokens_equal": list(ctc.token_ids) == list(ref_tokens),
                "text_sample": rnnt.text[:60],
            }
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
        print(f"lookahead {lookahead}: {time.time() - start:.0f} s", flush=True)
    exact = all(r["rnnt_tokens_equal"] and r["ctc_tokens_equal"] and r["ctc_max_log_prob_difference"] is not None
                and r["ctc_max_log_prob_difference"] <= 1e-4 for r in results["rows"])
    results["exact"] = exact
    print("exact at every lookahead in both modes" if exact else "NOT exact: see the rows above")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
