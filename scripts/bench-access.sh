#!/usr/bin/env bash
# Measures the access matrix: generating it (`heartbeat access matrix`, 4 probe consumers × the API's 111
# routes = 444 checks, from examples/hmpps-integration-api/authorisation-probes.yaml), and running it with
# `heartbeat suite` against `heartbeat sandbox` fed the same config. Prints the median wall time of each and
# their peak RSS (GNU time's %M). Usage: scripts/bench-access.sh [RUNS]   (default 15; needs python3, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
. scripts/ensure-packages.sh
ensure_packages /usr/bin/time=time
[ -n "${HEARTBEAT_BIN:-}" ] || cargo build --release --quiet
binary=${HEARTBEAT_BIN:-$PWD/target/release/heartbeat}
work=$(mktemp -d)
config=examples/hmpps-integration-api/authorisation-probes.yaml
"$binary" sandbox --consumers "$config" --write-env "$work/sb.env" 2>/dev/null &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true; rm -rf "$work"' EXIT
until [ -s "$work/sb.env" ]; do sleep 0.1; done
# shellcheck disable=SC1091 # written just above
. "$work/sb.env"

python3 - "$runs" "$binary" "$config" "$work/matrix.toml" <<'PY'
import statistics, subprocess, sys, time

runs, binary, config, matrix = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
probes = ["full-access=FULL_ACCESS", "limited-access=LIMITED_ACCESS", "no-access=NO_ACCESS", "revoked=REVOKED"]
generate = [binary, "access", "matrix", "--config", config, "--fixtures", "examples/hmpps-integration-api/fixtures.toml",
            "--output", matrix, *[arg for p in probes for arg in ("--probe", p)]]
suite = [binary, "suite", matrix, "--quiet"]
times = {"generate the matrix": [], "run its checks": []}
for _ in range(runs):
    for name, command in zip(times, (generate, suite)):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)
checks = open(matrix).read().count("[[check]]")
print(f"{checks} checks, {runs} runs each")
for name, command in zip(times, (generate, suite)):
    rss = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, check=True)
    peak = int(rss.stderr.strip().splitlines()[-1]) / 1024
    print(f"{name:20s} median {statistics.median(times[name]) * 1000:8.1f} ms   peak RSS {peak:.2f} MiB")
PY
