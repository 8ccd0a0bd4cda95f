"""Stream.pop_update, the one event stream of a live transcript (the core's StreamUpdate), as nemo-fast stream and
the server send it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import nemo_fast
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
EXAMPLE = ROOT / "examples" / "speech_example.wav"


def test_pop_update_hands_out_each_final_once_and_only_changed_partials():
    """The event stream nemo-fast stream and the server send: finals in order with their indices, the growing
    segment's text only when it changed; joined, the finals are the whole transcript."""
    recognizer = nemo_fast.Recognizer(SHIPPED, decoding="greedy",
                                      endpoint=nemo_fast.EndpointConfig(rule2=nemo_fast.EndpointRule(True, 0.3, 0.0)))
    clip, rate = read_audio(EXAMPLE)
    audio = np.concatenate([clip, np.zeros(rate, clip.dtype), clip])  # two utterances and a pause
    stream = recognizer.create_stream()
    finals, partials, indices = [], [], []
    for start in range(0, len(audio), 1600):
        stream.accept_waveform(audio[start:start + 1600], rate)
        update = stream.pop_update()
        assert update.first_segment == len(finals)
        finals += update.finals
        if update.partial is not None:
            assert not partials or update.partial != partials[-1] or update.finals
            partials.append(update.partial)
            indices.append(update.partial_segment)
    stream.input_finished()
    last = stream.pop_update()
    finals += last.finals
    assert stream.pop_update() == nemo_fast.StreamUpdate(len(finals), [], None)  # nothing changed since
    whole = recognizer.transcribe_segments(audio, sample_rate=rate)
    assert [s.text for s in finals] == [s.text for s in whole] and len(finals) >= 2
    assert partials and indices == sorted(indices) and set(indices) >= set(range(len(finals)))
    stream.reset()
    stream.accept_waveform(clip[:rate], rate)
    assert stream.pop_update().first_segment == 0
