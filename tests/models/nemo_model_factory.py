"""Builds small random-weight NeMo streaming FastConformer models for tests (needs NeMo; used by the golden
writer and the live-NeMo tests, never by the runtime)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from pathlib import Path

CHAR_LABELS = [" ", *string.ascii_lowercase, "'"]


@dataclass(frozen=True)
class ModelRecipe:
    """One test model configuration."""

    name: str
    model_class: str = "EncDecCTCModel"  # or EncDecCTCModelBPE, EncDecHybridRNNTCTCBPEModel, EncDecRNNTBPEModel
    features: int = 80
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    att_context_size: tuple = ((70, 13),)  # several entries: a multi-lookahead model
    conv_kernel_size: int = 9
    subsampling_factor: int = 8
    subsampling_channels: int = 0  # 0: d_model
    vocab_size: int = 32  # BPE models only
    seed: int = 0
    streaming: bool = True
    extra_preprocessor: dict = field(default_factory=dict)
    tdt_durations: tuple = ()  # a TDT transducer (EncDecRNNTBPEModel) when given
    max_symbols: int = 10      # greedy transducer decoding: most symbols per frame
    pred_hidden: int = 64
    pred_rnn_layers: int = 1
    blank_bias: float = 0.0    # added to the joint's blank logit (transducers)
    transducer_noise: float = 0.3  # extra weight noise of the prediction network and joint
    joint_dropout: float = 0.0     # NVIDIA's checkpoints train with 0.2, which puts a Dropout in joint_net
    cased: bool = False            # a vocabulary with capitals and punctuation (as Nemotron's)
    pos_emb_max_len: int = 512     # the relative-position table: offline graphs cover inputs up to this (frames)


def preprocessor_config(spec: ModelRecipe) -> dict:
    return {
        "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
        "sample_rate": 16000, "normalize": "NA" if spec.streaming else "per_feature", "window_size": 0.025,
        "window_stride": 0.01, "window": "hann", "features": spec.features, "n_fft": 512, "log": True,
        "frame_splicing": 1, "dither": 1e-5, "pad_to": 0 if spec.streaming else 16, "pad_value": 0.0,
        **spec.extra_preprocessor,
    }  # fmt: skip


def encoder_config(spec: ModelRecipe) -> dict:
    att = [list(a) for a in spec.att_context_size]
    cfg = {
        "_target_": "nemo.collections.asr.modules.ConformerEncoder",
        "feat_in": spec.features, "feat_out": -1, "n_layers": spec.n_layers, "d_model": spec.d_model,
        "subsampling": "dw_striding", "subsampling_factor": spec.subsampling_factor,
        "subsampling_conv_channels": spec.subsampling_channels or spec.d_model, "ff_expansion_factor": 4, "self_attention_model": "rel_pos",
        "n_heads": spec.n_heads, "xscaling": True, "untie_biases": True, "pos_emb_max_len": spec.pos_emb_max_len,
        "conv_kernel_size": spec.conv_kernel_size, "conv_norm_type": "layer_norm" if spec.streaming else "batch_norm",
        "dropout": 0.0, "dropout_pre_encoder": 0.0, "dropout_emb": 0.0, "dropout_att": 0.0,
    }  # fmt: skip
    if spec.streaming:
        cfg.update({
            "causal_downsampling": True, "att_context_style": "chunked_limited", "conv_context_size": "causal",
            "att_context_size": att if len(att) > 1 else att[0],
        })  # fmt: skip
        if len(att) > 1:
            cfg["att_context_probs"] = [1.0 / len(att)] * len(att)
    else:
        cfg.update({"causal_downsampling": False, "att_context_size": [-1, -1]})
    return cfg


def make_tokenizer(directory: Path, vocab_size: int, cased: bool = False) -> Path:
    """A SentencePiece BPE tokenizer trained on a fixed English text, as NeMo BPE models use."""
    import sentencepiece as spm

    directory.mkdir(parents=True, exist_ok=True)
    text = directory / "text.txt"
    words = ("the quick brown fox jumps over the lazy dog streaming speech recognition should give the same "
             "words as the reference every time numbers like one two three four five six seven eight nine ten "
             "are spelled out and apostrophes don't break it").split()
    lines = [" ".join(words[i:] + words[:i]) for i in range(len(words))]
    if vocab_size > 200:  # large vocabularies (benchmark models) need more distinct text: seeded pseudo-words
        rng = random.Random(vocab_size)
        syllables = [c + v for c in "bcdfghklmnprstvwz" for v in "aeiou"] + ["th", "sh", "ch", "ng", "st"]
        lines += [" ".join("".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(12))
                  for _ in range(4000)]
    if cased:  # sentences as a punctuated, capitalized model writes them
        rng = random.Random(vocab_size + 1)
        lines = [line[:1].upper() + line[1:] + rng.choice([".", "?", "!", ","]) for line in lines]
        lines = [" ".join(w.capitalize() if rng.random() < 0.15 else w for w in line.split()) for line in lines]
    text.write_text("\n".join(lines) + "\n")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(directory / "tokenizer"), vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0, num_threads=1, minloglevel=2,
    )  # fmt: skip
    (directory / "vocab.txt").write_text(
        "\n".join(line.split("\t")[0] for line in (directory / "tokenizer.vocab").read_text().splitlines()) + "\n"
    )
    return directory


def transducer_config(spec: ModelRecipe) -> dict:
    """Prediction network, joint, loss and greedy decoding of an RNN-T (or TDT) head."""
    hidden = spec.pred_hidden
    durations = list(spec.tdt_durations)
    cfg = {
        "model_defaults": {"enc_hidden": spec.d_model, "pred_hidden": hidden, "joint_hidden": hidden},
        "decoder": {
            "_target_": "nemo.collections.asr.modules.RNNTDecoder", "normalization_mode": None,
            "random_state_sampling": False, "blank_as_pad": True,
            "prednet": {"pred_hidden": hidden, "pred_rnn_layers": spec.pred_rnn_layers, "t_max": None,
                        "dropout": 0.0},
        },
        "joint": {
            "_target_": "nemo.collections.asr.modules.RNNTJoint", "log_softmax": None, "preserve_memory": False,
            "fuse_loss_wer": False, "fused_batch_size": 4,
            "jointnet": {"joint_hidden": hidden, "activation": "relu", "dropout": spec.joint_dropout},
        },
        "decoding": {"strategy": "greedy_batch", "greedy": {"max_symbols": spec.max_symbols}},
        "loss": {"loss_name": "default"},
    }  # fmt: skip
    if durations:
        cfg["model_defaults"]["tdt_durations"] = durations
        cfg["joint"]["num_extra_outputs"] = len(durations)
        cfg["decoding"].update({"model_type": "tdt", "durations": durations})
        cfg["loss"] = {"loss_name": "tdt", "tdt_kwargs": {"durations": durations, "sigma": 0.02, "omega": 0.1}}
    return cfg


def build_model(spec: ModelRecipe, workdir: Path):
    """A NeMo model of the given spec with seeded random weights, in eval mode."""
    import torch
    from nemo.collections.asr import models
    from omegaconf import OmegaConf

    torch.manual_seed(spec.seed)
    cfg = {
        "sample_rate": 16000,
        "preprocessor": preprocessor_config(spec),
        "encoder": encoder_config(spec),
        "train_ds": None, "validation_ds": None, "test_ds": None, "optim": None,
    }  # fmt: skip
    ctc_decoder = {"_target_": "nemo.collections.asr.modules.ConvASRDecoder", "feat_in": spec.d_model}
    if spec.model_class == "EncDecCTCModel":
        cfg["labels"] = CHAR_LABELS
        cfg["decoder"] = {**ctc_decoder, "num_classes": len(CHAR_LABELS), "vocabulary": CHAR_LABELS}
        model = models.EncDecCTCModel(cfg=OmegaConf.create(cfg))
    else:
        tok_dir = make_tokenizer(workdir / f"{spec.name}_tokenizer", spec.vocab_size, spec.cased)
        cfg["tokenizer"] = {"dir": str(tok_dir), "type": "bpe"}
        cfg["decoder"] = {**ctc_decoder, "num_classes": -1, "vocabulary": []}
        if spec.model_class == "EncDecCTCModelBPE":
            model = models.EncDecCTCModelBPE(cfg=OmegaConf.create(cfg))
        elif spec.model_class == "EncDecHybridRNNTCTCBPEModel":
            cfg.update(transducer_config(spec))
            cfg["aux_ctc"] = {
                "ctc_loss_weight": 0.3,
                "decoder": {**ctc_decoder, "num_classes": -1, "vocabulary": []},
                "decoding": {"strategy": "greedy"},
            }
            model = models.EncDecHybridRNNTCTCBPEModel(cfg=OmegaConf.create(cfg))
        elif spec.model_class == "EncDecRNNTBPEModel":
            del cfg["decoder"]
            cfg.update(transducer_config(spec))
            model = models.EncDecRNNTBPEModel(cfg=OmegaConf.create(cfg))
        else:
            raise ValueError(spec.model_class)
    # Random LayerNorm/bias defaults are too tame to exercise anything: perturb every parameter.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        if hasattr(model, "joint"):
            # Larger noise makes the prediction network and joint decisive, so that float rounding (NeMo's
            # batched vs per-utterance greedy) does not flip near-tied argmaxes. An untrained joint never
            # predicts blank; favour it so that greedy decoding meets every case: blank frames, several
            # symbols on one frame, and frames that reach max_symbols.
            for p in [*model.joint.parameters(), *model.decoder.parameters()]:
                p.add_(torch.randn_like(p) * spec.transducer_noise)
            output = model.joint.joint_net[-1]
            output.bias[model.decoder.blank_idx] += spec.blank_bias
            # The blank's embedding row is the padding row: zero in every NeMo model (never trained), and
            # NeMo's batched greedy decoding starts from it where the per-utterance one uses zeros.
            model.decoder.prediction["embed"].weight[model.decoder.blank_idx] = 0.0
    model.eval()
    return model
