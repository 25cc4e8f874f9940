#!/usr/bin/env bash
# Measures `heartbeat cert watch` on a tree of 1,000 client certificates in the team's layout
# (<env>/<client>/client.pem), issued here with openssl (v1, as the team's recipe makes them) by one CA, with
# the CA check on. Prints the median wall time and the peak RSS (GNU time's %M).
# Usage: scripts/bench-certs.sh [RUNS] [CERTIFICATES]   (defaults 15 and 1000; needs openssl, python3, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
count=${2:-1000}
. scripts/ensure-packages.sh
ensure_packages openssl=openssl /usr/bin/time=time
[ -n "${HEARTBEAT_BIN:-}" ] || cargo build --release --quiet
binary=${HEARTBEAT_BIN:-$PWD/target/release/heartbeat}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -days 3650 -subj /CN=bench-ca -out ca.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key 2>/dev/null
openssl req -new -key client.key -subj /CN=bench -out client.csr 2>/dev/null
for i in $(seq 1 "$count"); do
  dir=certs/env$((i % 3))/client$i
  mkdir -p "$dir"
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial "$i" -days $((i % 400 + 1)) \
    -out "$dir/client.pem" 2>/dev/null
done
python3 - "$runs" "$binary" <<'PY'
import statistics, subprocess, sys, time

runs, binary = int(sys.argv[1]), sys.argv[2]
command = [binary, "cert", "watch", "certs", "--ca", "ca.pem"]
times = []
for _ in range(runs):
    start = time.perf_counter()
    code = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    times.append(time.perf_counter() - start)
    if code not in (0, 1, 6):
        sys.exit(f"cert watch exited {code}")
rss = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True)
count = subprocess.run(command, capture_output=True, text=True).stdout.count("\n") - 1
print(f"{count} certificates, {runs} runs: median {statistics.median(times) * 1000:.1f} ms "
      f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}), peak RSS {int(rss.stderr.strip().splitlines()[-1]) / 1024:.2f} MiB")
PY
