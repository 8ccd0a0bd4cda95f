"""Step 4 of the shipped-model recipe: accuracy of the exported model, and agreement with NeMo.

    python recipes/shipped_model/evaluate.py DATA_DIR MODEL_DIR [--nemo MODEL.nemo] [--decoder ctc|rnnt]
                                             [--out results.json]

Word error rate of nemo_fast (streaming, default mode, greedy decoding) on test_seen_voices.json (held-out sentences,
training voices) and test_unseen_voices.json (held-out sentences, held-out voices and engine). With --nemo,
also transcribes every test utterance with NeMo's own streaming inference of the .nemo checkpoint and
counts transcripts that differ from nemo_fast's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(pairs: list[tuple[str, str]]) -> float:
    errors = sum(edit_distance(r.split(), h.split()) for r, h in pairs)
    words = sum(len(r.split()) for r, _ in pairs)
    return errors / max(1, words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--nemo", type=Path, help="the .nemo checkpoint, to compare with NeMo's streaming output")
    parser.add_argument("--decoder", choices=["ctc", "rnnt"], help="the head to decode with (default: the model's)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import nemo_fast

    # Greedy decoding, as NeMo's conformer_stream_step decodes (the model's decoding.json, beam search with its LM,
    # is measured by evaluate_decoding.py).
    recognizer = nemo_fast.Recognizer(args.model_dir, decoder=args.decoder, decoding="greedy")
    transducer = recognizer.decoder != "ctc"
    nemo_model = None
    if args.nemo:
        import torch
        from nemo.collections.asr.models import ASRModel

        from nemo_fast.export import reference

        torch.set_num_threads(2)
        nemo_model = ASRModel.restore_from(str(args.nemo), map_location="cpu").eval()
    results = {}
    for name in ["test_seen_voices", "test_unseen_voices"]:
        rows = [json.loads(line) for line in (args.data_dir / f"{name}.json").read_text().splitlines()]
        pairs, differ, by_voice = [], 0, {}
        start = time.time()
        for row in rows:
            hyp = recognizer.transcribe(row["audio_filepath"]).text
            pairs.append((row["text"], hyp))
            by_voice.setdefault(row["voice"].split("+")[0], []).append((row["text"], hyp))
            if nemo_model is not None:
                audio, _ = nemo_fast.audio.read_audio(row["audio_filepath"])
                audio = audio.astype("float32") / 32768 if audio.dtype.kind == "i" else audio
                if transducer:
                    tokens = reference.nemo_streaming_transducer_tokens(nemo_model, audio)
                    differ += reference.nemo_transducer_text(nemo_model, tokens) != hyp
                else:
                    _, tokens = reference.nemo_streaming_log_probs(nemo_model, audio)
                    differ += reference.nemo_text(nemo_model, tokens) != hyp
        results[name] = {
            "utterances": len(rows),
            "wer": wer(pairs),
            "wer_by_voice": {v: round(wer(p), 4) for v, p in sorted(by_voice.items())},
            "seconds": round(time.time() - start, 1),
        }
        if nemo_model is not None:
            results[name]["transcripts_differing_from_nemo"] = differ
        print(name, json.dumps(results[name]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
