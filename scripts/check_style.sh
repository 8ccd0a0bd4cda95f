#!/usr/bin/env bash
# Style check (CI): ruff for Python (pyproject.toml), clang-format for C++ (.clang-format). Fix with
#   ruff check --fix . && find csrc examples -name '*.cc' -o -name '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
"$python" -m pip install -q "ruff==0.17.6" "clang-format==23.1.5"
"$python" -m ruff check .
clang_format=$("$python" -c "import clang_format; print(clang_format.get_executable('clang-format'))")
find csrc examples -name '*.cc' -o -name '*.h' | xargs "$clang_format" --dry-run --Werror
echo "style: clean"
