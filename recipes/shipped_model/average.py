"""Averages the weights of several checkpoints of one training run into one model.

    python recipes/shipped_model/average.py OUT.nemo CHECKPOINT.ckpt [CHECKPOINT.ckpt ...]

The checkpoints are Lightning's (`train.py --keep-checkpoints` keeps one every 250 steps in
WORK_DIR/checkpoints/); the model's configuration and tokenizer come from the last one named. Averaging the
last few checkpoints of a cosine schedule smooths the noise of the final steps; whether it helps is measured
with `evaluate.py` like any other model (see README).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def average_state_dicts(paths: list[Path]) -> dict:
    """The element-wise mean of the checkpoints' weights; they must hold the same tensors."""
    import torch

    total: dict = {}
    for path in paths:
        state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
        if total and state.keys() != total.keys():
            raise SystemExit(f"{path} holds other tensors than {paths[0]}: not the same model")
        for name, tensor in state.items():
            if not tensor.is_floating_point():
                raise SystemExit(f"{path}: {name} is not a float tensor; averaging it would be meaningless")
            if name in total and total[name].shape != tensor.shape:
                raise SystemExit(f"{path}: {name} has shape {tuple(tensor.shape)}, not {tuple(total[name].shape)}")
            total[name] = total[name] + tensor.double() if name in total else tensor.double()
    return {name: (tensor / len(paths)).float() for name, tensor in total.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    args = parser.parse_args()

    import torch
    from nemo.collections.asr.models import EncDecCTCModelBPE, EncDecHybridRNNTCTCBPEModel

    averaged = average_state_dicts(args.checkpoints)
    last = torch.load(args.checkpoints[-1], map_location="cpu", weights_only=False)
    hybrid = "aux_ctc" in last["hyper_parameters"]["cfg"]  # train.py's two model classes
    model_class = EncDecHybridRNNTCTCBPEModel if hybrid else EncDecCTCModelBPE
    model = model_class.load_from_checkpoint(str(args.checkpoints[-1]), map_location="cpu", strict=True)
    model.load_state_dict(averaged, strict=True)
    model.save_to(str(args.output))
    print(f"{args.output}: the mean of {len(args.checkpoints)} checkpoints", flush=True)


if __name__ == "__main__":
    main()
