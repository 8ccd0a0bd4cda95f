#!/usr/bin/env bash
# Fetch the ONNX Runtime C/C++ API headers (Debian 13 "trixie" libonnxruntime-dev, API version 21)
# into a local prefix, for building against the library inside the onnxruntime wheel.
#
# The wheel ships the shared library but no headers, and no PyPI package ships them. The archive URI
# is read from this machine's own apt configuration; a separate source list, lists directory and
# cache keep the machine's apt state untouched.
#
# Usage: fetch_onnxruntime_headers.sh DEST_DIR
# Result: DEST_DIR/include/onnxruntime_cxx_api.h (and the other public headers).
set -euo pipefail

dest=${1:?usage: $0 DEST_DIR}
suite=${NEMO_FAST_ORT_DEBIAN_SUITE:-trixie}
package=libonnxruntime-dev

if [ -f "$dest/include/onnxruntime_cxx_api.h" ]; then
  exit 0
fi

# The first Debian archive URI named in the machine's apt configuration (deb822 or one-line style).
archive_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) print $i; break } }' "$f"
  done
}

uri=$(archive_uri | head -n 1)
if [ -z "$uri" ]; then
  echo "fetch_onnxruntime_headers: no Debian archive URI found in /etc/apt; set ONNXRUNTIME_ROOT instead" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$uri" "$suite" > "$work/sources.list"

apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "APT::Get::List-Cleanup=0"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_opts[@]}" -qq update
(cd "$work/deb" && apt-get "${apt_opts[@]}" -qq download "$package")
dpkg -x "$work"/deb/*.deb "$work/root"

header=$(find "$work/root" -name onnxruntime_cxx_api.h | head -n 1)
if [ -z "$header" ]; then
  echo "fetch_onnxruntime_headers: $package has no onnxruntime_cxx_api.h" >&2
  exit 1
fi
mkdir -p "$dest/include"
cp -r "$(dirname "$header")"/. "$dest/include/"
echo "ONNX Runtime headers from Debian $suite $package in $dest/include"
