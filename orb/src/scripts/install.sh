#!/bin/sh
# heartbeat/install: downloads a heartbeat release archive, verifies its SHA-256 and installs the binary.
# POSIX sh on purpose: it runs on cimg/base and on Alpine (busybox). Parameters arrive as environment:
#   HB_ACTION       install (default) or cache-key (write the cache key file and stop)
#   HB_VERSION      the version to install; empty means the pinned version below
#   HB_RELEASE_URL  archives are read from $HB_RELEASE_URL/v<version>/
#   HB_PLATFORM     auto, linux-x86_64, linux-aarch64, macos-x86_64 or macos-arm64
#   HB_INSTALL_DIR  where the binary goes (sudo only when needed and available, else $HOME/bin)
#   HB_CACHE_DIR    optional directory that keeps verified archives between jobs
set -eu

# BEGIN PIN (written by scripts/release.sh from dist/SHA256SUMS; do not edit by hand)
HB_PINNED_VERSION="0.1.0"
HB_PINNED_SUMS="
"
# END PIN

HB_CACHE_KEY_FILE=/tmp/heartbeat-cache-key

hb_fail() {
  echo "heartbeat/install: $*" >&2
  exit 1
}

# Maps the platform parameter (or, for auto, uname's answers) to a release target triple.
hb_target() {
  platform=${1:-auto}
  if [ "$platform" = auto ]; then
    os=${2:-$(uname -s)}
    arch=${3:-$(uname -m)}
    case "$os/$arch" in
      Linux/x86_64 | Linux/amd64) platform=linux-x86_64 ;;
      Linux/aarch64 | Linux/arm64) platform=linux-aarch64 ;;
      Darwin/x86_64) platform=macos-x86_64 ;;
      Darwin/arm64 | Darwin/aarch64) platform=macos-arm64 ;;
      *) hb_fail "no heartbeat build for $os $arch; set the platform parameter" ;;
    esac
  fi
  case "$platform" in
    linux-x86_64) echo x86_64-unknown-linux-musl ;;
    linux-aarch64) echo aarch64-unknown-linux-musl ;;
    macos-x86_64) echo x86_64-apple-darwin ;;
    macos-arm64) echo aarch64-apple-darwin ;;
    *) hb_fail "unknown platform '$platform'" ;;
  esac
}

# Prints the version to install: the parameter without a leading v, or the pinned one.
hb_version() {
  version=${HB_VERSION:-}
  version=${version#v}
  echo "${version:-$HB_PINNED_VERSION}"
}

hb_sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  fi
}

# Prints the checksum listed for an archive in SHA256SUMS-formatted text on stdin.
hb_listed_sum() {
  awk -v file="$1" '$2 == file || $2 == "*" file { print $1; exit }'
}

# Fails unless the file's SHA-256 is the expected one.
hb_verify() {
  file=$1
  expected=$2
  [ -n "$expected" ] || hb_fail "no checksum is listed for $(basename "$file"); refusing to install it"
  actual=$(hb_sha256 "$file")
  [ "$actual" = "$expected" ] || hb_fail "checksum mismatch for $(basename "$file"): expected $expected, got $actual; refusing to install it"
}

hb_download() {
  url=$1
  out=$2
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 3 --retry-delay 1 --output "$out" "$url" ||
      hb_fail "download failed: $url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$out" "$url" || hb_fail "download failed: $url"
  else
    hb_fail "neither curl nor wget is installed"
  fi
}

# Decides where to install: sets HB_DIR, and HB_SUDO to "sudo" when the directory needs it.
hb_choose_dir() {
  HB_DIR=$1
  HB_SUDO=""
  if mkdir -p "$HB_DIR" 2>/dev/null && [ -w "$HB_DIR" ]; then
    return 0
  fi
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    HB_SUDO=sudo
    return 0
  fi
  HB_DIR=$HOME/bin
  mkdir -p "$HB_DIR"
}

# Prints the version of an installed binary, or nothing.
hb_installed_version() {
  if [ -x "$1" ]; then
    "$1" --version 2>/dev/null | awk '{ print $2 }'
  fi
}

hb_put_on_path() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *)
      if [ -n "${BASH_ENV:-}" ]; then
        echo "export PATH=\"$1:\$PATH\"" >>"$BASH_ENV"
      fi
      echo "heartbeat/install: added $1 to PATH for the following steps"
      ;;
  esac
}

hb_install() {
  version=$(hb_version)
  target=$(hb_target "${HB_PLATFORM:-auto}")
  hb_choose_dir "${HB_INSTALL_DIR:-/usr/local/bin}"
  binary=$HB_DIR/heartbeat
  if [ "$(hb_installed_version "$binary")" = "$version" ]; then
    echo "heartbeat $version is already installed in $HB_DIR"
    hb_put_on_path "$HB_DIR"
    return 0
  fi
  archive=heartbeat-$version-$target.tar.gz
  base=${HB_RELEASE_URL%/}/v$version
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cache=${HB_CACHE_DIR:-}
  if [ -n "$cache" ] && [ -f "$cache/$archive" ]; then
    echo "heartbeat/install: using the cached $archive"
    cp "$cache/$archive" "$work/$archive"
  else
    echo "heartbeat/install: downloading $base/$archive"
    hb_download "$base/$archive" "$work/$archive"
  fi
  if [ "$version" = "$HB_PINNED_VERSION" ]; then
    expected=$(printf '%s\n' "$HB_PINNED_SUMS" | hb_listed_sum "$archive")
  else
    hb_download "$base/SHA256SUMS" "$work/SHA256SUMS"
    expected=$(hb_listed_sum "$archive" <"$work/SHA256SUMS")
  fi
  hb_verify "$work/$archive" "$expected"
  tar -xzf "$work/$archive" -C "$work"
  $HB_SUDO mkdir -p "$HB_DIR"
  $HB_SUDO cp "$work/heartbeat-$version-$target/heartbeat" "$binary"
  $HB_SUDO chmod 0755 "$binary"
  if [ -n "$cache" ]; then
    mkdir -p "$cache" && cp "$work/$archive" "$cache/$archive"
  fi
  hb_put_on_path "$HB_DIR"
  echo "heartbeat/install: installed $("$binary" --version) in $HB_DIR"
}

hb_main() {
  case "${HB_ACTION:-install}" in
    cache-key) echo "$(hb_version) $(hb_target "${HB_PLATFORM:-auto}")" >"$HB_CACHE_KEY_FILE" ;;
    install) hb_install ;;
    *) hb_fail "unknown HB_ACTION '$HB_ACTION'" ;;
  esac
}

# The bats tests source this file with HEARTBEAT_ORB_TEST=1 to call the functions one by one.
if [ "${HEARTBEAT_ORB_TEST:-}" != 1 ]; then
  hb_main
fi
