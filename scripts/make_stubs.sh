#!/usr/bin/env bash
# Writes nemo_fast/_core.pyi, the type stub of the C++ extension, from the installed extension
# (pybind11-stubgen). tests/test_public_api.py fails when the committed stub is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
out=$(mktemp -d)
(cd "$out" && "$python" -m pybind11_stubgen nemo_fast._core -o "$out" > /dev/null)
cp "$out/nemo_fast/_core.pyi" nemo_fast/_core.pyi
rm -rf "$out"
echo "wrote nemo_fast/_core.pyi"
