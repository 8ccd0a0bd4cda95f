"""Text-to-speech voices available from Debian (espeak-ng, flite, festival), each rendering text to a
16 kHz mono float32 array. Which voices train and which are held out is decided in make_data.py."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000

ESPEAK_ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-029", "en-us-nyc",
                  "en-gb-x-gbcwmd"]  # fmt: skip
ESPEAK_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
                   "klatt3", "croak", "whisper"]  # fmt: skip
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]
FESTIVAL_VOICES = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]


@dataclass(frozen=True)
class Voice:
    engine: str  # espeak-ng, flite, festival
    name: str    # accent[+variant], flite voice, festival voice

    @property
    def id(self) -> str:
        return f"{self.engine}:{self.name}"


def all_voices() -> list[Voice]:
    voices = [Voice("espeak-ng", a + (f"+{v}" if v else "")) for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS]
    voices += [Voice("flite", v) for v in FLITE_VOICES]
    voices += [Voice("festival", v) for v in FESTIVAL_VOICES]
    return voices


def _decode_wav(data: bytes) -> np.ndarray:
    import soundfile
    import soxr

    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    audio = audio[:, 0]
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)
    return audio


def synthesize(voice: Voice, text: str, rate: float = 1.0, pitch: int = 50) -> np.ndarray:
    """Speak text; rate scales the speaking speed (1.0 = the voice's default), pitch 0..99 (espeak-ng)."""
    if voice.engine == "espeak-ng":
        cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(175 * rate)), "-p", str(pitch), "--stdout", text]
        return _decode_wav(subprocess.run(cmd, capture_output=True, check=True).stdout)
    if voice.engine == "flite":
        with tempfile.NamedTemporaryFile(suffix=".wav") as out:
            cmd = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={1.0 / rate:.3f}", "-t", text, "-o", out.name]
            subprocess.run(cmd, capture_output=True, check=True)
            return _decode_wav(open(out.name, "rb").read())
    if voice.engine == "festival":
        with tempfile.TemporaryDirectory() as tmp:
            txt = os.path.join(tmp, "t.txt")
            wav = os.path.join(tmp, "t.wav")
            with open(txt, "w") as f:
                f.write(text + "\n")
            cmd = ["text2wave", "-eval", f"(voice_{voice.name})", txt, "-o", wav]
            subprocess.run(cmd, capture_output=True, check=True)
            return _decode_wav(open(wav, "rb").read())
    raise ValueError(voice.engine)
