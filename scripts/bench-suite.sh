#!/usr/bin/env bash
# Measures `heartbeat suite` with 60 checks across 3 consumers against nginx (OpenSSL, ssl_verify_client on,
# RSA-2048 v1 client certificates) on loopback, interleaved in the same run with one `heartbeat check`, with
# the old way for the same 60 requests (60 curl invocations, each with its certificate files), and with Hurl
# 8.0.1 (the closest peer: one file, one process) on the same requests: 55 by one consumer, and the 60 across
# 3 consumers (a per-request [Options] cert/key). Prints the medians, the suite's ratio to one check (target
# <= 4x), to the old way and to Hurl (target <= 0.35x on 55), and the suite's peak RSS (target <= 16 MiB,
# from GNU time's %M). Hurl is left out, saying so, when `hurl` is not on PATH
# (`cargo install --locked hurl@8.0.1`, with Debian's libcurl4-openssl-dev, libxml2-dev and clang).
# HEARTBEAT_BEFORE=/path/to/an/older/heartbeat runs that binary too, interleaved, for before/after figures.
# Usage: scripts/bench-suite.sh [RUNS]   (default 15; needs nginx, curl, openssl, python3, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
. scripts/ensure-packages.sh
ensure_packages /usr/sbin/nginx=nginx-light curl=curl openssl=openssl /usr/bin/time=time
[ -n "${HEARTBEAT_BIN:-}" ] || cargo build --release --quiet
binary=${HEARTBEAT_BIN:-$PWD/target/release/heartbeat}
work=$(mktemp -d)
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

. scripts/bench-nginx.sh
bench_pki "$work" full limited other
for consumer in full limited other; do
  upper=$(echo "$consumer" | tr "[:lower:]" "[:upper:]")
  export "${upper}_CERT=$(base64 -w0 "$work/$consumer.pem")" "${upper}_KEY=$(base64 -w0 "$work/$consumer.key")"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api_key=bench-$(openssl rand -hex 8)
bench_nginx "$work" "$port" "$api_key"

export API_KEY=$api_key SERVICE_BASE_URL="https://127.0.0.1:$port" WORK=$work
SERVICE_CA_CERT=$(base64 -w0 "$work/ca.pem"); export SERVICE_CA_CERT
export SERVICE_URL="$SERVICE_BASE_URL/v1/persons/A0000AA" MTLS_CERT=$FULL_CERT MTLS_KEY=$FULL_KEY
# shellcheck disable=SC2016 # the ${NAME} references are for heartbeat, not this shell
{
  printf 'base_url = "${SERVICE_BASE_URL}"\nca_cert = "${SERVICE_CA_CERT}"\n[defaults]\nattempts = 1\nexpect_json = ["$..firstName"]\n'
  for consumer in full limited other; do
    upper=$(echo "$consumer" | tr "[:lower:]" "[:upper:]")
    printf '[consumers.%s]\napi_key = "${API_KEY}"\ncert = "${%s_CERT}"\nkey = "${%s_KEY}"\n' "$consumer" "$upper" "$upper"
  done
  for n in $(seq 0 59); do
    consumers=(full limited other)
    printf '[[check]]\nname = "check %d"\nconsumer = "%s"\npath = "/v1/persons/A%04dAA"\n' "$n" "${consumers[$((n % 3))]}" "$n"
  done
} >"$work/suite.toml"
# The same checks for Hurl: the key header, a 200 and a firstName, each request with its consumer's pair.
hurl_entry() { # PATH CONSUMER
  printf 'GET {{base}}%s\nx-api-key: {{api_key}}\n[Options]\ncert: %s\nkey: %s\nHTTP 200\n[Asserts]\njsonpath "$..firstName" exists\n\n' \
    "$1" "$work/$2.pem" "$work/$2.key"
}
# shellcheck disable=SC2016 # the ${NAME} references are for heartbeat, not this shell
{
  printf 'base_url = "${SERVICE_BASE_URL}"\nca_cert = "${SERVICE_CA_CERT}"\n[defaults]\nattempts = 1\nexpect_json = ["$..firstName"]\n'
  printf '[consumers.full]\napi_key = "${API_KEY}"\ncert = "${FULL_CERT}"\nkey = "${FULL_KEY}"\n'
  for n in $(seq 0 54); do
    printf '[[check]]\nname = "check %d"\nconsumer = "full"\npath = "/v1/persons/A%04dAA"\n' "$n" "$n"
  done
} >"$work/suite55.toml"
for n in $(seq 0 54); do hurl_entry "/v1/persons/A$(printf %04d "$n")AA" full; done >"$work/one.hurl"
consumers=(full limited other)
for n in $(seq 0 59); do hurl_entry "/v1/persons/A$(printf %04d "$n")AA" "${consumers[$((n % 3))]}"; done >"$work/three.hurl"

# The old way, 60 times: the certificate files written, then curl | grep, one request per process.
cat >"$work/old.sh" <<'OLD'
set -eo pipefail
for n in $(seq 0 59); do
  case $((n % 3)) in 0) c=$FULL_CERT k=$FULL_KEY ;; 1) c=$LIMITED_CERT k=$LIMITED_KEY ;; *) c=$OTHER_CERT k=$OTHER_KEY ;; esac
  echo "$c" | base64 -d >"$WORK/old.pem"
  echo "$k" | base64 -d >"$WORK/old.key"
  curl -s --cacert "$WORK/ca.pem" --cert "$WORK/old.pem" --key "$WORK/old.key" -H "x-api-key: $API_KEY" \
    "$SERVICE_BASE_URL/v1/persons/A$(printf %04d "$n")AA" | grep -q firstName
done
OLD

python3 - "$runs" "$binary" "$work" <<'PY'
import os, statistics, subprocess, sys, time

runs, binary, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
import shutil
concurrency = [f"--concurrency={os.environ['CONCURRENCY']}"] if os.environ.get("CONCURRENCY") else []
commands = {
    "one check": [binary, "check", "--quiet", "--attempts", "1"],
    "suite (60 checks, 3 consumers)": [binary, "suite", f"{work}/suite.toml", "--quiet", *concurrency],
    "old way (60 curl)": ["bash", f"{work}/old.sh"],
    "suite (55 checks, 1 consumer)": [binary, "suite", f"{work}/suite55.toml", "--quiet", *concurrency],
}
before = os.environ.get("HEARTBEAT_BEFORE")
if before:
    for name in list(commands):
        if not name.startswith("old way"):
            commands[f"before: {name}"] = [before, *commands[name][1:]]
hurl = shutil.which("hurl")
if hurl:
    version = subprocess.run([hurl, "--version"], capture_output=True, text=True).stdout.split()[1]
    variables = ["--cacert", f"{work}/ca.pem", "--variable", f"base={os.environ['SERVICE_BASE_URL']}",
                 "--variable", f"api_key={os.environ['API_KEY']}"]
    commands[f"hurl {version} (55 requests, 1 consumer)"] = [hurl, "--test", *variables, f"{work}/one.hurl"]
    commands[f"hurl {version} (60 requests, 3 consumers)"] = [hurl, "--test", *variables, f"{work}/three.hurl"]
else:
    print("hurl is not on PATH: the comparison with Hurl is left out (cargo install --locked hurl@8.0.1)")
times = {name: [] for name in commands}
for _ in range(runs):
    for name, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)
def peak_rss(command):
    return subprocess.run(["/usr/bin/time", "-f", "%M", *command],
                          capture_output=True, text=True, check=True).stderr.strip().splitlines()[-1]
rss = peak_rss(commands["suite (60 checks, 3 consumers)"])
median = {name: statistics.median(values) * 1000 for name, values in times.items()}
for name, value in median.items():
    print(f"{name:34s} median {value:8.1f} ms")
suite, check, old = median["suite (60 checks, 3 consumers)"], median["one check"], median["old way (60 curl)"]
print(f"suite / one check: {suite / check:.2f}x (target <= 4x)")
print(f"suite / old way:   {suite / old:.2f}x")
print(f"suite peak RSS:    {int(rss) / 1024:.2f} MiB (target <= 16 MiB)")
if before:
    for name in [n for n in median if n.startswith("before: ")]:
        print(f"now / {name}: {median[name[len('before: '):]] / median[name]:.2f}x")
    check_rss = peak_rss(commands["one check"])
    before_rss = peak_rss(commands["before: one check"])
    print(f"one check peak RSS: {int(check_rss) / 1024:.2f} MiB (before {int(before_rss) / 1024:.2f} MiB)")
    print(f"suite peak RSS before: {int(peak_rss(commands['before: suite (60 checks, 3 consumers)'])) / 1024:.2f} MiB")
for name in [n for n in median if n.startswith("hurl")]:
    ours = median["suite (55 checks, 1 consumer)" if "55" in name else "suite (60 checks, 3 consumers)"]
    target = " (target <= 0.35x)" if "55" in name else " (target < 1x)"
    print(f"suite / {name}: {ours / median[name]:.2f}x{target}")
PY
