#!/usr/bin/env bash
# Moves the major tag (v0 for 0.x.y, v1 for 1.x.y) to the release vVERSION, as GitHub's own actions do, so
# `uses: ministryofjustice/heartbeat@v0` always means the newest verified release of that major. A release
# older than the newest of its major (a patch to an older line) leaves the major tag where it is.
#   scripts/major-tag.sh VERSION [--push REMOTE]
# Prints what it did. Exit codes: 0 moved or left, 1 refused (no tag vVERSION), 2 usage.
set -euo pipefail
usage() {
  echo "usage: scripts/major-tag.sh VERSION [--push REMOTE]" >&2
  exit 2
}
case "$#" in
  1) ;;
  3) [ "$2" = --push ] || usage ;;
  *) usage ;;
esac
version=${1#v}
remote=${3:-}
[[ "$version" =~ ^([0-9]+)\.[0-9]+\.[0-9]+$ ]] || { echo "major-tag: '$version' is not X.Y.Z" >&2; exit 2; }
major=v${BASH_REMATCH[1]}
git rev-parse -q --verify "refs/tags/v$version" >/dev/null || { echo "major-tag: there is no tag v$version" >&2; exit 1; }
# The newest release of this major, by version order (pre-releases and other names do not count).
newest=$(git tag --list "$major.*" | grep -E "^$major\.[0-9]+\.[0-9]+\$" | sort -t . -k 1.2,1n -k 2,2n -k 3,3n | tail -n 1)
if [ "$newest" != "v$version" ]; then
  echo "major-tag: $major stays: v$version is older than $newest"
  exit 0
fi
git tag -f "$major" "v$version^{commit}" >/dev/null
echo "major-tag: $major -> v$version ($(git rev-parse --short "$major"))"
if [ -n "$remote" ]; then
  git push --quiet --force "$remote" "refs/tags/$major"
fi
