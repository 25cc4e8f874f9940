#!/bin/sh
# heartbeat/check: runs `heartbeat check` with the environment's context. The secrets come by name
# (env_var_name parameters) and are read here with indirection, so no value is ever in the config.
# Parameters arrive as environment: HB_*_VAR name the variables; HB_EXPECT_JSON, HB_EXPECT_STATUS,
# HB_ATTEMPTS, HB_RETRY_DELAY, HB_TIMEOUT, HB_RESULTS_DIR and HB_NAME carry the rest; with HB_SUITE set it
# runs that suite file instead (the file names its own variables). HB_KEEP_STATE=true keeps state between
# runs in HB_STATE_PATH (HB_ALERT_AFTER, HB_REMIND_EVERY). With
# HB_ACTION=record-failure (an on_fail step) it writes a JUnit failure when the check never wrote one, so the
# Tests tab says why (an install that failed).
set -eu

HB_STATE_FILE=${HB_STATE_FILE:-/tmp/heartbeat-bin}

# Writes a JUnit file with one failed test case, so CircleCI's Tests tab shows why the check did not run.
hb_junit_failure() {
  results=$1
  message=$(printf '%s' "$2" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g')
  name=$(printf '%s' "${HB_NAME:-heartbeat}" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g')
  mkdir -p "$results"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<testsuites name="heartbeat" tests="1" failures="1" errors="0">'
    echo '  <testsuite name="heartbeat" tests="1" failures="1" errors="0">'
    echo "    <testcase name=\"$name\" classname=\"heartbeat.check\">"
    echo "      <failure message=\"$message\" type=\"not_run\">$message</failure>"
    echo '    </testcase>'
    echo '  </testsuite>'
    echo '</testsuites>'
  } >"$results/heartbeat.xml"
}

# Prints the value of the variable named $1; the name is checked first, since it is evaluated.
hb_read() {
  case "$1" in
    "" | [0-9]* | *[!A-Za-z0-9_]*)
      echo "heartbeat/check: '$1' is not a valid environment variable name" >&2
      return 2
      ;;
  esac
  eval "printf '%s' \"\${$1:-}\""
}

# Loads the context's variables under the names heartbeat reads; lists every empty one at once.
hb_load_context() {
  missing=""
  for pair in "SERVICE_URL:$HB_SERVICE_URL_VAR:service_url" "API_KEY:$HB_API_KEY_VAR:api_key" \
    "MTLS_CERT:$HB_MTLS_CERT_VAR:mtls_cert" "MTLS_KEY:$HB_MTLS_KEY_VAR:mtls_key"; do
    target=${pair%%:*}
    rest=${pair#*:}
    source=${rest%%:*}
    value=$(hb_read "$source")
    if [ -z "$value" ]; then
      missing="$missing  - $source (parameter ${rest#*:}) is empty or unset\n"
    fi
    export "$target=$value"
  done
  ca=$(hb_read "${HB_SERVICE_CA_CERT_VAR:-SERVICE_CA_CERT}")
  if [ -n "$ca" ]; then
    export SERVICE_CA_CERT="$ca"
  fi
  if [ -n "$missing" ]; then
    printf 'heartbeat/check: the context is incomplete; nothing was sent:\n%b' "$missing" >&2
    echo "  hint: add these variables to the job's context (hmpps-integration-api-heartbeat-<env>)" >&2
    hb_junit_failure "${HB_RESULTS_DIR:-/tmp/heartbeat-results}" \
      "the context is incomplete; nothing was sent: $(printf '%b' "$missing" | sed 's/^ *- //' | tr '\n' ';')"
    return 2
  fi
}

# Prints the binary heartbeat/install verified: $HEARTBEAT_BIN (bash images read it from BASH_ENV), else the
# path it recorded for sh-only images. Never whatever `heartbeat` happens to be on PATH.
hb_binary() {
  binary=${HEARTBEAT_BIN:-}
  if [ -z "$binary" ] && [ -r "$HB_STATE_FILE" ]; then
    binary=$(cat "$HB_STATE_FILE")
  fi
  if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "heartbeat/check: no heartbeat installed by heartbeat/install; run the install command first" >&2
    return 2
  fi
  printf '%s' "$binary"
}

hb_main() {
  if [ "${HB_ACTION:-check}" = record-failure ]; then
    results=${HB_RESULTS_DIR:-/tmp/heartbeat-results}
    [ -e "$results/heartbeat.xml" ] ||
      hb_junit_failure "$results" "heartbeat did not run: the install step failed (see its output)"
    return 0
  fi
  if [ -n "${HB_NOTIFY:-}" ]; then
    set -- --notify "$HB_NOTIFY"
  else
    set --
  fi
  if [ "${HB_KEEP_STATE:-false}" = true ]; then
    # The first run has no cache to restore: the state's directory is made here.
    mkdir -p "$(dirname "$HB_STATE_PATH")"
    set -- "$@" --state "$HB_STATE_PATH" --alert-after "${HB_ALERT_AFTER:-1}"
    if [ -n "${HB_REMIND_EVERY:-}" ]; then
      set -- "$@" --remind-every "$HB_REMIND_EVERY"
    fi
  fi
  if [ -n "${HB_SUITE:-}" ]; then
    binary=$(hb_binary)
    results=${HB_RESULTS_DIR:-/tmp/heartbeat-results}
    mkdir -p "$results"
    "$binary" suite "$HB_SUITE" "$@" --format json --junit "$results/heartbeat.xml" >"$results/heartbeat.json"
    return
  fi
  hb_load_context
  binary=$(hb_binary)
  results=${HB_RESULTS_DIR:-/tmp/heartbeat-results}
  mkdir -p "$results"
  set -- check "$@" --attempts "${HB_ATTEMPTS:-5}" --retry-delay "${HB_RETRY_DELAY:-10s}" \
    --timeout "${HB_TIMEOUT:-30s}" --expect-status "${HB_EXPECT_STATUS:-200}" \
    --format json --junit "$results/heartbeat.xml"
  if [ -n "${HB_EXPECT_JSON:-}" ]; then
    set -- "$@" --expect-json "$HB_EXPECT_JSON"
  fi
  "$binary" "$@" >"$results/heartbeat.json"
}

# The bats tests source this file with HEARTBEAT_ORB_TEST=1 to call the functions one by one.
if [ "${HEARTBEAT_ORB_TEST:-}" != 1 ]; then
  hb_main
fi
