#!/usr/bin/env bash
# Builds a release: checks the version agrees everywhere, builds static binaries, packs one archive per
# target plus SHA256SUMS into dist/, and pins the orb's install script to that version and those checksums.
#
#   scripts/release.sh VERSION [--prebuilt | --dry-run] [--binary TARGET=PATH]... [--out DIR]
#
# By default it builds x86_64-unknown-linux-musl, and aarch64-unknown-linux-musl when that target and an
# aarch64 linker are installed. --binary adds a binary built elsewhere; --prebuilt builds nothing and packs
# only those (CI, whose build jobs make every target). --dry-run is --prebuilt that also leaves the orb
# untouched: the pinned install script goes to DIR/orb/install.sh. Exit codes: 0 done, 1 refused, 2 usage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

version=""
build=1
dry_run=0
out=dist
binaries=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 build=0 ;;
    --prebuilt) build=0 ;;
    --binary) binaries+=("${2:?--binary needs TARGET=PATH}"); shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    -h | --help) usage ;;
    -*) echo "release: unknown option $1" >&2; usage ;;
    *) [ -z "$version" ] || usage; version=$1 ;;
  esac
  shift
done
version=${version#v}
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release: '$version' is not a semantic version like 0.1.0" >&2
  exit 2
fi

# One version for the binary and the orb: every place that names it must agree before anything is built.
problems=()
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ "$cargo_version" = "$version" ] || problems+=("Cargo.toml says $cargo_version")
grep -q "^## \[$version\]" CHANGELOG.md || problems+=("CHANGELOG.md has no '## [$version]' section (move the Unreleased notes under it)")
pinned=$(sed -n 's/^HB_PINNED_VERSION="\(.*\)"$/\1/p' orb/src/scripts/install.sh)
[ "$pinned" = "$version" ] || problems+=("the orb pins $pinned (orb/src/scripts/install.sh)")
if [ "${#problems[@]}" -gt 0 ]; then
  echo "release: refusing $version: the version does not agree everywhere:" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi

if [ "$build" -eq 1 ]; then
  targets=(x86_64-unknown-linux-musl)
  if rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-musl$' &&
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
    targets+=(aarch64-unknown-linux-musl)
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
  else
    echo "release: skipping aarch64-unknown-linux-musl here (no target or linker); CI builds it" >&2
  fi
  for target in "${targets[@]}"; do
    cargo build --release --locked --target "$target"
    binaries+=("$target=target/$target/release/heartbeat")
  done
fi
[ "${#binaries[@]}" -gt 0 ] || { echo "release: nothing to pack (give --binary TARGET=PATH)" >&2; exit 2; }

rm -rf "$out"
# The man page and completions come from a binary that runs here (they are the same for every target).
docs=$(mktemp -d)
trap 'rm -rf "$docs"' EXIT
for pair in "${binaries[@]}"; do
  if "${pair#*=}" man >"$docs/heartbeat.1" 2>/dev/null; then
    "${pair#*=}" completions bash >"$docs/heartbeat.bash"
    "${pair#*=}" completions zsh >"$docs/_heartbeat"
    "${pair#*=}" completions fish >"$docs/heartbeat.fish"
    "${pair#*=}" completions powershell >"$docs/_heartbeat.ps1"
    break
  fi
done
[ -s "$docs/heartbeat.1" ] || { echo "release: no given binary runs here to write the man page and completions" >&2; exit 1; }
export HEARTBEAT_DOCS=$docs
for pair in "${binaries[@]}"; do
  target=${pair%%=*}
  binary=${pair#*=}
  if [[ "$target" == *-linux-* ]] && ! file -b "$binary" | grep -Eq 'static(-pie)? linked|statically linked'; then
    echo "release: $binary is not statically linked; Linux releases must run on any image" >&2
    exit 1
  fi
  scripts/package.sh "$version" "$target" "$binary" "$out" >/dev/null
done

if [ "$dry_run" -eq 1 ]; then
  mkdir -p "$out/orb"
  cp orb/src/scripts/install.sh "$out/orb/install.sh"
  scripts/pin-orb.sh "$version" "$out/SHA256SUMS" "$out/orb/install.sh"
else
  scripts/pin-orb.sh "$version" "$out/SHA256SUMS"
fi

echo "release: heartbeat $version"
(cd "$out" && for archive in heartbeat-*.tar.gz; do printf '  %s  %s bytes\n' "$archive" "$(wc -c <"$archive" | tr -d ' ')"; done)
echo "  SHA256SUMS:"
sed 's/^/    /' "$out/SHA256SUMS"
