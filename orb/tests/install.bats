#!/usr/bin/env bats
# Unit tests for orb/src/scripts/install.sh, sourced function by function behind its test guard.

setup() {
  export HEARTBEAT_ORB_TEST=1
  # shellcheck source=../src/scripts/install.sh
  . "$BATS_TEST_DIRNAME/../src/scripts/install.sh"
  work=$(mktemp -d)
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
}

@test "without curl, wget downloads" {
  narrow_path
  printf '#!/bin/sh\necho "$@" >"%s/wget.args"\n' "$work" >"$work/tools/wget"
  chmod +x "$work/tools/wget"
  PATH="$work/tools" hb_download http://127.0.0.1:9/v1/a.tar.gz "$work/a.tar.gz"
  [ "$(cat "$work/wget.args")" = "-q -O $work/a.tar.gz http://127.0.0.1:9/v1/a.tar.gz" ]
}

@test "without curl or wget, the install says so" {
  narrow_path
  PATH="$work/tools" run hb_download http://127.0.0.1:9/v1/a.tar.gz "$work/a.tar.gz"
  [ "$status" -eq 1 ]
  [[ "$output" == *"neither curl nor wget is installed"* ]]
}
