#!/usr/bin/env bash
# Writes the version and checksums the orb's install script trusts: the one generated place for both.
#   scripts/pin-orb.sh VERSION SHA256SUMS [INSTALL_SH]   (INSTALL_SH defaults to orb/src/scripts/install.sh)
set -euo pipefail
[ "$#" -ge 2 ] || { echo "usage: scripts/pin-orb.sh VERSION SHA256SUMS [INSTALL_SH]" >&2; exit 2; }
version=$1 sums=$2
script=${3:-$(cd "$(dirname "$0")/.." && pwd)/orb/src/scripts/install.sh}
if ! grep -q '^# BEGIN PIN' "$script" || ! grep -q '^# END PIN' "$script"; then
  echo "$script has no PIN block" >&2
  exit 1
fi
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "pin-orb: version '$version' is not X.Y.Z" >&2; exit 2; }
# Only lines of exactly the expected form reach the install script: a 64-digit hex digest and an archive of
# this version. Anything else (a crafted name could be shell code inside the double-quoted pin) stops it.
archive="heartbeat-${version//./\\.}-[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(-[a-z0-9_]+)?\\.tar\\.gz"
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%$'\r'}
  [ -n "${line//[[:space:]]/}" ] || continue
  if ! [[ "$line" =~ ^[0-9a-fA-F]{64}\ [\ *]$archive$ ]]; then
    echo "pin-orb: refusing a SHA256SUMS line that is not '<sha256>  heartbeat-$version-<target>.tar.gz'" >&2
    exit 1
  fi
done <"$sums"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v version="$version" -v sums="$sums" '
  /^# BEGIN PIN/ {
    print
    print "HB_PINNED_VERSION=\"" version "\""
    print "HB_PINNED_SUMS=\""
    while ((getline line < sums) > 0) { sub(/\r$/, "", line); if (line ~ /[^ ]/) print tolower(substr(line, 1, 64)) substr(line, 65) }
    print "\""
    skipping = 1
    next
  }
  /^# END PIN/ { skipping = 0 }
  !skipping
' "$script" >"$tmp"
cat "$tmp" >"$script"
