"""The model format's values read from a NeMo model (export time: needs NeMo). The format itself, the keys and
how they are written, is nemo_fast/model_format.py."""

from __future__ import annotations

from nemo_fast import model_format as fmt
from nemo_fast.export.nemo_model import is_transducer, max_symbols_per_step, tdt_durations


def model_metadata(model, decoders: list[str], default_decoder: str, streaming: bool, tokens: list[str],
                   vocabulary_type: str) -> dict[str, str]:
    """The keys every exported model has: model, heads, encoder sizes, vocabulary, features, transducer."""
    import nemo

    encoder = model.encoder
    meta = fmt.model_keys(
        model_class=type(model).__name__, nemo_version=nemo.__version__, streaming=streaming, feat_in=encoder._feat_in,
        subsampling_factor=encoder.subsampling_factor, d_model=encoder.d_model, n_layers=encoder.n_layers,
        vocab_size=len(tokens), vocabulary_type=vocabulary_type, features=feature_options(model),
    )  # fmt: skip
    meta.update(fmt.head_keys(decoders, default_decoder))
    if is_transducer(model):
        meta.update(transducer_metadata(model))
    return meta


def streaming_metadata(encoder, lookahead, channel, time, key_value_attentions: bool) -> dict[str, str]:
    """The streaming geometry (NeMo's streaming_cfg for the exported lookahead) and the cache layout."""
    cfg = encoder.streaming_cfg
    return fmt.streaming_keys(
        att_context_size=lookahead,
        att_context_sizes_available=getattr(encoder, "att_context_size_all", [lookahead]),
        chunk_size=cfg.chunk_size, shift_size=cfg.shift_size, pre_encode_cache_size=cfg.pre_encode_cache_size,
        sampling_frames=encoder.pre_encode.get_sampling_frames(),
        drop_extra_pre_encoded=cfg.drop_extra_pre_encoded, valid_out_len=cfg.valid_out_len,
        last_channel_cache_size=cfg.last_channel_cache_size,
        cache_last_channel_shape=(channel.shape[0], channel.shape[2], channel.shape[3]),
        cache_last_time_shape=(time.shape[0], time.shape[2], time.shape[3]),
        cache_last_channel_content="keys_values" if key_value_attentions else "inputs",
    )  # fmt: skip


def offline_metadata(encoder) -> dict[str, str]:
    """The position limit of an offline graph, read from the encoder's sinusoid table as exported (local
    attention has none)."""
    table = encoder.pos_enc.pe.size(1)
    if encoder.self_attention_model == "rel_pos":
        return fmt.offline_keys(table // 2 + 1)  # NeMo's centre: inputs of up to this length
    if encoder.self_attention_model == "abs_pos":
        return fmt.offline_keys(table)
    return fmt.offline_keys(None)


def feature_options(model):
    """The checkpoint's preprocessor as the core's FbankOptions, with its window taps and mel matrix."""
    from omegaconf import OmegaConf

    from nemo_fast.config import fbank_options_from_nemo

    featurizer = model.preprocessor.featurizer
    return fbank_options_from_nemo(
        OmegaConf.to_container(model.cfg.preprocessor, resolve=True),
        window_taps=featurizer.window.detach().float().numpy(),
        mel_weights=featurizer.fb[0].detach().float().numpy(),
    )


def transducer_metadata(model) -> dict[str, str]:
    rnn = model.decoder.prediction["dec_rnn"].lstm
    return fmt.transducer_keys(pred_rnn_layers=rnn.num_layers, pred_hidden=rnn.hidden_size,
                               joint_hidden=model.joint.joint_hidden, max_symbols_per_step=max_symbols_per_step(model),
                               durations=tdt_durations(model))  # fmt: skip
