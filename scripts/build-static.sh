#!/usr/bin/env bash
# The static x86_64 release binary the tests use, built as the release builds it, and its path on stdout.
# It has a target directory of its own: cargo locks a target directory for one build at a time, and this
# build (a long, mostly single-threaded LTO link) is worth running beside the debug builds (scripts/test.sh
# starts it first; the tests' fixture runs it again and so finds it built, or waits for it).
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
dir=target/static
cargo build --release --locked --quiet --target "$target" --target-dir "$dir"
echo "$PWD/$dir/$target/release/heartbeat"
