#!/usr/bin/env bash
# Measures one healthy check as a whole process against nginx (OpenSSL, ssl_verify_client on) on loopback,
# side by side with the old way (base64 -d to files, then curl --cert --key | grep -q firstName) on the same
# server in the same run. Prints the median wall time of each, their ratio, and heartbeat's peak RSS.
# Peak RSS comes from GNU time (%M): a child forked from Python would inherit Python's high-water mark.
# Usage: scripts/bench.sh [RUNS]   (default 40; needs nginx, curl, openssl, python3, GNU time)
# HEARTBEAT_BIN=path measures another build (the release's static musl binary, say) instead of target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}
. scripts/ensure-packages.sh
ensure_packages /usr/sbin/nginx=nginx-light curl=curl openssl=openssl /usr/bin/time=time

if [ -z "${HEARTBEAT_BIN:-}" ]; then
  cargo build --release --quiet
fi
binary=${HEARTBEAT_BIN:-$PWD/target/release/heartbeat}
work=$(mktemp -d)
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

. scripts/bench-nginx.sh
bench_check_context "$work"

# The old way, as the team's CircleCI step does it (trusting the private CA, as heartbeat does).
cat > "$work/old.sh" <<'OLD'
set -eo pipefail
echo "$MTLS_CERT" | base64 -d > "$WORK/old-client.pem"
echo "$MTLS_KEY" | base64 -d > "$WORK/old-client.key"
curl -s --cacert "$WORK/ca.pem" --cert "$WORK/old-client.pem" --key "$WORK/old-client.key" \
  -H "x-api-key: $API_KEY" "$SERVICE_URL" | grep -q firstName
OLD
export WORK=$work

python3 - "$runs" "$binary" "$work/old.sh" <<'PY'
import os, statistics, subprocess, sys, time

runs, binary, old = int(sys.argv[1]), sys.argv[2], sys.argv[3]
new_cmd = [binary, "check", "--quiet", "--attempts", "1"]
old_cmd = ["bash", old]

def once(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {proc.stderr.decode()}")
    return wall

def peak_rss_kib(cmd):
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return int(proc.stderr.decode().strip().splitlines()[-1])

for cmd in (new_cmd, old_cmd):  # warm-up: page cache, nginx worker
    once(cmd)
new, old_times = [], []
for _ in range(runs):  # interleaved, so drift on the machine hits both alike
    new.append(once(new_cmd))
    old_times.append(once(old_cmd))
rss = [peak_rss_kib(new_cmd) for _ in range(5)]
floor = peak_rss_kib(["/bin/true"])

new_median, old_median = statistics.median(new), statistics.median(old_times)
print(f"runs: {runs} each, interleaved, against nginx with ssl_verify_client on (RSA-2048, v1 client certificate)")
print(f"heartbeat check   median {new_median * 1000:7.2f} ms   (min {min(new) * 1000:.2f}, max {max(new) * 1000:.2f})")
print(f"old way (curl)    median {old_median * 1000:7.2f} ms   (min {min(old_times) * 1000:.2f}, max {max(old_times) * 1000:.2f})")
print(f"ratio             {new_median / old_median:.2f}x the old way's median wall time (target <= 0.40x)")
print(f"heartbeat peak RSS {max(rss) / 1024:.2f} MiB (max of 5 runs; target <= 8 MiB; /bin/true measures {floor / 1024:.2f} MiB)")
PY
