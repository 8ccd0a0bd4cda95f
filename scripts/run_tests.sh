#!/usr/bin/env bash
# The test command (what CI runs). Sets up the environment (scripts/setup_test_env.sh), checks the style
# (scripts/check_style.sh), runs the whole suite with every tier required -- unit, golden, live NeMo parity,
# C++ -- then the sanitizer tier (scripts/run_sanitizer_tests.sh). Extra arguments go to the main pytest run. Set PYTHON to use another
# interpreter; NEMO_FAST_SKIP_SANITIZERS=1 leaves the sanitizer tier out.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

bash scripts/setup_test_env.sh
bash scripts/check_style.sh

echo "== running the tests"
# Run from tests/ so that the installed package, not the source tree, is imported.
(cd tests && NEMO_FAST_REQUIRE_ALL=1 "$python" -m pytest "$@")

if [ "${NEMO_FAST_SKIP_SANITIZERS:-0}" != 1 ]; then
  bash scripts/run_sanitizer_tests.sh -q
fi
