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
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v version="$version" -v sums="$sums" '
  /^# BEGIN PIN/ {
    print
    print "HB_PINNED_VERSION=\"" version "\""
    print "HB_PINNED_SUMS=\""
    while ((getline line < sums) > 0) if (line ~ /[^ ]/) print line
    print "\""
    skipping = 1
    next
  }
  /^# END PIN/ { skipping = 0 }
  !skipping
' "$script" >"$tmp"
cat "$tmp" >"$script"
