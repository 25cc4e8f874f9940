#!/usr/bin/env bash
# Packs one built binary as a release archive and refreshes the directory's SHA256SUMS.
#   scripts/package.sh VERSION TARGET BINARY OUTDIR
# Writes OUTDIR/heartbeat-VERSION-TARGET.tar.gz holding heartbeat-VERSION-TARGET/{heartbeat,README.md,LICENSE,
# CHANGELOG.md} and, from $HEARTBEAT_DOCS when set, the man page (heartbeat.1) and completions/, reproducibly
# (sorted, owner 0, mtime of the last commit), then OUTDIR/SHA256SUMS for all archives.
set -euo pipefail
[ "$#" -eq 4 ] || { echo "usage: scripts/package.sh VERSION TARGET BINARY OUTDIR" >&2; exit 2; }
version=$1 target=$2 binary=$3 out=$4
root=$(cd "$(dirname "$0")/.." && pwd)
name=heartbeat-$version-$target
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
install -m 0755 "$binary" "$stage/$name/heartbeat"
install -m 0644 "$root/README.md" "$root/LICENSE" "$root/CHANGELOG.md" "$stage/$name/"
if [ -n "${HEARTBEAT_DOCS:-}" ]; then
  install -m 0644 "$HEARTBEAT_DOCS/heartbeat.1" "$stage/$name/"
  mkdir "$stage/$name/completions"
  install -m 0644 "$HEARTBEAT_DOCS"/heartbeat.bash "$HEARTBEAT_DOCS"/_heartbeat "$HEARTBEAT_DOCS"/heartbeat.fish \
    "$HEARTBEAT_DOCS"/_heartbeat.ps1 "$stage/$name/completions/"
fi
mtime=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$stage" -cf - "$name" | gzip -n >"$out/$name.tar.gz"
(cd "$out" && sha256sum heartbeat-*.tar.gz >SHA256SUMS)
echo "$out/$name.tar.gz"
