#!/usr/bin/env bash
# Measures the orb's install step against a release server on 127.0.0.1: a fresh install (download, verify,
# extract) and a second run when that version is already installed. Prints the median of each.
# Usage: scripts/bench-install.sh [RUNS]   (default 20; builds the static release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
target=x86_64-unknown-linux-musl

cargo build --release --locked --quiet --target "$target"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

scripts/package.sh "$version" "$target" "target/$target/release/heartbeat" "$work/releases/v$version" >/dev/null
cp orb/src/scripts/install.sh "$work/install.sh"
scripts/pin-orb.sh "$version" "$work/releases/v$version/SHA256SUMS" "$work/install.sh"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/releases" >/dev/null 2>&1 &
server=$!
sleep 0.5

python3 - "$runs" "$work" "$port" <<'PY'
import os, shutil, statistics, subprocess, sys, time

runs, work, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
env = {"PATH": os.environ["PATH"], "HOME": work, "HB_RELEASE_URL": f"http://127.0.0.1:{port}", "HB_INSTALL_DIR": f"{work}/bin"}

def install():
    start = time.perf_counter()
    subprocess.run(["sh", f"{work}/install.sh"], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start

fresh, again = [], []
for _ in range(runs):
    shutil.rmtree(f"{work}/bin", ignore_errors=True)
    fresh.append(install())
    again.append(install())
print(f"install from a loopback release server: median {statistics.median(fresh) * 1000:.1f} ms (max {max(fresh) * 1000:.1f}; target <= 1 s)")
print(f"already installed, no download:          median {statistics.median(again) * 1000:.1f} ms (max {max(again) * 1000:.1f}; target <= 0.1 s)")
PY
