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


def ctc_head(model) -> nn.Module:
    """The CTC decoder of a CTC or hybrid RNN-T/CTC model."""
    return model.ctc_decoder if hasattr(model, "ctc_decoder") else model.decoder


class CacheAwareCtcExport(nn.Module):
    """Encoder step with caches (batch-first layout) + CTC head, for one lookahead of the model.

    Inputs: audio_signal (B, F, T), length (B,), cache_last_channel (B, L, C, D), cache_last_time
    (B, L, D, K), cache_last_channel_len (B,), drop_extra_pre_encoded () int64.
    Outputs: log_probs (B, T', V) for every output frame, encoded_lengths (B,), and the next caches.
    """

    def __init__(self, model):
        super().__init__()
        self.encoder = model.encoder
        self.decoder = ctc_head(model)
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
        log_probs = self.decoder(encoder_output=encoded)
        return (log_probs, encoded_len, channel_next.transpose(0, 1), time_next.transpose(0, 1), channel_len_next)


class OfflineCtcExport(nn.Module):
    """Whole-utterance encoder + CTC head. Inputs: audio_signal (B, F, T), length (B,).
    Outputs: log_probs (B, T', V), encoded_lengths (B,)."""

    def __init__(self, model):
        super().__init__()
        self.encoder = model.encoder
        self.decoder = ctc_head(model)

    def forward(self, audio_signal, length):
        encoded, encoded_len = self.encoder.forward_internal(audio_signal, length)[:2]
        return self.decoder(encoder_output=encoded), encoded_len
