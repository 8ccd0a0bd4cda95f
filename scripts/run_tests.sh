#!/usr/bin/env bash
# The test command (what CI runs). Sets up the environment (scripts/setup_test_env.sh), checks the style
# (scripts/check_style.sh), runs the whole suite with every tier required -- unit, golden, live NeMo parity,
# C++ -- then the sanitizer tier (scripts/run_sanitizer_tests.sh). See usage() below.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

usage() {
  cat <<'USAGE'
usage: bash scripts/run_tests.sh [--quick] [PYTEST ARGUMENTS...]

  (no option)  what CI runs: installs the test environment (Debian packages, torch, NeMo, this package),
               checks the style, runs every tier (NEMO_FAST_REQUIRE_ALL=1), then the sanitizer tier
  --quick      installs only this package with its test extra and runs the tests that need neither NeMo
               nor the C++ toolchain (pytest -m "not nemo and not cpp"); nothing else is installed
  -h, --help   this text

Other arguments go to pytest (e.g. -k beam -x). Environment: PYTHON (the interpreter), NEMO_FAST_SKIP_SANITIZERS=1
(leave the sanitizer tier out).
USAGE
}

quick=0
pytest_args=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --quick) quick=1 ;;
    *) pytest_args+=("$arg") ;;
  esac
done

if [ "$quick" = 1 ]; then
  echo "== installing nemo_fast with its test extra"
  "$python" -m pip install -q ".[cpu,test]"
  "$python" -m pip install -q --no-deps "pyctcdecode==0.5.0"  # see setup_test_env.sh
  echo "== running the tests that need neither NeMo nor the C++ toolchain"
  cd tests
  exec "$python" -m pytest -m "not nemo and not cpp" "${pytest_args[@]}"
fi

bash scripts/setup_test_env.sh
bash scripts/check_style.sh

echo "== running the tests"
# Run from tests/ so that the installed package, not the source tree, is imported.
(cd tests && NEMO_FAST_REQUIRE_ALL=1 "$python" -m pytest --durations=25 "${pytest_args[@]}")

if [ "${NEMO_FAST_SKIP_SANITIZERS:-0}" != 1 ]; then
  bash scripts/run_sanitizer_tests.sh -q
fi
