#!/usr/bin/env bash
# Commits the release's pins and tags that commit vVERSION, so whatever runs from the tag (the GitHub Action
# by `@vX.Y.Z`, `@v0` or its SHA; the overlays) carries the checksums and the image digest inside the commit it
# pins, not in a file downloaded from the same place as the archives.
#   scripts/tag-release.sh VERSION
# Before it: scripts/release.sh pinned orb/src/scripts/install.sh; scripts/pin-image.sh pinned the image
# component. Only those files may have changed. Idempotent for a re-run: when vVERSION already tags a commit with
# the same pins it says so and succeeds; a tag with other pins is never moved. Prints the tagged commit.
# Exit codes: 0 tagged (or already), 1 refused, 2 usage.
set -euo pipefail
[ "$#" -eq 1 ] || { echo "usage: scripts/tag-release.sh VERSION" >&2; exit 2; }
version=${1#v}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "tag-release: '$version' is not X.Y.Z" >&2; exit 2; }
cd "$(git rev-parse --show-toplevel)"
tag=v$version
pins=(orb/src/scripts/install.sh deploy/kubernetes/image/kustomization.yaml)

refuse() {
  echo "tag-release: refusing $tag: $*" >&2
  exit 1
}

pinned_version=$(sed -n 's/^HB_PINNED_VERSION="\(.*\)"$/\1/p' "${pins[0]}")
[ "$pinned_version" = "$version" ] || refuse "the install script pins $pinned_version"
grep -q "^[0-9a-f]\{64\}  heartbeat-$version-.*\.tar\.gz\$" "${pins[0]}" || refuse "the install script carries no checksum for $version (run scripts/release.sh first)"
if ! grep -q "^    newTag: \"$version\"\$" "${pins[1]}" || ! grep -q '^    digest: sha256:[0-9a-f]\{64\}$' "${pins[1]}"; then
  refuse "the image component does not pin $version by digest (run scripts/pin-image.sh first)"
fi
others=$(git status --porcelain --untracked-files=no | awk '{print $2}' | grep -vxF -e "${pins[0]}" -e "${pins[1]}" || true)
[ -z "$others" ] || refuse "files other than the pins have changed: $(echo "$others" | tr '\n' ' ')"

if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
  for pin in "${pins[@]}"; do
    git show "$tag:$pin" 2>/dev/null | cmp -s - "$pin" || refuse "$tag already exists with other pins in $pin; a release tag is never moved"
  done
  echo "tag-release: $tag already tags these pins" >&2
  git rev-parse "$tag^{commit}"
  exit 0
fi
git add -- "${pins[@]}"
git -c user.name="${GIT_AUTHOR_NAME:-heartbeat release}" -c user.email="${GIT_AUTHOR_EMAIL:-heartbeat-release@users.noreply.github.com}" \
  commit --quiet -m "Release $version: pin the archives' checksums and the image digest" -- "${pins[@]}"
git -c user.name="${GIT_AUTHOR_NAME:-heartbeat release}" -c user.email="${GIT_AUTHOR_EMAIL:-heartbeat-release@users.noreply.github.com}" \
  tag -a "$tag" -m "heartbeat $version"
git rev-parse "$tag^{commit}"
