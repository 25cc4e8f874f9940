#!/usr/bin/env bash
# Lays out the release binaries as the Dockerfile's prebuilt stage reads them, CONTEXT/bin/<arch>/heartbeat,
# so the image carries the very binaries the archives carry (one build, one checksum).
#   scripts/image.sh CONTEXT TARGET=PATH...
# Then, in the release:  docker buildx build --platform linux/amd64,linux/arm64 --build-arg BINARY=prebuilt \
#                          -f Dockerfile --push -t IMAGE:VERSION CONTEXT
# Prints the platforms it laid out (linux/amd64,...). Only static Linux binaries belong in the image: macOS
# targets are left out; anything else is refused. Exit codes: 0 done, 1 refused, 2 usage.
set -euo pipefail
[ "$#" -ge 2 ] || { sed -n '4p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }
context=$1
shift
platforms=()
for pair in "$@"; do
  target=${pair%%=*} binary=${pair#*=}
  case "$target" in
    x86_64-unknown-linux-musl) arch=amd64 ;;
    aarch64-unknown-linux-musl) arch=arm64 ;;
    *-apple-darwin) continue ;;
    *) echo "image: no image platform for target '$target'" >&2; exit 1 ;;
  esac
  [ -f "$binary" ] || { echo "image: $binary is not a file" >&2; exit 1; }
  mkdir -p "$context/bin/$arch"
  install -m 0755 "$binary" "$context/bin/$arch/heartbeat"
  platforms+=("linux/$arch")
done
[ "${#platforms[@]}" -gt 0 ] || { echo "image: no Linux binary given" >&2; exit 1; }
(IFS=,; echo "${platforms[*]}")
