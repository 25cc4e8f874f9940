#!/usr/bin/env bash
# The GitHub Action's check step: runs `heartbeat check` (or `heartbeat suite`) with the binary the install
# step verified, then sets the outputs (verdict, exit-code, results-dir), writes a Markdown summary to
# $GITHUB_STEP_SUMMARY, emits an ::error annotation per failure, and exits with heartbeat's code.
# Inputs arrive as HB_* variables; secrets (SERVICE_URL, API_KEY, MTLS_CERT, MTLS_KEY, …) from the job's env.
set -uo pipefail

fail_unsupported() {
  echo "::error title=heartbeat::$1"
  exit 2
}
[ "${RUNNER_OS:-}" != "Windows" ] || fail_unsupported "heartbeat has no Windows build; use ubuntu-latest, ubuntu-24.04-arm or macos-latest"
binary=${HEARTBEAT_BIN:-}
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  fail_unsupported "the install step did not record a heartbeat binary"
fi

results=${HB_RESULTS_DIR:-heartbeat-results}
mkdir -p "$results"
args=(--format json --junit "$results/heartbeat.xml")
[ -z "${HB_NOTIFY:-}" ] || args+=(--notify "$HB_NOTIFY")
[ -z "${HB_NAME:-}" ] || args+=(--name "$HB_NAME")
if [ -n "${HB_STATE:-}" ]; then
  # The first run has no cache to restore: the state's directory is made here.
  mkdir -p "$(dirname "$HB_STATE")"
  args+=(--state "$HB_STATE" --alert-after "${HB_ALERT_AFTER:-1}")
  [ -z "${HB_REMIND_EVERY:-}" ] || args+=(--remind-every "$HB_REMIND_EVERY")
fi
[ -z "${HB_METRICS:-}" ] || args+=(--metrics "$HB_METRICS")
if [ -n "${HB_SUITE:-}" ]; then
  "$binary" suite "$HB_SUITE" "${args[@]}" >"$results/heartbeat.json"
else
  args+=(--attempts "${HB_ATTEMPTS:-5}" --retry-delay "${HB_RETRY_DELAY:-10s}" --timeout "${HB_TIMEOUT:-30s}"
    --expect-status "${HB_EXPECT_STATUS:-200}")
  [ -z "${HB_EXPECT_JSON:-}" ] || args+=(--expect-json "$HB_EXPECT_JSON")
  "$binary" check "${args[@]}" >"$results/heartbeat.json"
fi
code=$?

json=$results/heartbeat.json
verdict=$(jq -r '.verdict // "invalid"' "$json" 2>/dev/null || echo invalid)
{
  echo "verdict=$verdict"
  echo "exit-code=$code"
  echo "results-dir=$results"
} >>"${GITHUB_OUTPUT:-/dev/null}"

# Annotations and the summary carry only what heartbeat printed: cleaned, redacted text.
escape() { sed -e 's/%/%25/g' -e 's/\r/%0D/g' | tr '\n' ' '; }
if [ -n "${HB_SUITE:-}" ]; then
  jq -r '.checks[] | select(.verdict != "passed") | "\(.name) [\(.consumer)]: \(.message)"' "$json" 2>/dev/null |
    while IFS= read -r line; do echo "::error title=heartbeat suite::$(printf '%s' "$line" | escape)"; done
  {
    echo "### heartbeat suite: $verdict (exit $code)"
    echo
    echo "| check | consumer | verdict | status | latency |"
    echo "|---|---|---|---|---|"
    jq -r '.checks[] | "| \(.name) | \(.consumer) | \(.verdict) | \(.status // "-") | \(.latency_ms // "-") ms |"' "$json" 2>/dev/null
  } >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
else
  if [ "$code" -ne 0 ]; then
    reason=$(jq -r '.message // (.problems // [] | map("\(.input): \(.message)") | join("; "))' "$json" 2>/dev/null)
    echo "::error title=heartbeat::$(printf '%s' "${reason:-heartbeat failed with exit $code}" | escape)"
  fi
  {
    echo "### heartbeat: $verdict (exit $code)"
    echo
    jq -r '"| | |\n|---|---|\n| url | \(.url // "-") |\n| status | \(.status // "-") |\n| reason | \(.message // "-") |\n| request id | \(.request_id // "-") |\n| gateway request id | \(.gateway_request_id // "-") |"' "$json" 2>/dev/null
  } >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
fi
exit "$code"
