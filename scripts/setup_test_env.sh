#!/usr/bin/env bash
# Installs what the whole test suite needs on a fresh Debian 12 machine with Python 3.11 (as root, as on CI):
#   - GoogleTest (Debian libgtest-dev) for the C++ unit tests, ffmpeg for the audio-format tests, Chromium and its
#     WebDriver for the browser-page test;
#   - torch 2.13.0 (CPU) and nemo-toolkit[asr] 3.0.0, the reference for the live parity tests;
#   - this package with its test extras.
# Set PYTHON to use another interpreter (e.g. a virtual environment's).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

have_gtest() {
  compgen -G "/usr/lib/*/libgtest.a" > /dev/null || [ -f /usr/lib/libgtest.a ] || [ -f /usr/local/lib/libgtest.a ]
}
debian=()
have_gtest || debian+=(libgtest-dev)
command -v ffmpeg > /dev/null || debian+=(ffmpeg)  # audio formats libsndfile does not read
command -v chromium > /dev/null || debian+=(chromium)
command -v chromedriver > /dev/null || debian+=(chromium-driver)
if [ ${#debian[@]} -gt 0 ]; then
  echo "== installing ${debian[*]} (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debian[@]}" > /dev/null
fi

echo "== installing torch (CPU) and NeMo, the test reference"
"$python" -m pip install -q torch==2.13.0
"$python" -m pip install -q "nemo-toolkit[asr]==3.0.0"

echo "== installing nemo_fast"
"$python" -m pip install -q ".[cpu,test]"
# pyctcdecode, the beam-search reference: its numpy<2 pin is older than the numpy NeMo needs and it runs on
# numpy 2, so it goes in without its pins (kenlm and pygtrie come with the test extra).
"$python" -m pip install -q --no-deps "pyctcdecode==0.5.0"
# silero-vad: the VAD model nemo_fast runs, and the reference its tests compare with (its torch is NeMo's).
"$python" -m pip install -q --no-deps "silero-vad==6.2.3"

# The onnxruntime-gpu wheel (not installed: it would clash with onnxruntime) for the test that runs nemo_fast
# against its library alone.
wheels=build/wheels
if ! compgen -G "$wheels/onnxruntime_gpu-*.whl" > /dev/null; then
  echo "== downloading the onnxruntime-gpu wheel"
  "$python" -m pip download -q --no-deps -d "$wheels" "onnxruntime-gpu==1.31.1"
fi
