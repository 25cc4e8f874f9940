#!/usr/bin/env bash
# Measures what a schedule's extras cost one check: the same healthy check against nginx (OpenSSL,
# ssl_verify_client on) on loopback, plain, with --state, with --metrics, and with both, interleaved in one
# run. Prints each variant's median wall time, its difference from plain, and its peak RSS (GNU time %M).
# Usage: scripts/bench-schedule.sh [RUNS]   (default 40; needs nginx, openssl, python3, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}
. scripts/ensure-packages.sh
ensure_packages /usr/sbin/nginx=nginx-light openssl=openssl /usr/bin/time=time

if [ -z "${HEARTBEAT_BIN:-}" ]; then
  cargo build --release --quiet
fi
binary=${HEARTBEAT_BIN:-$PWD/target/release/heartbeat}
work=$(mktemp -d)
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

. scripts/bench-nginx.sh
bench_check_context "$work"

python3 - "$runs" "$binary" "$work" <<'PY'
import statistics, subprocess, sys, time

runs, binary, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = [binary, "check", "--quiet", "--attempts", "1"]
state = ["--state", f"{work}/state.json", "--alert-after", "2", "--remind-every", "1h"]
metrics = ["--metrics", f"{work}/heartbeat.prom"]
variants = {"plain": base, "--state": base + state, "--metrics": base + metrics, "both": base + state + metrics}

def once(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[1:])} failed: {proc.stderr.decode()}")
    return wall

def peak_rss_kib(cmd):
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return int(proc.stderr.decode().strip().splitlines()[-1])

for cmd in variants.values():  # warm-up, and the state file exists from here on (a scheduled run's case)
    once(cmd)
times = {name: [] for name in variants}
for _ in range(runs):
    for name, cmd in variants.items():
        times[name].append(once(cmd))
plain = statistics.median(times["plain"])
print(f"runs: {runs} of each, interleaved, one healthy check against nginx with ssl_verify_client on")
for name, cmd in variants.items():
    median = statistics.median(times[name])
    rss = max(peak_rss_kib(cmd) for _ in range(5))
    print(f"{name:10} median {median * 1000:6.2f} ms  ({(median - plain) * 1000:+5.2f} ms)  peak RSS {rss / 1024:.2f} MiB")
PY
