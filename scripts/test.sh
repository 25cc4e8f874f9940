#!/usr/bin/env bash
# The project's one test command (README "Pass the tests"): installs what the tests need when it is missing,
# then runs what CI runs: formatting, lints, the Rust tests, the orb's tests (pytest, bats), and one summary.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/ensure-packages.sh
ensure_packages /usr/sbin/nginx=nginx-light curl=curl openssl=openssl shellcheck=shellcheck bats=bats \
  busybox=busybox strip=binutils file=file musl-gcc=musl-tools jq=jq python3=python3
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
# The release tests build the static x86_64 binary; without the target they say so and skip.
musl=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -q "^$musl\$" && ! rustup target add "$musl"; then
  export HEARTBEAT_SKIP_MUSL="rustup target add $musl failed"
  echo "scripts/test.sh: WARNING: $HEARTBEAT_SKIP_MUSL; the static-binary tests will be skipped" >&2
fi

# Python tools for the orb tests live in a private virtualenv, so the machine's Python stays untouched.
venv=target/test-venv
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/yamllint" ] || [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check pyyaml pytest check-jsonschema yamllint
fi
export PATH="$PWD/$venv/bin:$PATH"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test 2>&1 | tee -a "$log"
pytest -q orb/tests scripts/tests 2>&1 | tee -a "$log"
bats --tap orb/tests scripts/tests 2>&1 | tee -a "$log"

# One closing line for the whole run, summed over cargo's, pytest's and bats' own reports.
awk '
  /^test result:/ { passed += $4; failed += $6 }
  /^[0-9]+ (passed|failed)/ && / in [0-9.]+s/ {
    for (i = 1; i < NF; i++) { if ($(i + 1) ~ /^passed/) passed += $i; if ($(i + 1) ~ /^failed/) failed += $i }
  }
  /^ok [0-9]/ { passed++ }
  /^not ok [0-9]/ { failed++ }
  END { printf "%d passed, %d failed\n", passed, failed }
' "$log"
