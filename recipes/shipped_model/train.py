"""Step 2 of the shipped-model recipe: train a small cache-aware streaming FastConformer CTC model (BPE)
with NeMo on the CPU, resumable.

    python recipes/shipped_model/train.py DATA_DIR WORK_DIR [--max-steps N] [--threads 2] [--peak-lr 1e-3]
    python recipes/shipped_model/train.py DATA_DIR WORK_DIR --continue-from EARLIER_WORK/model.nemo --max-steps N
    python recipes/shipped_model/train.py DATA_DIR WORK_DIR --head hybrid --encoder-from CTC_WORK/model.nemo

The second form goes on training a finished model with a fresh learning-rate schedule (a short warmup, no
plateau to leave). The third adds an RNN-T head to a trained CTC model: the encoder and CTC head are copied
from it and frozen, and only the prediction network and joint train (with --continue-from HYBRID.nemo they
start from that model's RNN-T head instead of random weights). Both check that the source model has the same
tokenizer: copy its WORK_DIR/tokenizer/ into the new WORK_DIR first.

Seeded. Writes WORK_DIR/tokenizer/ (SentencePiece BPE, 256 pieces, trained on the training text),
WORK_DIR/checkpoints/last.ckpt every 250 steps (a rerun resumes from it), and WORK_DIR/model.nemo at the end;
with --keep-checkpoints also WORK_DIR/checkpoints/step=N.ckpt every 250 steps, which average.py averages.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

SEED = 1234
# 256 pieces (2.1 letters each) at 4x subsampling give 3.2 encoder frames (40 ms) per token on this fast
# synthetic speech. At 8x, 256 pieces gave 1.6 frames per token, too few for CTC; 2,048 pieces gave 2.6, but
# they were mostly whole words, and the model missed 61% of the test words seen 3-19 times in training
# (run 7). The 4x encoder costs about a quarter more per step here (73 against 100 s of audio per second),
# not twice: its subsampling convolutions are cheaper.
VOCAB_SIZE = 256
D_MODEL = 144
N_LAYERS = 8
SUBSAMPLING_CHANNELS = 64
SUBSAMPLING_FACTOR = 4
# Width of the prediction network and joint of the optional RNN-T head (--head hybrid).
PRED_HIDDEN = 96
CTC_LOSS_WEIGHT = 0.5
ATT_CONTEXT_SIZE = [70, 13]
# No dropout: with 0.1 the model was still under-fitted after two hours (training-batch WER as high as the
# validation WER), and drawing the dropout masks took 13% of the CPU step (torch profiler); without it a step
# is about 20% faster.
DROPOUT = 0.0


def train_tokenizer(manifest: Path, out: Path) -> Path:
    import sentencepiece as spm

    if (out / "tokenizer.model").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    texts = [json.loads(line)["text"] for line in manifest.read_text().splitlines()]
    (out / "text.txt").write_text("\n".join(texts) + "\n")
    spm.SentencePieceTrainer.train(
        input=str(out / "text.txt"), model_prefix=str(out / "tokenizer"), vocab_size=VOCAB_SIZE, model_type="bpe",
        character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0, num_threads=2, minloglevel=2,
    )  # fmt: skip
    vocab = [line.split("\t")[0] for line in (out / "tokenizer.vocab").read_text().splitlines()]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return out


# Runs at 2e-3 with a 500-step warmup (and SpecAugment) stayed at the CTC plateau for thousands of steps;
# this peak, a warmup over the first quarter and no SpecAugment left it by step 1,500 (run 4, see README).
# Runs 7 and 8 left it as early with a warmup over the first 15%.
PEAK_LR = 1e-3
WARMUP_FRACTION = 0.15
# A model that goes on training is past the plateau; it only needs the optimizer's moments re-estimated.
CONTINUED_WARMUP_FRACTION = 0.05


def model_config(
    data: Path, tokenizer_dir: Path, max_steps: int, head: str = "ctc", spec_augment: bool = False,
    warmup_fraction: float = WARMUP_FRACTION, peak_lr: float = PEAK_LR,
) -> dict:  # fmt: skip
    cfg = {
        "sample_rate": 16000,
        "tokenizer": {"dir": str(tokenizer_dir), "type": "bpe"},
        "preprocessor": {
            "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
            "sample_rate": 16000, "normalize": "NA", "window_size": 0.025, "window_stride": 0.01,
            "window": "hann", "features": 80, "n_fft": 512, "log": True, "frame_splicing": 1, "dither": 1e-5,
            "pad_to": 0, "pad_value": 0.0,
        },
        "spec_augment": {
            "_target_": "nemo.collections.asr.modules.SpectrogramAugmentation",
            "freq_masks": 2, "time_masks": 2, "freq_width": 15, "time_width": 0.05,
        },
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": 80, "feat_out": -1, "n_layers": N_LAYERS, "d_model": D_MODEL,
            "subsampling": "dw_striding", "subsampling_factor": SUBSAMPLING_FACTOR,
            "subsampling_conv_channels": SUBSAMPLING_CHANNELS,
            "causal_downsampling": True, "ff_expansion_factor": 4, "self_attention_model": "rel_pos",
            "n_heads": 4, "att_context_size": ATT_CONTEXT_SIZE, "att_context_style": "chunked_limited",
            "xscaling": True, "untie_biases": True, "pos_emb_max_len": 5000, "conv_kernel_size": 9,
            "conv_norm_type": "layer_norm", "conv_context_size": "causal", "dropout": DROPOUT,
            "dropout_pre_encoder": DROPOUT, "dropout_emb": 0.0, "dropout_att": DROPOUT,
        },
        "decoder": {"_target_": "nemo.collections.asr.modules.ConvASRDecoder", "feat_in": D_MODEL,
                    "num_classes": -1, "vocabulary": []},
        "train_ds": {
            "manifest_filepath": str(data / "train.json"), "sample_rate": 16000, "batch_size": 32,
            "shuffle": True, "num_workers": 0, "pin_memory": False, "max_duration": 16.0, "min_duration": 0.3,
        },
        "validation_ds": {
            "manifest_filepath": str(data / "val.json"), "sample_rate": 16000, "batch_size": 32,
            "shuffle": False, "num_workers": 0, "pin_memory": False,
        },
        "optim": {
            "name": "adamw", "lr": peak_lr, "betas": [0.9, 0.98], "weight_decay": 1e-3,
            "sched": {"name": "CosineAnnealing", "warmup_steps": int(max_steps * warmup_fraction), "min_lr": 1e-5,
                      "max_steps": max_steps},
        },
    }  # fmt: skip
    if not spec_augment:
        del cfg["spec_augment"]
    if head == "hybrid":
        # RNN-T head (prediction network + joint) with the CTC head kept as an auxiliary loss.
        ctc_decoder = cfg.pop("decoder")
        cfg["model_defaults"] = {"enc_hidden": D_MODEL, "pred_hidden": PRED_HIDDEN, "joint_hidden": PRED_HIDDEN}
        cfg["decoder"] = {
            "_target_": "nemo.collections.asr.modules.RNNTDecoder", "normalization_mode": None,
            "random_state_sampling": False, "blank_as_pad": True,
            "prednet": {"pred_hidden": PRED_HIDDEN, "pred_rnn_layers": 1, "t_max": None, "dropout": 0.1},
        }
        cfg["joint"] = {
            "_target_": "nemo.collections.asr.modules.RNNTJoint", "log_softmax": None, "preserve_memory": False,
            "fuse_loss_wer": True, "fused_batch_size": 8,
            "jointnet": {"joint_hidden": PRED_HIDDEN, "activation": "relu", "dropout": 0.1},
        }
        cfg["decoding"] = {"strategy": "greedy_batch", "greedy": {"max_symbols": 10}}
        cfg["aux_ctc"] = {"ctc_loss_weight": CTC_LOSS_WEIGHT, "decoder": ctc_decoder, "decoding": {"strategy": "greedy"}}
        cfg["loss"] = {"loss_name": "default"}
    return cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--max-steps", type=int, default=8500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--head", choices=["ctc", "hybrid"], default="ctc",
                        help="CTC only, or hybrid RNN-T + CTC (EncDecHybridRNNTCTCBPEModel)")
    parser.add_argument("--peak-lr", type=float, default=PEAK_LR,
                        help=f"peak learning rate (default {PEAK_LR}; 2e-3 was ahead at 2,000 steps, see README)")
    parser.add_argument("--spec-augment", action="store_true", help="mask time and frequency bands (off by default)")
    parser.add_argument("--keep-checkpoints", action="store_true",
                        help="keep every checkpoint (WORK_DIR/checkpoints/step=N.ckpt, 50 MB each), for average.py")
    parser.add_argument("--encoder-from", type=Path, metavar="CTC.nemo",
                        help="with --head hybrid: copy and freeze this CTC model's encoder and CTC head, train the "
                             "RNN-T head only")
    parser.add_argument("--continue-from", type=Path, metavar="MODEL.nemo",
                        help="start from this trained model's weights (same head type and tokenizer) with a fresh "
                             "schedule")
    args = parser.parse_args()
    if args.encoder_from and args.head != "hybrid":
        parser.error("--encoder-from needs --head hybrid")

    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.callbacks import ModelCheckpoint
    from nemo.collections.asr.models import EncDecCTCModelBPE, EncDecHybridRNNTCTCBPEModel
    from omegaconf import OmegaConf

    torch.set_num_threads(args.threads)
    pl.seed_everything(SEED, workers=True)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    # A small validation set: the first 192 held-out sentences spoken by training voices.
    val_rows = (args.data_dir / "test_seen_voices.json").read_text().splitlines()[:192]
    (args.data_dir / "val.json").write_text("\n".join(val_rows) + "\n")
    tokenizer_dir = train_tokenizer(args.data_dir / "train.json", args.work_dir / "tokenizer")
    warmup = CONTINUED_WARMUP_FRACTION if args.continue_from else WARMUP_FRACTION
    cfg = OmegaConf.create(
        model_config(args.data_dir, tokenizer_dir, args.max_steps, args.head, args.spec_augment, warmup, args.peak_lr)
    )
    if args.encoder_from:
        cfg.aux_ctc.ctc_loss_weight = 0.0  # the CTC head is frozen: its loss would only cost time
    checkpoints = args.work_dir / "checkpoints"
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_steps=args.max_steps, precision=32, logger=False,
        enable_progress_bar=False, log_every_n_steps=50, val_check_interval=1000, check_val_every_n_epoch=None,
        num_sanity_val_steps=0, gradient_clip_val=1.0,
        callbacks=[ModelCheckpoint(dirpath=checkpoints, save_last=True, save_top_k=-1 if args.keep_checkpoints else 0,
                                   every_n_train_steps=250, filename="{step}"),
                   _Progress()] + ([_FrozenInEvalMode()] if args.encoder_from else []),
    )  # fmt: skip
    model_class = EncDecHybridRNNTCTCBPEModel if args.head == "hybrid" else EncDecCTCModelBPE
    model = model_class(cfg=cfg, trainer=trainer)
    if args.continue_from:
        copy_weights(model, model_class.restore_from(str(args.continue_from), map_location="cpu"), args.continue_from)
    if args.encoder_from:
        copy_and_freeze_ctc_model(model, args.encoder_from)
    model._train_dl = _bucketed_loader(model._train_dl, cfg.train_ds.batch_size)
    print(f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M", flush=True)
    resume = checkpoints / "last.ckpt"
    start = time.time()
    trainer.fit(model, ckpt_path=str(resume) if resume.exists() else None)
    print(f"training took {(time.time() - start) / 60:.1f} min", flush=True)
    model.save_to(str(args.work_dir / "model.nemo"))


def _check_same_tokenizer(model, source, source_path: Path) -> None:
    theirs = [source.tokenizer.ids_to_tokens([i])[0] for i in range(source.tokenizer.vocab_size)]
    ours = [model.tokenizer.ids_to_tokens([i])[0] for i in range(model.tokenizer.vocab_size)]
    if theirs != ours:
        raise SystemExit(f"{source_path} has a different tokenizer than {model.cfg.tokenizer.dir}")


def copy_weights(model, source, source_path: Path) -> None:
    """All weights of a trained model of the same architecture (strict: a missing or extra tensor is an
    error)."""
    _check_same_tokenizer(model, source, source_path)
    model.load_state_dict(source.state_dict())


def copy_and_freeze_ctc_model(hybrid, ctc_nemo: Path) -> None:
    """Loads a CTC model's encoder and CTC decoder into the hybrid model and freezes them, so the hybrid's
    CTC head computes exactly what the CTC model did."""
    from nemo.collections.asr.models import EncDecCTCModelBPE

    ctc = EncDecCTCModelBPE.restore_from(str(ctc_nemo), map_location="cpu")
    _check_same_tokenizer(hybrid, ctc, ctc_nemo)
    hybrid.encoder.load_state_dict(ctc.encoder.state_dict())
    hybrid.ctc_decoder.load_state_dict(ctc.decoder.state_dict())
    for module in (hybrid.encoder, hybrid.ctc_decoder):
        module.freeze()


class _FrozenInEvalMode:
    """Keeps the frozen encoder and CTC head in eval mode (no dropout) while the RNN-T head trains: Lightning
    puts the whole model in train mode at every epoch and after every validation (a Lightning callback)."""

    def __new__(cls):
        import lightning.pytorch as pl

        class FrozenInEvalMode(pl.Callback):
            def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
                pl_module.encoder.eval()
                pl_module.ctc_decoder.eval()

        return FrozenInEvalMode()


def _bucketed_loader(loader, batch_size: int):
    """The same dataset in batches of similar durations. Random batches pad to their longest utterance and
    spent about half of the compute on padding; this roughly doubles the training throughput."""
    import torch

    durations = [entry.duration for entry in loader.dataset.manifest_processor.collection]
    return torch.utils.data.DataLoader(
        loader.dataset, batch_sampler=_DurationBuckets(durations, batch_size), collate_fn=loader.collate_fn,
        num_workers=0,
    )


class _DurationBuckets:
    """Each epoch: shuffle, sort pools of 64 batches by duration, cut into batches, shuffle the batches."""

    def __init__(self, durations: list[float], batch_size: int, pool_batches: int = 64):
        self.durations = durations
        self.batch_size = batch_size
        self.pool = batch_size * pool_batches
        self.epoch = 0

    def __len__(self) -> int:
        return (len(self.durations) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        import random

        rng = random.Random(SEED + self.epoch)
        self.epoch += 1
        order = list(range(len(self.durations)))
        rng.shuffle(order)
        batches = []
        for start in range(0, len(order), self.pool):
            pool = sorted(order[start : start + self.pool], key=self.durations.__getitem__)
            batches += [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
        rng.shuffle(batches)
        return iter(batches)


class _Progress:
    """Prints loss, learning rate and throughput every 50 steps (a Lightning callback)."""

    def __new__(cls):
        import lightning.pytorch as pl

        class Progress(pl.Callback):
            def __init__(self):
                self.t0 = time.time()
                self.audio = 0.0

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                self.audio += float(batch[1].sum()) / 16000
                step = trainer.global_step
                if step % 50 == 0:
                    loss = float(outputs["loss"]) if isinstance(outputs, dict) else float(outputs)
                    lr = trainer.optimizers[0].param_groups[0]["lr"]
                    elapsed = time.time() - self.t0
                    print(f"step {step} loss {loss:.3f} lr {lr:.2e} {self.audio / elapsed:.0f} s audio/s "
                          f"{elapsed / 60:.1f} min", flush=True)

            def on_validation_end(self, trainer, pl_module):  # after the model has logged its metrics
                metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if "wer" in k or "val" in k}
                print(f"validation at step {trainer.global_step}: {metrics}", flush=True)

        return Progress()


if __name__ == "__main__":
    main()
