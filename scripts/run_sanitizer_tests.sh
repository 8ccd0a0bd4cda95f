#!/usr/bin/env bash
# The memory-safety tier: the core, the C++ tests and the Python extension built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any finding aborts), then the C++ unit tests and the Python suite's tests that
# do not need NeMo run against that build. Needs what scripts/setup_test_env.sh installs. Extra arguments go
# to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
build=build/sanitize
stage=$build/python

generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
echo "== building with ASan + UBSan in $build"
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEMO_FAST_SANITIZE=ON \
  -DNEMO_FAST_BUILD_TESTS=ON -DNEMO_FAST_BUILD_PYTHON=ON \
  -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$(command -v "$python")" > /dev/null
cmake --build "$build" -j "$(nproc)" --target nemo_fast_cpp_tests _core

echo "== C++ unit tests (sanitized)"
"$build/nemo_fast_cpp_tests" --gtest_brief=1

# The package as installed (Python sources, the shipped model) with the sanitized extension in it.
rm -rf "$stage" && mkdir -p "$stage/nemo_fast/models"
cp -r nemo_fast "$stage/"
cp "$build"/_core*.so "$stage/nemo_fast/"
cp -r models/default "$stage/nemo_fast/models/"

echo "== Python tests without NeMo (sanitized extension)"
# Python itself is not instrumented: the sanitizer runtime must be loaded first, and libstdc++ with it so
# that its operators new/delete are the intercepted ones. Python's own allocations look like leaks to ASan.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libstdc++.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PYTHONPATH="$PWD/$stage"
export NEMO_FAST_SANITIZED=1  # tests that time something skip: under the sanitizers they would time those
cd tests
"$python" -c "import nemo_fast; assert nemo_fast.__file__.startswith('$PYTHONPATH/'), nemo_fast.__file__" \
  || { echo "the sanitized build is not the one imported"; exit 1; }
# Its tests time nothing (NEMO_FAST_SANITIZED), so they run in parallel: a worker per core, at most four, each
# test file on one worker (module fixtures such as a server are built once).
workers=$(( $(nproc) < 4 ? $(nproc) : 4 ))
exec "$python" -m pytest -p no:cacheprovider -m "not nemo and not cpp" -n "$workers" --dist loadfile --durations=15 "$@"
