"""Torch modules traced into the ONNX graphs nemo_fast runs. Needs torch and NeMo (export time only).

NeMo's own export of a cache-aware encoder bakes two per-chunk choices into the graph: the number of
pre-encoded frames dropped after subsampling (`drop_extra_pre_encoded`, which NeMo sets to 0 for the first
chunk of its default streaming mode) and the truncation of the outputs to `valid_out_len` (which NeMo skips
for the last chunk, `keep_all_outputs`). The wrapper here makes the drop a graph input and returns every
output frame, so the runtime applies both rules exactly as NeMo's `conformer_stream_step` does.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from nemo_fast.export.nemo_model import ctc_head


class _DynamicDropPreEncode(nn.Module):
    """Wraps the encoder's subsampling module and drops the first `drop` output frames, `drop` being a
    tensor that flows from a graph input (slicing with a Python int would be frozen by tracing)."""

    def __init__(self, pre_encode: nn.Module):
        super().__init__()
        self.inner = pre_encode
        self.drop = None

    def forward(self, x, lengths):
        out, lengths = self.inner(x=x, lengths=lengths)
        if self.drop is None:
            return out, lengths
        keep = torch.arange(self.drop, out.size(1), device=out.device)
        out = torch.index_select(out, 1, keep)
        lengths = (lengths.to(torch.int64) - self.drop).clamp(min=0)
        return out, lengths

    # NeMo calls these on its subsampling module.
    def get_sampling_frames(self):
        return self.inner.get_sampling_frames()

    def get_streaming_cache_size(self):
        return self.inner.get_streaming_cache_size()


class _MaskedSubsamplingConvs(nn.Module):
    """NeMo's MaskedConvSequential (the subsampling convolutions that zero the frames past each utterance's
    length) with the same results and a fraction of the work.

    NeMo multiplies the whole (B, C, T, F) activation by a mask expanded to that shape before every layer,
    nine times in dw_striding. Only a layer that mixes frames in time can carry padding into a valid frame,
    so here the mask is applied before those layers and once at the end, as a (B, 1, T, 1) broadcast: the
    valid frames see the same arithmetic, and the padded ones end up zero as in NeMo. In a streaming graph
    this is about 200 fewer nodes and 10% of the shipped model's int8 step.
    """

    def __init__(self, convs: nn.Sequential):
        super().__init__()
        self.layers = convs

    @staticmethod
    def _mixes_time(layer: nn.Module) -> bool:
        if isinstance(layer, (nn.ReLU, nn.SiLU, nn.Identity)):
            return False
        if type(layer) is nn.Conv2d:  # NeMo's CausalConv2D, a subclass, pads in time: it mixes time
            return layer.kernel_size[0] != 1 or layer.stride[0] != 1
        return True

    def forward(self, x, lengths):
        from nemo.collections.asr.parts.submodules.subsampling import calculate_conv_output_size

        x = x.unsqueeze(1)  # (B, 1, T, F)
        current_lengths = lengths.clone().float()  # NeMo's length arithmetic, kept bit for bit
        for layer in self.layers:
            if self._mixes_time(layer):
                x = x * self._mask(x, current_lengths)
            x = layer(x)
            if hasattr(layer, "stride") and layer.stride != (1, 1):
                padding = (layer._left_padding, layer._right_padding) if hasattr(layer, "_left_padding") else layer.padding
                current_lengths = calculate_conv_output_size(current_lengths, layer.kernel_size[0], layer.stride[0],
                                                             padding)  # fmt: skip
        return x * self._mask(x, current_lengths), current_lengths.long()

    @staticmethod
    def _mask(x, lengths):
        frames = torch.arange(x.size(2), device=x.device)
        return (frames[None, :] < lengths.long()[:, None]).to(x.dtype)[:, None, :, None]


@contextlib.contextmanager
def lean_subsampling_masks(encoder: nn.Module):
    """While exporting, run the encoder's masked subsampling convolutions as _MaskedSubsamplingConvs."""
    from nemo.collections.asr.parts.submodules.subsampling import MaskedConvSequential

    pre_encode = encoder.pre_encode
    swaps = []
    if type(getattr(pre_encode, "conv", None)) is MaskedConvSequential:
        swaps = [(pre_encode, "conv", _MaskedSubsamplingConvs(pre_encode.conv))]
    with _modules_swapped(swaps):
        yield


class _PointwiseConvAsMatMul(nn.Module):
    """A 1-D convolution of kernel 1 written as a matrix product over the channels, the same arithmetic.

    ONNX Runtime runs a Conv one batch row at a time (on a 2-frame streaming chunk, a matrix-vector
    product per row) and never pre-packs its weights; a MatMul over all rows does both. Measured on the
    large model, [70,1], 2 threads: 8 batched streams 122 -> 106 ms per chunk, one stream 36 -> 32 ms.
    """

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach()[:, :, 0], requires_grad=False)
        self.bias = conv.bias

    def forward(self, x):  # x: (B, C_in, T)
        return nn.functional.linear(x.transpose(1, 2), self.weight, self.bias).transpose(1, 2)


def _is_pointwise_conv(module: nn.Module) -> bool:
    return (type(module) is nn.Conv1d and module.kernel_size == (1,) and module.stride == (1,)
            and module.dilation == (1,) and module.groups == 1 and module.padding in ((0,), "valid")
            and module.padding_mode == "zeros")  # fmt: skip


class _DepthwiseConvAs2d(nn.Module):
    """NeMo's CausalConv1D (the conformer's depthwise convolution, with its streaming cache) computed as a
    2-D convolution over a (B, C, 1, T) view, the same products and sums per output.

    ONNX Runtime's 1-D depthwise Conv loops over the channels one small GEMM at a time; its 2-D depthwise
    kernel does not. Measured for 512 channels, kernel 9, a 2-frame chunk: 142 -> 22 us at 1 thread, 80 -> 24
    us at 2 (the large model has one per layer).
    """

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        self.conv = conv
        self.weight = nn.Parameter(conv.weight.detach()[:, :, None, :], requires_grad=False)  # (C, 1, 1, K)

    def forward(self, x, cache=None):
        x, cache_next = self.conv.update_cache(x, cache=cache)
        y = nn.functional.conv2d(x[:, :, None, :], self.weight, self.conv.bias, groups=self.conv.groups)[:, :, 0, :]
        return y if cache is None else (y, cache_next)


def _is_depthwise_causal_conv(module: nn.Module) -> bool:
    from nemo.collections.asr.parts.submodules.causal_convs import CausalConv1D

    return (type(module) is CausalConv1D and module.groups == module.in_channels == module.out_channels
            and module.stride == (1,) and module.dilation == (1,) and module.padding_mode == "zeros")  # fmt: skip


@contextlib.contextmanager
def _modules_swapped(swaps: list[tuple[nn.Module, str, nn.Module]]):
    """Sets each (parent, attribute name, replacement) for the duration, then puts the originals back."""
    originals = [(parent, name, getattr(parent, name)) for parent, name, _ in swaps]
    for parent, name, replacement in swaps:
        setattr(parent, name, replacement)
    try:
        yield
    finally:
        for parent, name, original in originals:
            setattr(parent, name, original)


@contextlib.contextmanager
def convolutions_for_onnxruntime(model: nn.Module):
    """While exporting, swap the model's pointwise nn.Conv1d layers for _PointwiseConvAsMatMul and its
    depthwise CausalConv1D layers for _DepthwiseConvAs2d."""
    swaps = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if _is_pointwise_conv(child):
                swaps.append((parent, name, _PointwiseConvAsMatMul(child)))
            elif _is_depthwise_causal_conv(child):
                swaps.append((parent, name, _DepthwiseConvAs2d(child)))
    with _modules_swapped(swaps):
        yield


class _KeyValueCachedAttention(nn.Module):
    """NeMo's relative-position self-attention, caching the past frames' keys and values instead of its input.

    NeMo's cache_last_channel holds each layer's normalized input for the last C frames, and every step
    projects all C + T frames to keys and values again; on a 2-frame chunk with C = 70 that is 36 times the
    projection work the new frames need, and it grows with the batch. This module caches the projected
    keys and values (last dimension 2 * d_model: keys, then values) and projects only the new frames. The
    arithmetic per frame is NeMo's; a frame's key is computed once instead of at every step it stays in the
    window. Cache frames NeMo would hold as zeros (before the stream has C frames) are masked either way.
    The query, key and value projections run as one matrix product whose last 2 * d_model columns are the
    new frames' cache entries.

    It also takes the relative-position projection linear_pos(pos_emb) from a table computed at export. In a
    streaming step pos_emb is a fixed slice of the sinusoid table, 2 (C + T) - 1 rows, whatever the audio, and
    projecting it was the largest matrix product of the step (at C = 70, T = 2: 143 rows against 2 for every
    other projection). `positions_t` holds linear_pos of the rows for inputs of up to `max_len` = C + T
    frames, split into heads and transposed; the scores against the whole table are cut to the columns
    NeMo's pos_emb would have given (a slice of T rows, not of the table).

    The next cache is left in `cache_next` for CacheAwareEncoderExport, which stacks the layers' caches in
    the graph's layout directly instead of taking NeMo's stacked, sliced and transposed copy.
    """

    def __init__(self, attention: nn.Module, positions_t: torch.Tensor, max_len: int):
        super().__init__()
        self.attention = attention
        self.register_buffer("positions_t", positions_t, persistent=False)
        self.max_len = max_len
        a = attention
        self.qkv_weight = nn.Parameter(torch.cat([a.linear_q.weight, a.linear_k.weight, a.linear_v.weight]).detach(),
                                       requires_grad=False)  # fmt: skip
        biases = [a.linear_q.bias, a.linear_k.bias, a.linear_v.bias]
        self.qkv_bias = None if biases[0] is None else nn.Parameter(torch.cat(biases).detach(), requires_grad=False)
        self.cache_next = None

    def forward(self, query, key, value, mask, pos_emb, cache=None):
        a = self.attention
        if cache is None:
            return a(query=query, key=key, value=value, mask=mask, pos_emb=pos_emb)
        n, d, cache_len, new_len = query.size(0), a.h * a.d_k, cache.size(1), query.size(1)
        qkv = nn.functional.linear(query, self.qkv_weight, self.qkv_bias)  # (B, T, 3D): q, then the cache entries
        keys_values = qkv[:, :, d:]  # (B, T, 2D), new frames only
        window = torch.cat([cache, keys_values], dim=1)  # (B, C + T, 2D)
        self.cache_next = window[:, -cache_len:, :]  # no frames dropped (cache_drop_size 0, chunked_limited)

        q = qkv[:, :, :d].reshape(n, -1, a.h, a.d_k)  # (B, T, H, d_k)
        k = window[:, :, :d].reshape(n, -1, a.h, a.d_k).transpose(1, 2)  # (B, H, C + T, d_k)
        v = window[:, :, d:].reshape(n, -1, a.h, a.d_k).transpose(1, 2)
        q_with_bias_u = (q + a.pos_bias_u).transpose(1, 2)
        q_with_bias_v = (q + a.pos_bias_v).transpose(1, 2)
        matrix_ac = torch.matmul(q_with_bias_u, k.transpose(-2, -1))
        input_len = cache_len + new_len  # pos_emb has 2 * input_len - 1 rows
        first = self.max_len - input_len
        matrix_bd = torch.matmul(q_with_bias_v, self.positions_t)[:, :, :, first : first + 2 * input_len - 1]
        matrix_bd = a.rel_shift(matrix_bd)[:, :, :, :input_len]
        scores = (matrix_ac + matrix_bd) / a.s_d_k
        return a.forward_attention(v, scores, mask), self.cache_next


def _projected_positions_t(encoder: nn.Module, attention: nn.Module, max_len: int) -> torch.Tensor:
    """linear_pos of the rows of the encoder's sinusoid table that inputs of up to max_len frames use,
    as (1, heads, d_k, 2 * max_len - 1); column max_len - 1 is relative position 0."""
    pos_enc = encoder.pos_enc
    pos_enc.extend_pe(max_len, pos_enc.pe.device, pos_enc.pe.dtype)
    centre = pos_enc.pe.size(1) // 2 + 1  # NeMo's RelPositionalEncoding.forward
    rows = pos_enc.pe[:, centre - max_len : centre + max_len - 1]
    projected = attention.linear_pos(rows)
    return projected.view(1, -1, attention.h, attention.d_k).permute(0, 2, 3, 1).contiguous()


def _max_streaming_input_len(encoder: nn.Module) -> int:
    """C + T for the largest chunk a streaming step takes (chunk plus pre-encode cache, none dropped)."""
    cfg = encoder.streaming_cfg
    as_list = lambda v: list(v) if isinstance(v, (list, tuple)) else [v]  # noqa: E731
    frames = max(as_list(cfg.chunk_size)) + max(as_list(cfg.pre_encode_cache_size))
    features = torch.zeros(1, frames, encoder._feat_in)
    subsampled, _ = encoder.pre_encode(x=features, lengths=torch.tensor([frames]))
    return subsampled.size(1) + int(cfg.last_channel_cache_size)


@contextlib.contextmanager
def key_value_attention_caches(encoder: nn.Module):
    """While exporting a streaming encoder, cache keys and values in cache_last_channel and take the
    position projections from a table (see _KeyValueCachedAttention); the encoder's streaming parameters
    must be set up. Yields the swapped attention modules, one per layer, or an empty list when some layer
    has another attention kind (absolute or local positions) or drops cache frames (NeMo's cache_drop_size,
    0 for chunked_limited attention): then every layer keeps NeMo's input cache."""
    from nemo.collections.asr.parts.submodules.multi_head_attention import RelPositionMultiHeadAttention

    layers = list(encoder.layers)
    swaps = []
    if all(type(layer.self_attn) is RelPositionMultiHeadAttention and layer.self_attention_model == "rel_pos"
           and layer.self_attn.cache_drop_size == 0 for layer in layers):  # fmt: skip
        max_len = _max_streaming_input_len(encoder)
        swaps = [(layer, "self_attn", _KeyValueCachedAttention(
            layer.self_attn, _projected_positions_t(encoder, layer.self_attn, max_len), max_len)) for layer in layers]
    with _modules_swapped(swaps):
        yield [attention for _, _, attention in swaps]


class _EncoderHeads(nn.Module):
    """What the encoder graph returns per output frame: CTC log-probs and/or the transducer joint's
    projection of the encoder output (computed once per frame here instead of once per decoding step)."""

    def __init__(self, model, heads: tuple[str, ...]):
        super().__init__()
        self.heads = heads
        self.ctc = ctc_head(model) if "ctc" in heads else None
        self.joint = model.joint if "transducer" in heads else None

    def forward(self, encoded):  # encoded: (B, D, T)
        outputs = []
        if self.ctc is not None:
            outputs.append(self.ctc(encoder_output=encoded))
        if self.joint is not None:
            outputs.append(self.joint.project_encoder(encoded.transpose(1, 2)))
        return outputs


class CacheAwareEncoderExport(nn.Module):
    """Encoder step with caches (batch-first layout) + the heads' per-frame outputs, for one lookahead.

    Inputs: audio_signal (B, F, T), length (B,), cache_last_channel (B, L, C, D), cache_last_time
    (B, L, D, K), cache_last_channel_len (B,), drop_extra_pre_encoded () int64.
    Outputs: [log_probs (B, T', V)] [transducer_encoder (B, T', H)] for every output frame,
    encoded_lengths (B,), and the next caches.
    """

    def __init__(self, model, heads: tuple[str, ...], key_value_attentions=()):
        super().__init__()
        self.encoder = model.encoder
        self.heads = _EncoderHeads(model, heads)
        self.key_value_attentions = list(key_value_attentions)  # from key_value_attention_caches, or none
        if not isinstance(self.encoder.pre_encode, _DynamicDropPreEncode):
            self.encoder.pre_encode = _DynamicDropPreEncode(self.encoder.pre_encode)
        # The drop happens in the wrapper; NeMo's fixed drop must not happen a second time.
        self.encoder.streaming_cfg.drop_extra_pre_encoded = 0

    def forward(self, audio_signal, length, cache_last_channel, cache_last_time, cache_last_channel_len,
                drop_extra_pre_encoded):
        self.encoder.pre_encode.drop = drop_extra_pre_encoded
        try:
            encoded, encoded_len, channel_next, time_next, channel_len_next = self.encoder.forward_internal(
                audio_signal,
                length,
                cache_last_channel=cache_last_channel.transpose(0, 1),
                cache_last_time=cache_last_time.transpose(0, 1),
                cache_last_channel_len=cache_last_channel_len,
            )
        finally:
            self.encoder.pre_encode.drop = None
        if self.key_value_attentions:
            # Each layer's cache already has C frames; NeMo's stacked copy is then unused and leaves the graph.
            channel_next = torch.stack([attention.cache_next for attention in self.key_value_attentions], dim=1)
        else:
            cache_size = self.encoder.streaming_cfg.last_channel_cache_size
            if cache_size > 0:
                channel_next = channel_next[:, :, -cache_size:, :]
            channel_next = channel_next.transpose(0, 1)
        return (*self.heads(encoded), encoded_len, channel_next, time_next.transpose(0, 1), channel_len_next)


class OfflineEncoderExport(nn.Module):
    """Whole-utterance encoder + the heads' per-frame outputs. Inputs: audio_signal (B, F, T), length (B,).
    Outputs: [log_probs (B, T', V)] [transducer_encoder (B, T', H)], encoded_lengths (B,)."""

    def __init__(self, model, heads: tuple[str, ...]):
        super().__init__()
        self.encoder = model.encoder
        self.heads = _EncoderHeads(model, heads)

    def forward(self, audio_signal, length):
        encoded, encoded_len = self.encoder.forward_internal(audio_signal, length)[:2]
        return (*self.heads(encoded), encoded_len)


class PredictionStepExport(nn.Module):
    """One step of the transducer's prediction network, projected for the joint.

    Inputs: targets (B, 1) int64, states_h and states_c (L, B, H). Outputs: decoder_output (B, H_joint),
    states_h_next, states_c_next. A target equal to the blank id gives the zero embedding NeMo uses for
    its start-of-sequence step (`predict(None, state)`), whatever the embedding table holds for it.
    """

    def __init__(self, model):
        super().__init__()
        self.decoder = model.decoder
        self.joint = model.joint
        self.blank_id = int(model.decoder.blank_idx)

    def forward(self, targets, states_h, states_c):
        is_token = targets != self.blank_id
        embedded = self.decoder.prediction["embed"](torch.where(is_token, targets, torch.zeros_like(targets)))
        embedded = embedded * is_token.unsqueeze(-1).to(embedded.dtype)
        output, (h, c) = self.decoder.prediction["dec_rnn"](embedded.transpose(0, 1), (states_h, states_c))
        return self.joint.project_prednet(output.transpose(0, 1))[:, 0, :], h, c


class JointExport(nn.Module):
    """The joint after both projections. Inputs: encoder_output (B, H), decoder_output (B, H).

    RNN-T: log_probs (B, V) normalized as NeMo's greedy decoding on CPU normalizes them. TDT: log_probs
    (B, V) over the tokens and duration_log_probs (B, D) over the durations, each normalized on its own."""

    def __init__(self, model, num_durations: int):
        super().__init__()
        self.joint = model.joint
        self.num_durations = num_durations

    def forward(self, encoder_output, decoder_output):
        logits = self.joint.joint_after_projection(encoder_output[:, None, :], decoder_output[:, None, :])[:, 0, 0, :]
        if self.num_durations == 0:
            return logits.log_softmax(dim=-1)
        tokens, durations = logits[:, : -self.num_durations], logits[:, -self.num_durations :]
        return tokens.log_softmax(dim=-1), durations.log_softmax(dim=-1)
