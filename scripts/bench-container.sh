#!/usr/bin/env bash
# Measures the container image as the release builds it (the Dockerfile's prebuilt path over the static musl
# binary), with podman and runc as root, its storage in a temporary directory: the image's size, and the wall
# time of `podman run … heartbeat check` against `heartbeat sandbox` on the host — the first run after the build
# (cold: the container's root set up for the first time) and the median of RUNS more (warm).
# Usage: scripts/bench-container.sh [RUNS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
target=x86_64-unknown-linux-musl
cargo build --release --locked --quiet --target "$target"
bin=target/$target/release/heartbeat
work=$(mktemp -d)
podman=(podman --root "$work/root" --runroot "$work/run" --storage-driver vfs --runtime runc --cgroup-manager cgroupfs
  --events-backend file)
cleanup() {
  kill "${sandbox:-}" 2>/dev/null || true
  "${podman[@]}" system reset --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/image.sh "$work/context" "$target=$bin" >/dev/null
"${podman[@]}" build -q --build-arg BINARY=prebuilt --build-arg TARGETARCH=amd64 -f Dockerfile -t localhost/heartbeat:bench \
  "$work/context" >/dev/null
size=$("${podman[@]}" image inspect localhost/heartbeat:bench --format '{{.Size}}')
"$bin" sandbox --write-env "$work/sb.env" >"$work/out" 2>/dev/null &
sandbox=$!
for _ in $(seq 100); do [ -s "$work/out" ] && break; sleep 0.05; done
# shellcheck disable=SC1091
. "$work/sb.env"
export SERVICE_URL API_KEY MTLS_CERT MTLS_KEY SERVICE_CA_CERT
run() {
  local start end
  start=$(date +%s%N)
  "${podman[@]}" run --rm --read-only --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    -e SERVICE_URL -e API_KEY -e MTLS_CERT -e MTLS_KEY -e SERVICE_CA_CERT localhost/heartbeat:bench check --attempts 1 --quiet
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
cold=$(run)
warm=()
for _ in $(seq "$runs"); do warm+=("$(run)"); done
median=$(printf '%s\n' "${warm[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
awk -v size="$size" -v cold="$cold" -v median="$median" -v runs="$runs" 'BEGIN {
  printf "image: %.2f MiB (the binary alone)\npodman run, healthy check: cold %d ms, warm median %d ms over %d runs\n", size / 1048576, cold, median, runs }'
