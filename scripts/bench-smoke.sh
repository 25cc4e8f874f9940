#!/usr/bin/env bash
# Measures the dev smoke suite (examples/hmpps-integration-api/dev.toml, 42 checks, five consumer profiles)
# against `heartbeat sandbox`, as one heartbeat process, interleaved in the same run with the team's k6 layout:
# five processes, one per client certificate (here five `heartbeat suite --consumer …` runs of the same file).
# Prints the medians, their ratio, and the one process's peak RSS (GNU time's %M).
# Usage: scripts/bench-smoke.sh [RUNS]   (default 15; needs python3 and GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
. scripts/ensure-packages.sh
ensure_packages /usr/bin/time=time
[ -n "${HEARTBEAT_BIN:-}" ] || cargo build --release --quiet
binary=${HEARTBEAT_BIN:-$PWD/target/release/heartbeat}
work=$(mktemp -d)
"$binary" sandbox --write-env "$work/sb.env" 2>/dev/null &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true; rm -rf "$work"' EXIT
until [ -s "$work/sb.env" ]; do sleep 0.1; done
# shellcheck disable=SC1091 # written just above
. "$work/sb.env"

python3 - "$runs" "$binary" <<'PY'
import statistics, subprocess, sys, time

runs, binary = int(sys.argv[1]), sys.argv[2]
suite = "examples/hmpps-integration-api/dev.toml"
one = [binary, "suite", suite, "--quiet"]
# The team's five k6 runs: MAIN (with its on-behalf-of requests), NOPERMS, PARTIAL, no certificate, REVOKED.
profiles = [["main", "main_obo"], ["noperms"], ["partial"], ["nocert"], ["revoked"]]
five = [[binary, "suite", suite, "--quiet", *[arg for c in cs for arg in ("--consumer", c)]] for cs in profiles]
times = {"one process": [], "five processes": []}
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(one, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times["one process"].append(time.perf_counter() - start)
    start = time.perf_counter()
    for command in five:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times["five processes"].append(time.perf_counter() - start)
rss = subprocess.run(["/usr/bin/time", "-f", "%M", *one], capture_output=True, text=True, check=True)
median = {name: statistics.median(values) * 1000 for name, values in times.items()}
for name, value in median.items():
    print(f"dev suite, {name:15s} median {value:8.1f} ms")
print(f"one / five: {median['one process'] / median['five processes']:.2f}x")
print(f"one process peak RSS: {int(rss.stderr.strip().splitlines()[-1]) / 1024:.2f} MiB")
PY
