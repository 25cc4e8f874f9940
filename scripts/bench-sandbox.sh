#!/usr/bin/env bash
# Measures checks against `heartbeat sandbox` on 127.0.0.1: the latency heartbeat reports for each of N
# single-attempt checks (a full TLS 1.3 handshake with a client certificate, then the request). A stall of
# ~40 ms is Nagle's algorithm holding the answer back behind a delayed ACK; the target is none over 25 ms.
# Usage: scripts/bench-sandbox.sh [CHECKS]   (default 30; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
checks=${1:-30}
cargo build --release --locked --quiet
bin=target/release/heartbeat
work=$(mktemp -d)
trap 'kill "$sandbox" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" sandbox --write-env "$work/sb.env" >"$work/out" 2>/dev/null &
sandbox=$!
for _ in $(seq 100); do [ -s "$work/out" ] && break; sleep 0.05; done
[ -s "$work/out" ] || { echo "bench-sandbox: the sandbox did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/sb.env"
export SERVICE_URL API_KEY MTLS_CERT MTLS_KEY SERVICE_CA_CERT
latencies=()
for _ in $(seq "$checks"); do
  latencies+=("$("$bin" check --attempts 1 --format json 2>/dev/null | jq '.attempts[0].latency_ms')")
done
printf '%s\n' "${latencies[@]}" | sort -n | awk -v n="$checks" '
  { v[NR] = $1; if ($1 > 25) over++ }
  END { printf "%d checks against the sandbox: median %d ms, max %d ms, %d over 25 ms (target 0)\n", n, v[int((NR + 1) / 2)], v[NR], over }'
