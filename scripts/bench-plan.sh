#!/usr/bin/env bash
# Measures how planning grows with a suite's size: `heartbeat suite FILE --list` (every check validated, nothing
# sent) on generated files of N checks with unique names, and of N checks that all share one name (every one
# then a problem with its position). Planning must stay linear: the goal is a 30,000-check file in under 2 s.
# Usage: scripts/bench-plan.sh [N...]   (default 1000 10000 30000; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(1000 10000 30000)
cargo build --release --locked --quiet
bin=$PWD/target/release/heartbeat
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
generate() { # N NAME-PREFIX UNIQUE(0/1) > file
  awk -v n="$1" -v unique="$2" 'BEGIN {
    print "base_url = \"https://api.example\"\n[consumers.full]\napi_key = \"${BENCH_KEY}\""
    for (i = 0; i < n; i++) printf "[[check]]\nname = \"check %s\"\nconsumer = \"full\"\npath = \"/v1/persons/A%d\"\n", (unique ? i : "same"), i
  }'
}
for n in "${sizes[@]}"; do
  for unique in 1 0; do
    generate "$n" "$unique" >"$work/suite.toml"
    start=$(date +%s%N)
    BENCH_KEY=bench-key "$bin" suite "$work/suite.toml" --list >/dev/null 2>&1 || true
    end=$(date +%s%N)
    printf '%6d checks, %-16s %6d KiB  %6d ms\n' "$n" "$([ "$unique" = 1 ] && echo "unique names" || echo "one shared name")" \
      "$(($(wc -c <"$work/suite.toml") / 1024))" "$(((end - start) / 1000000))"
  done
done
