"""Log-mel features identical to NeMo's AudioToMelSpectrogramPreprocessor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nemo_fast import _core
from nemo_fast.config import fbank_options_from_nemo

FbankStream = _core.FbankStream


class ImprovedFbank(_core.ImprovedFbank):
    """Log-mel features identical to NeMo's preprocessor (eval mode), whole-utterance and incremental.

    ``compute(samples, sample_rate)`` returns the frames NeMo marks valid as a float32 array of shape
    ``(num_frames, feature_dim)``. ``create_stream()`` gives an :class:`FbankStream` whose
    ``accept_waveform(samples, sample_rate)`` returns frames as soon as they are final and whose
    ``input_finished()`` returns the rest; with ``normalize: NA`` or fixed statistics (global CMVN) they are
    bit-for-bit the frames of
    ``compute`` whatever the chunking. Samples may be float32/float64 in [-1, 1] or int16 PCM, 1-D, any
    stride; they are read in place, never copied on the Python side.

    Immutable and safe to share between threads; a stream belongs to one thread at a time.
    """

    @classmethod
    def from_nemo_config(
        cls, preprocessor: Mapping[str, Any], window_taps: Any = None, mel_weights: Any = None
    ) -> ImprovedFbank:
        """Features for a NeMo model config's ``preprocessor`` section (a dict or OmegaConf node), optionally
        with the checkpoint's own window and mel buffers (see :func:`nemo_fast.fbank_options_from_nemo`)."""
        return cls(fbank_options_from_nemo(preprocessor, window_taps, mel_weights))
