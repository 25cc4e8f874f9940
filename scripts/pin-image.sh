#!/usr/bin/env bash
# Pins the Kubernetes overlays to one released image: writes the version's tag and the pushed image's digest
# into deploy/kubernetes/image/kustomization.yaml, the component every overlay uses. The release runs it in the
# commit it tags, so an overlay at that tag runs exactly the image built from that release's binaries.
#   scripts/pin-image.sh VERSION DIGEST [COMPONENT]    (DIGEST: sha256:<64 hex>, as `docker buildx` prints it)
set -euo pipefail
[ "$#" -ge 2 ] || { echo "usage: scripts/pin-image.sh VERSION DIGEST [COMPONENT]" >&2; exit 2; }
version=${1#v} digest=$2
component=${3:-$(cd "$(dirname "$0")/.." && pwd)/deploy/kubernetes/image/kustomization.yaml}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "pin-image: version '$version' is not X.Y.Z" >&2; exit 2; }
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "pin-image: digest '$digest' is not sha256:<64 lower-case hex>" >&2; exit 2; }
grep -q '^  - name: ghcr.io/ministryofjustice/heartbeat$' "$component" || { echo "pin-image: $component has no heartbeat image entry" >&2; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# Everything after the image entry's name is the pin: replace it whole, so a second run leaves one pin.
awk -v version="$version" -v digest="$digest" '
  /^  - name: ghcr.io\/ministryofjustice\/heartbeat$/ { print; print "    newTag: \"" version "\""; print "    digest: " digest; skip = 1; next }
  skip && /^    / { next }
  { skip = 0; print }
' "$component" >"$tmp"
cat "$tmp" >"$component"
