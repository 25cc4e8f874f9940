#!/usr/bin/env bats
# Unit tests for orb/src/scripts/install.sh, sourced function by function behind its test guard.

setup() {
  export HEARTBEAT_ORB_TEST=1
  # shellcheck source=../src/scripts/install.sh
  . "$BATS_TEST_DIRNAME/../src/scripts/install.sh"
  work=$(mktemp -d)
  # Never the real job's files: what hb_install writes for later steps goes here.
  export BASH_ENV=$work/bash_env HB_STATE_FILE=$work/heartbeat-bin
}

teardown() {
  rm -rf "$work"
}

@test "platforms map to release targets" {
  [ "$(hb_target auto Linux x86_64)" = x86_64-unknown-linux-musl ]
  [ "$(hb_target auto Linux aarch64)" = aarch64-unknown-linux-musl ]
  [ "$(hb_target auto Linux arm64)" = aarch64-unknown-linux-musl ]
  [ "$(hb_target auto Darwin x86_64)" = x86_64-apple-darwin ]
  [ "$(hb_target auto Darwin arm64)" = aarch64-apple-darwin ]
  [ "$(hb_target macos-arm64)" = aarch64-apple-darwin ]
  [ "$(hb_target linux-aarch64 Darwin x86_64)" = aarch64-unknown-linux-musl ]
}

@test "an unknown machine fails and names the platform parameter" {
  run hb_target auto Linux riscv64
  [ "$status" -eq 1 ]
  [[ "$output" == *"no heartbeat build for Linux riscv64; set the platform parameter"* ]]
  run hb_target windows-x86_64
  [ "$status" -eq 1 ]
}

@test "the version defaults to the pin and drops a leading v" {
  HB_PINNED_VERSION=1.2.3
  HB_VERSION="" run hb_version
  [ "$output" = 1.2.3 ]
  HB_VERSION=v2.0.0 run hb_version
  [ "$output" = 2.0.0 ]
}

@test "checksums are looked up by archive name, with or without the binary marker" {
  sums="aaa  heartbeat-1.0.0-x86_64-unknown-linux-musl.tar.gz
bbb *heartbeat-1.0.0-aarch64-unknown-linux-musl.tar.gz"
  [ "$(printf '%s\n' "$sums" | hb_listed_sum heartbeat-1.0.0-x86_64-unknown-linux-musl.tar.gz)" = aaa ]
  [ "$(printf '%s\n' "$sums" | hb_listed_sum heartbeat-1.0.0-aarch64-unknown-linux-musl.tar.gz)" = bbb ]
  [ -z "$(printf '%s\n' "$sums" | hb_listed_sum heartbeat-1.0.0-x86_64-apple-darwin.tar.gz)" ]
}

@test "verification passes on the right sum and fails closed otherwise" {
  printf 'release' >"$work/a.tar.gz"
  good=$(sha256sum "$work/a.tar.gz" | cut -d ' ' -f 1)
  run hb_verify "$work/a.tar.gz" "$good"
  [ "$status" -eq 0 ]
  run hb_verify "$work/a.tar.gz" "0000$good"
  [ "$status" -eq 1 ]
  [[ "$output" == *"checksum mismatch for a.tar.gz"* ]]
  run hb_verify "$work/a.tar.gz" ""
  [ "$status" -eq 1 ]
  [[ "$output" == *"no checksum is listed for a.tar.gz"* ]]
}

@test "a writable directory is used as it is, without sudo" {
  hb_choose_dir "$work/bin"
  [ "$HB_DIR" = "$work/bin" ]
  [ -z "$HB_SUDO" ]
}

# A directory under a regular file cannot be created even by root, so these hold for any user.
# PATH is narrowed to a folder holding mkdir (and a fake sudo) so the real sudo, if any, is out of reach.
narrow_path() {
  mkdir -p "$work/tools"
  ln -sf "$(command -v mkdir)" "$work/tools/mkdir"
  : >"$work/notadir"
}

@test "an unwritable directory uses sudo when sudo works" {
  narrow_path
  printf '#!/bin/sh\nexit 0\n' >"$work/tools/sudo"
  chmod +x "$work/tools/sudo"
  PATH="$work/tools" hb_choose_dir "$work/notadir/bin"
  [ "$HB_DIR" = "$work/notadir/bin" ]
  [ "$HB_SUDO" = sudo ]
}

@test "an unwritable directory without sudo falls back to HOME/bin" {
  narrow_path
  HOME=$work/home
  PATH="$work/tools" hb_choose_dir "$work/notadir/bin"
  [ "$HB_DIR" = "$work/home/bin" ]
  [ -z "$HB_SUDO" ]
  [ -d "$work/home/bin" ]
}

@test "a sudo that asks for a password counts as no sudo" {
  narrow_path
  printf '#!/bin/sh\nexit 1\n' >"$work/tools/sudo"
  chmod +x "$work/tools/sudo"
  HOME=$work/home
  PATH="$work/tools" hb_choose_dir "$work/notadir/bin"
  [ "$HB_DIR" = "$work/home/bin" ]
  [ -z "$HB_SUDO" ]
}

@test "the installed version is read from the binary" {
  printf '#!/bin/sh\necho "heartbeat 0.4.2 (x86_64-unknown-linux-musl)"\n' >"$work/heartbeat"
  chmod +x "$work/heartbeat"
  [ "$(hb_installed_version "$work/heartbeat")" = 0.4.2 ]
  [ -z "$(hb_installed_version "$work/missing")" ]
}

@test "the same version already installed is not downloaded again" {
  printf '#!/bin/sh\necho "heartbeat 9.9.9 (x86_64-unknown-linux-musl)"\n' >"$work/heartbeat"
  chmod +x "$work/heartbeat"
  hb_download() { echo "downloaded $1"; }
  HB_VERSION=9.9.9 HB_INSTALL_DIR=$work HB_RELEASE_URL=http://127.0.0.1:9 run hb_install
  [ "$status" -eq 0 ]
  [[ "$output" == *"heartbeat 9.9.9 is already installed in $work"* ]]
  [[ "$output" != *downloaded* ]]
  [ "$(cat "$HB_STATE_FILE")" = "$work/heartbeat" ]
  grep -qx "export HEARTBEAT_BIN='$work/heartbeat'" "$BASH_ENV"
}

@test "paths reach BASH_ENV quoted, so nothing in them is ever run" {
  dir="$work/a'b \$(touch $work/ran)"
  mkdir -p "$dir"
  PATH=/usr/bin:/bin hb_put_on_path "$dir"
  # shellcheck disable=SC1090
  (. "$BASH_ENV" && [ "$HEARTBEAT_BIN" = "$dir/heartbeat" ] && [[ "$PATH" == "$dir:"* ]])
  [ ! -e "$work/ran" ]
}

@test "a symlink where the binary goes is refused" {
  ln -s /bin/true "$work/heartbeat"
  HB_VERSION=9.9.9 HB_INSTALL_DIR=$work HB_RELEASE_URL=http://127.0.0.1:9 run hb_install
  [ "$status" -eq 1 ]
  [[ "$output" == *"is a symlink; refusing to install through it"* ]]
}

@test "an archive whose heartbeat is a link is refused" {
  mkdir -p "$work/pack/heartbeat-1.0.0-x/" "$work/pack/other"
  ln -s /usr/bin/env "$work/pack/heartbeat-1.0.0-x/heartbeat"
  tar -czf "$work/a.tar.gz" -C "$work/pack" heartbeat-1.0.0-x
  run hb_check_entry "$work/a.tar.gz" heartbeat-1.0.0-x/heartbeat
  [ "$status" -eq 1 ]
  [[ "$output" == *"is a link, not a plain file"* ]]
  printf 'x' >"$work/pack/other/file"
  rm "$work/pack/heartbeat-1.0.0-x/heartbeat"
  ln "$work/pack/other/file" "$work/pack/heartbeat-1.0.0-x/heartbeat"
  tar -czf "$work/h.tar.gz" -C "$work/pack" other heartbeat-1.0.0-x
  run hb_check_entry "$work/h.tar.gz" heartbeat-1.0.0-x/heartbeat
  [ "$status" -eq 1 ]
  rm "$work/pack/heartbeat-1.0.0-x/heartbeat"
  printf 'binary' >"$work/pack/heartbeat-1.0.0-x/heartbeat"
  tar -czf "$work/ok.tar.gz" -C "$work/pack" heartbeat-1.0.0-x
  run hb_check_entry "$work/ok.tar.gz" heartbeat-1.0.0-x/heartbeat
  [ "$status" -eq 0 ]
}

@test "a cached archive that fails verification is discarded and downloaded again" {
  cache=$work/cache archive=a.tar.gz base=http://127.0.0.1:9/v1
  mkdir -p "$cache"
  printf 'stale' >"$cache/$archive"
  printf 'fresh' >"$work/fresh"
  expected=$(sha256sum "$work/fresh" | cut -d ' ' -f 1)
  hb_download() { cp "$work/fresh" "$2"; echo "downloaded $1"; }
  run hb_fetch
  [ "$status" -eq 0 ]
  [[ "$output" == *"does not match its checksum; downloading it again"* ]]
  [[ "$output" == *"downloaded $base/$archive"* ]]
  [ ! -e "$cache/$archive" ]
  [ "$(cat "$work/$archive")" = fresh ]
  printf 'tampered' >"$work/fresh"
  run hb_fetch
  [ "$status" -eq 1 ]
  [[ "$output" == *"checksum mismatch"* ]]
}

@test "the cache key carries the pinned checksum" {
  HB_PINNED_VERSION=1.0.0
  HB_PINNED_SUMS="abc123  heartbeat-1.0.0-x86_64-unknown-linux-musl.tar.gz"
  HB_CACHE_KEY_FILE=$work/key HB_ACTION=cache-key HB_PLATFORM=linux-x86_64 hb_main
  [ "$(cat "$work/key")" = "1.0.0 x86_64-unknown-linux-musl abc123" ]
}

@test "a stalled release server fails the download in bounded time with the limits named" {
  port_file=$work/port
  python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8); open(sys.argv[1],"w").write(str(s.getsockname()[1]))
conns=[]
while True: conns.append(s.accept()[0])' "$port_file" &
  server=$!
  for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
  HB_CONNECT_TIMEOUT=1 HB_MAX_TIME=1 run hb_download "http://127.0.0.1:$(cat "$port_file")/v1/a.tar.gz" "$work/a.tar.gz"
  kill "$server"
  [ "$status" -eq 1 ]
  [[ "$output" == *"download failed or stalled"*"whole download 1s, 3 tries"* ]]
}

@test "without curl, wget downloads" {
  narrow_path
  printf '#!/bin/sh\necho "$@" >"%s/wget.args"\n' "$work" >"$work/tools/wget"
  chmod +x "$work/tools/wget"
  PATH="$work/tools" hb_download http://127.0.0.1:9/v1/a.tar.gz "$work/a.tar.gz"
  [ "$(cat "$work/wget.args")" = "-q -T 15 -O $work/a.tar.gz http://127.0.0.1:9/v1/a.tar.gz" ]
}

@test "without curl or wget, the install says so" {
  narrow_path
  PATH="$work/tools" run hb_download http://127.0.0.1:9/v1/a.tar.gz "$work/a.tar.gz"
  [ "$status" -eq 1 ]
  [[ "$output" == *"neither curl nor wget is installed"* ]]
}

@test "SHA256SUMS with CRLF line ends and upper-case digests still verifies" {
  printf 'release' >"$work/heartbeat-1.0.0-x.tar.gz"
  good=$(sha256sum "$work/heartbeat-1.0.0-x.tar.gz" | cut -d ' ' -f 1)
  listed=$(printf '%s  heartbeat-1.0.0-x.tar.gz\r\n' "$(printf '%s' "$good" | tr a-f A-F)" | hb_listed_sum heartbeat-1.0.0-x.tar.gz)
  [ "$listed" = "$good" ]
  run hb_verify "$work/heartbeat-1.0.0-x.tar.gz" "$listed"
  [ "$status" -eq 0 ]
}
