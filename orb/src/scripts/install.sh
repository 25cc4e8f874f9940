#!/bin/sh
# heartbeat/install: downloads a heartbeat release archive, verifies its SHA-256 and installs the binary.
# POSIX sh on purpose: it runs on cimg/base and on Alpine (busybox). Parameters arrive as environment:
#   HB_ACTION       install (default) or cache-key (write the cache key file and stop)
#   HB_VERSION      the version to install; empty means the pinned version below
#   HB_RELEASE_URL  archives are read from $HB_RELEASE_URL/v<version>/
#   HB_PLATFORM     auto, linux-x86_64, linux-aarch64, macos-x86_64 or macos-arm64
#   HB_INSTALL_DIR  where the binary goes (sudo only when needed and available, else $HOME/bin)
#   HB_CACHE_DIR    optional directory that keeps verified archives between jobs
# It records the installed binary's path in $HEARTBEAT_BIN (through $BASH_ENV, or $GITHUB_ENV in the GitHub
# Action) and in $HB_STATE_FILE, so the check step runs exactly the binary verified here, on bash and sh-only
# images alike.
set -eu

# BEGIN PIN (written by scripts/release.sh from dist/SHA256SUMS; do not edit by hand)
HB_PINNED_VERSION="0.1.0"
HB_PINNED_SUMS="
"
# END PIN

HB_CACHE_KEY_FILE=/tmp/heartbeat-cache-key
HB_STATE_FILE=${HB_STATE_FILE:-/tmp/heartbeat-bin}
# Downloads give up on a stalled server: seconds to connect, seconds for the whole transfer, tries.
HB_CONNECT_TIMEOUT=${HB_CONNECT_TIMEOUT:-15}
HB_MAX_TIME=${HB_MAX_TIME:-120}
HB_TRIES=3

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
  # Tolerates CRLF line ends and upper-case digests, as some tools write them; the digest compares lower-case.
  tr -d '\r' | awk -v file="$1" '$2 == file || $2 == "*" file { print tolower($1); exit }'
}

# Tells whether the file's SHA-256 is the expected one (a lower-case hex digest).
hb_sum_matches() {
  [ -n "$2" ] && [ "$(hb_sha256 "$1")" = "$2" ]
}

# Fails unless the file's SHA-256 is the expected one.
hb_verify() {
  file=$1
  expected=$2
  [ -n "$expected" ] || hb_fail "no checksum is listed for $(basename "$file"); refusing to install it"
  actual=$(hb_sha256 "$file")
  [ "$actual" = "$expected" ] || hb_fail "checksum mismatch for $(basename "$file"): expected $expected, got $actual; refusing to install it"
}

# Downloads with a connect timeout, a limit for the whole transfer and retries, so a stalled server fails
# the step in bounded time with a clear message.
hb_download() {
  url=$1
  out=$2
  limit="(connect ${HB_CONNECT_TIMEOUT}s, whole download ${HB_MAX_TIME}s, $HB_TRIES tries)"
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --connect-timeout "$HB_CONNECT_TIMEOUT" \
      --max-time "$HB_MAX_TIME" --retry "$((HB_TRIES - 1))" --retry-delay 1 --output "$out" "$url" ||
      hb_fail "download failed or stalled: $url $limit"
  elif command -v wget >/dev/null 2>&1; then
    # busybox wget has -T (seconds without data) but no retries or total limit of its own.
    limiter=""
    if command -v timeout >/dev/null 2>&1; then limiter="timeout $HB_MAX_TIME"; fi
    try=1
    # shellcheck disable=SC2086 # $limiter is empty or two words on purpose
    until $limiter wget -q -T "$HB_CONNECT_TIMEOUT" -O "$out" "$url" 2>/dev/null; do
      [ "$try" -lt "$HB_TRIES" ] || hb_fail "download failed or stalled: $url $limit"
      try=$((try + 1))
      sleep 1
    done
  else
    hb_fail "neither curl nor wget is installed"
  fi
}

# Quotes a value for a shell to read back literally: '…' with every ' written as '\''.
hb_quote() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# Refuses an archive whose heartbeat entry is not a plain file (a symlink or a hardlink could point anywhere).
hb_check_entry() {
  listing=$(tar -tvzf "$1" 2>/dev/null | awk -v path="$2" '$0 ~ (" " path "( |$)")')
  case "$listing" in
    -*) ;;
    "") hb_fail "the archive has no $2; refusing to install it" ;;
    *) hb_fail "the archive's $2 is a link, not a plain file; refusing to install it" ;;
  esac
}

# Prints the checksum the cache key carries: the pinned one, so a re-cut release never meets a stale cache.
hb_pinned_sum() {
  printf '%s\n' "$HB_PINNED_SUMS" | hb_listed_sum "heartbeat-$1-$2.tar.gz"
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

# Makes the binary known to the following steps: HEARTBEAT_BIN and PATH through $BASH_ENV (quoted, so
# nothing in the path is ever run), and the state file that sh-only images read.
hb_put_on_path() {
  printf '%s\n' "$1/heartbeat" >"$HB_STATE_FILE"
  if [ -n "${BASH_ENV:-}" ]; then
    echo "export HEARTBEAT_BIN=$(hb_quote "$1/heartbeat")" >>"$BASH_ENV"
  fi
  # The same script serves the GitHub Action: its later steps read these files.
  if [ -n "${GITHUB_ENV:-}" ]; then
    case "$1" in *"
"*) hb_fail "the install directory's name holds a line break" ;; esac
    echo "HEARTBEAT_BIN=$1/heartbeat" >>"$GITHUB_ENV"
    echo "$1" >>"${GITHUB_PATH:-/dev/null}"
  fi
  case ":$PATH:" in
    *":$1:"*) ;;
    *)
      if [ -n "${BASH_ENV:-}" ]; then
        echo "export PATH=$(hb_quote "$1"):\"\$PATH\"" >>"$BASH_ENV"
      fi
      echo "heartbeat/install: added $1 to PATH for the following steps"
      ;;
  esac
}

# Fetches the archive into $work: from the cache when it verifies there (a cached archive that does not is
# discarded), else downloaded; only a fresh download that fails verification fails the step.
hb_fetch() {
  if [ -n "$cache" ] && [ -f "$cache/$archive" ]; then
    if hb_sum_matches "$cache/$archive" "$expected"; then
      echo "heartbeat/install: using the cached $archive"
      cp "$cache/$archive" "$work/$archive"
      return 0
    fi
    echo "heartbeat/install: the cached $archive does not match its checksum; downloading it again"
    rm -f "$cache/$archive"
  fi
  echo "heartbeat/install: downloading $base/$archive"
  hb_download "$base/$archive" "$work/$archive"
  hb_verify "$work/$archive" "$expected"
}

hb_install() {
  version=$(hb_version)
  target=$(hb_target "${HB_PLATFORM:-auto}")
  hb_choose_dir "${HB_INSTALL_DIR:-/usr/local/bin}"
  binary=$HB_DIR/heartbeat
  if [ -L "$binary" ]; then
    hb_fail "$binary is a symlink; refusing to install through it (remove it or choose another install_dir)"
  fi
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
  # The orb carries the checksums of the release it was packed with. The GitHub Action runs this script from
  # its git tag, which cannot carry them (the archives are built after the tag): it verifies against the
  # release's SHA256SUMS, as an overridden version does.
  expected=""
  if [ "$version" = "$HB_PINNED_VERSION" ]; then
    expected=$(hb_pinned_sum "$version" "$target")
  fi
  if [ -z "$expected" ]; then
    hb_download "$base/SHA256SUMS" "$work/SHA256SUMS"
    expected=$(hb_listed_sum "$archive" <"$work/SHA256SUMS")
  fi
  [ -n "$expected" ] || hb_fail "no checksum is listed for $archive; refusing to install it"
  hb_fetch
  entry=heartbeat-$version-$target/heartbeat
  hb_check_entry "$work/$archive" "$entry"
  tar -xzf "$work/$archive" -C "$work"
  if [ ! -f "$work/$entry" ] || [ -L "$work/$entry" ]; then
    hb_fail "the archive's $entry is not a plain file; refusing to install it"
  fi
  # Run it before installing it: it must work here and be the version asked for.
  got=$(hb_installed_version "$work/$entry")
  [ "$got" = "$version" ] || hb_fail "the downloaded binary does not run here or is not $version (it said '${got:-nothing}')"
  $HB_SUDO mkdir -p "$HB_DIR"
  $HB_SUDO cp "$work/$entry" "$binary"
  $HB_SUDO chmod 0755 "$binary"
  if [ -n "$cache" ]; then
    mkdir -p "$cache" && cp "$work/$archive" "$cache/$archive"
  fi
  hb_put_on_path "$HB_DIR"
  echo "heartbeat/install: installed $("$binary" --version) in $HB_DIR"
}

hb_main() {
  case "${HB_ACTION:-install}" in
    cache-key)
      version=$(hb_version)
      target=$(hb_target "${HB_PLATFORM:-auto}")
      echo "$version $target $(hb_pinned_sum "$version" "$target")" >"$HB_CACHE_KEY_FILE"
      ;;
    install) hb_install ;;
    *) hb_fail "unknown HB_ACTION '$HB_ACTION'" ;;
  esac
}

# The bats tests source this file with HEARTBEAT_ORB_TEST=1 to call the functions one by one.
if [ "${HEARTBEAT_ORB_TEST:-}" != 1 ]; then
  hb_main
fi
