"""Torch modules traced into the ONNX graphs nemo_fast runs. Needs torch and NeMo (export time only).

NeMo's own export of a cache-aware encoder bakes two per-chunk choices into the graph: the number of
pre-encoded frames dropped after subsampling (`drop_extra_pre_encoded`, which NeMo sets to 0 for the first
chunk of its default streaming mode) and the truncation of the outputs to `valid_out_len` (which NeMo skips
for the last chunk, `keep_all_outputs`). The wrapper here makes the drop a graph input and returns every
output frame, so the runtime applies both rules exactly as NeMo's `conformer_stream_step` does.
"""

from __future__ import annotations

import torch
from torch import nn

from nemo_fast.export.exporter import ctc_head


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

    def __init__(self, model, heads: tuple[str, ...]):
        super().__init__()
        self.encoder = model.encoder
        self.heads = _EncoderHeads(model, heads)
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
        cache_size = self.encoder.streaming_cfg.last_channel_cache_size
        if cache_size > 0:
            channel_next = channel_next[:, :, -cache_size:, :]
        return (*self.heads(encoded), encoded_len, channel_next.transpose(0, 1), time_next.transpose(0, 1),
                channel_len_next)


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
