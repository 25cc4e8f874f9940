#!/usr/bin/env bash
# Reports the size of the stripped static x86_64 musl release binary, with the sandbox (the default
# feature) and without it. Budget: <= 6 MiB with the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
cargo build --release --locked --quiet --target "$target"
cargo build --release --locked --quiet --target "$target" --no-default-features --target-dir target/no-sandbox
report() {
  bytes=$(wc -c <"$2" | tr -d ' ')
  awk -v label="$1" -v b="$bytes" 'BEGIN { printf "%-22s %9d bytes  %.2f MiB\n", label, b, b / 1048576 }'
}
report "with the sandbox" "target/$target/release/heartbeat"
report "without the sandbox" "target/no-sandbox/$target/release/heartbeat"
file -b "target/$target/release/heartbeat"
