"""The browser page of `nemo-fast serve` in a real headless Chromium whose microphone plays a WAV file: the page
captures it with an AudioWorklet, streams it over /v1/stream and shows the transcript with times.

Chromium's fake microphone starts playing before the page listens, so the page never sends the file from its first
sample; the shipped model's words depend on where chunks fall, so the test records what the page sends and checks
(1) that it is the file's audio and (2) that the page shows the transcript of exactly that audio."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from server_process import start_server

import nemo_fast
from nemo_fast.audio import read_audio

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "speech_example.wav"
TOKEN = "page-token"


def _chromium(scratch: Path, fake_microphone: Path):
    require_module("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/setup_test_env.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,420",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={fake_microphone}%noloop",
                 "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    # Chromium keeps its scratch files in TMPDIR: a folder the test removes, of a short name (the path of
    # Chromium's socket in it must fit a Unix socket address, 108 bytes; pytest-xdist's folders are deeper). It
    # does not run under the sanitizer tier's preloaded runtime (that is for nemo_fast's extension).
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return webdriver.Chrome(service=Service(driver, env={**env, "TMPDIR": str(scratch)}), options=options)


# Wraps WebSocket.send so the test can read back every audio message the page sent.
RECORD_SENT = """
window.sentAudio = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  if (data instanceof ArrayBuffer) window.sentAudio.push(...new Float32Array(data));
  return send.call(this, data);
};
"""


def test_the_page_transcribes_the_microphone(tmp_path):
    """One second of silence, speech, three seconds of silence from the fake microphone (at the device's
    44.1 kHz): the page sends the file's samples, and shows one final line whose text is the in-process
    transcript of exactly what it sent, with its times; the screenshot is the README's."""
    require_module("aiohttp")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    speech16, _ = read_audio(EXAMPLE)
    rate = 44100  # headless Chromium's fake device rate: the samples reach the page unresampled
    speech = np.interp(np.arange(len(speech16) * rate // 16000) * 16000 / rate, np.arange(len(speech16)),
                       speech16).round().astype("<i2")
    microphone = tmp_path / "microphone.wav"
    with wave.open(str(microphone), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.concatenate([np.zeros(rate, "<i2"), speech, np.zeros(3 * rate, "<i2")]).tobytes())

    server = start_server(tmp_path, "--token", TOKEN)
    scratch = tempfile.TemporaryDirectory(prefix="nemo_fast-chromium-")
    browser = None
    try:
        browser = _chromium(Path(scratch.name), microphone)
        browser.get(f"http://{server.address}/?token={TOKEN}")
        browser.execute_script(RECORD_SENT)
        browser.find_element(By.ID, "start").click()
        line = WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#finals .final"))[0]
        time_text = line.find_element(By.CLASS_NAME, "time").text
        shown = line.text[len(time_text):].strip()
        browser.save_screenshot(str(tmp_path / "page.png"))
        context_rate = browser.execute_script("return context.sampleRate")
        sent = np.array(browser.execute_script("return window.sentAudio"), np.float32)
    finally:  # also when Chromium does not start: the server is not left running
        if browser is not None:
            browser.quit()
        server.stop(signal.SIGKILL)
        scratch.cleanup()

    assert context_rate == rate
    # (1) The page sent the file: nearly every 10 ms block of its speech is in what was sent, sample for sample
    # (Chromium's fake device may drop a block when the machine is busy, as a real one would).
    found = _blocks_found(speech, np.round(sent * 32768).astype(np.int64), rate // 100)
    assert found >= 0.9, f"only {found:.0%} of the file's 10 ms blocks reached the server"
    # (2) The page shows the server's transcript of that audio, with its times.
    recognizer = nemo_fast.Recognizer(ROOT / "models" / "default")
    expected = recognizer.transcribe_segments(sent, sample_rate=rate)[0]
    assert shown == expected.text and shown
    start, end = (float(t) for t in time_text.strip("[]").split(" - "))
    assert (start, end) == pytest.approx((expected.start_seconds, expected.end_seconds), abs=0.006)  # shown to 0.01
    assert 0 <= start < end <= len(sent) / rate
    if os.environ.get("NEMO_FAST_PAGE_SCREENSHOT"):  # refreshes docs/images/demo_page.png
        shutil.copy(tmp_path / "page.png", os.environ["NEMO_FAST_PAGE_SCREENSHOT"])


def _blocks_found(speech: np.ndarray, sent: np.ndarray, block: int) -> float:
    """The fraction of `speech`'s blocks (with sound) that appear, exactly, somewhere in `sent`."""
    key = 16
    where: dict[bytes, list[int]] = {}
    for i in range(len(sent) - key + 1):
        where.setdefault(sent[i:i + key].tobytes(), []).append(i)
    speech = speech.astype(np.int64)
    blocks = [speech[i:i + block] for i in range(0, len(speech) - block + 1, block)]
    blocks = [b for b in blocks if np.count_nonzero(b[:key]) > key // 2]
    found = sum(any(np.array_equal(sent[i:i + block], b) for i in where.get(b[:key].tobytes(), ())) for b in blocks)
    return found / len(blocks)
