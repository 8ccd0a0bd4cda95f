"""NeMo's own streaming inference, the oracle for parity checks (needs torch and NeMo).

`nemo_streaming_log_probs` runs exactly NeMo's loop of `speech_to_text_cache_aware_streaming_infer.py`:
a CacheAwareStreamingAudioBuffer cuts the preprocessed audio into chunks, and `conformer_stream_step`
runs each with the caches of the previous one, dropping no pre-encoded frames on the first chunk in the
default mode and keeping all outputs of the last chunk.
"""

from __future__ import annotations

import numpy as np

from nemo_fast.export.nemo_model import ctc_head


def nemo_streaming_log_probs(model, audio: np.ndarray, pad_and_drop_preencoded: bool = False):
    """Per-frame CTC log-probs (frames, vocab) and greedy token ids of NeMo streaming one utterance."""
    use_head(model, "ctc")
    pieces = []
    total = 0
    for result in _stream_steps(model, audio, pad_and_drop_preencoded, return_log_probs=True):
        log_probs, encoded_len = result[6], result[7]
        new = int(encoded_len[0]) - total
        total = int(encoded_len[0])
        pieces.append(log_probs[0, :new].float().numpy())
    vocab = _ctc_vocab_size(model)
    log_probs = np.concatenate(pieces) if pieces else np.zeros((0, vocab), np.float32)
    return log_probs, greedy_ctc(log_probs, blank_id=vocab - 1)


def nemo_streaming_transducer_tokens(model, audio: np.ndarray, pad_and_drop_preencoded: bool = False) -> list[int]:
    """Token ids of NeMo streaming one utterance with its transducer head and configured greedy decoding
    (the hypothesis, with the prediction network state, carried from chunk to chunk)."""
    use_head(model, "rnnt")
    tokens: list[int] = []
    for result in _stream_steps(model, audio, pad_and_drop_preencoded, return_log_probs=False):
        hypothesis = result[5][0]
        tokens = [int(t) for t in hypothesis.y_sequence]
    return tokens


def nemo_offline_transducer_tokens(model, audio: np.ndarray) -> list[int]:
    """Token ids of NeMo's whole-utterance forward pass and its configured greedy transducer decoding:
    what `transcribe` returns for inputs of at least one second (`transcribe` pads shorter arrays with
    zeros to one second, on both sides; nemo_fast recognizes the audio as given)."""
    import torch

    use_head(model, "rnnt")
    signal = torch.from_numpy(np.asarray(audio, dtype=np.float32))[None]
    with torch.inference_mode():
        features, length = model.preprocessor(input_signal=signal, length=torch.tensor([signal.shape[1]]))
        encoded, encoded_len = model.encoder(audio_signal=features, length=length)
        hypotheses = model.decoding.rnnt_decoder_predictions_tensor(
            encoder_output=encoded, encoded_lengths=encoded_len, return_hypotheses=True
        )
    if isinstance(hypotheses, tuple):  # older NeMo: (best, all)
        hypotheses = hypotheses[0]
    return [int(t) for t in hypotheses[0].y_sequence]


def use_head(model, head: str) -> None:
    """Selects the CTC or transducer head of a hybrid model (other models have one head), in eval mode
    (NeMo's `transcribe` can leave the encoder in training mode, where batch norm and dropout differ)."""
    model.eval()
    if hasattr(model, "cur_decoder") and model.cur_decoder != head:
        model.change_decoding_strategy(decoder_type=head, verbose=False)


def _stream_steps(model, audio, pad_and_drop_preencoded: bool, return_log_probs: bool):
    """NeMo's streaming loop; yields conformer_stream_step's result for each chunk."""
    import torch
    from nemo.collections.asr.parts.utils.streaming_utils import CacheAwareStreamingAudioBuffer

    buffer = CacheAwareStreamingAudioBuffer(
        model=model, online_normalization=False, pad_and_drop_preencoded=pad_and_drop_preencoded
    )
    buffer.append_audio(np.asarray(audio, dtype=np.float32))
    cache_channel, cache_time, cache_channel_len = model.encoder.get_initial_cache_state(batch_size=1)
    drop_later = model.encoder.streaming_cfg.drop_extra_pre_encoded
    previous_pred, previous_hypotheses = None, None
    for step, (chunk, lengths) in enumerate(iter(buffer)):
        drop = 0 if (step == 0 and not pad_and_drop_preencoded) else drop_later
        with torch.inference_mode():
            result = model.conformer_stream_step(
                processed_signal=chunk,
                processed_signal_length=lengths,
                cache_last_channel=cache_channel,
                cache_last_time=cache_time,
                cache_last_channel_len=cache_channel_len,
                keep_all_outputs=buffer.is_buffer_empty(),
                previous_hypotheses=previous_hypotheses,
                previous_pred_out=previous_pred,
                drop_extra_pre_encoded=drop,
                return_transcription=True,
                return_log_probs=return_log_probs,
            )
        previous_pred, _, cache_channel, cache_time, cache_channel_len, previous_hypotheses = result[:6]
        yield result


def nemo_offline_log_probs(model, audio: np.ndarray):
    """Per-frame CTC log-probs and greedy tokens of NeMo's whole-utterance forward pass (eval mode)."""
    import torch

    use_head(model, "ctc")
    signal = torch.from_numpy(np.asarray(audio, dtype=np.float32))[None]
    with torch.inference_mode():
        features, length = model.preprocessor(input_signal=signal, length=torch.tensor([signal.shape[1]]))
        encoded, encoded_len = model.encoder(audio_signal=features, length=length)
        log_probs = ctc_head(model)(encoder_output=encoded)
    lp = log_probs[0, : int(encoded_len[0])].float().numpy()
    return lp, greedy_ctc(lp, blank_id=lp.shape[1] - 1)


def greedy_ctc(log_probs: np.ndarray, blank_id: int) -> list[int]:
    """NeMo's greedy CTC: argmax per frame (first maximum), collapse repeats, drop blanks."""
    tokens = []
    previous = blank_id
    for best in log_probs.argmax(axis=1).tolist():
        if best != blank_id and best != previous:
            tokens.append(best)
        previous = best
    return tokens


def nemo_text(model, tokens: list[int]) -> str:
    """NeMo's text for CTC token ids."""
    decoding = model.ctc_decoding if hasattr(model, "ctc_decoding") else model.decoding
    return decoding.decode_ids_to_str(tokens)


def nemo_transducer_text(model, tokens: list[int]) -> str:
    """NeMo's text for transducer token ids."""
    return model.decoding.decode_ids_to_str(tokens)


def _ctc_vocab_size(model) -> int:
    return ctc_head(model).num_classes_with_blank
