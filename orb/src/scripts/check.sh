#!/bin/sh
# heartbeat/check: runs `heartbeat check` with the environment's context. The secrets come by name
# (env_var_name parameters) and are read here with indirection, so no value is ever in the config.
# Parameters arrive as environment: HB_*_VAR name the variables; HB_EXPECT_JSON, HB_EXPECT_STATUS,
# HB_ATTEMPTS, HB_RETRY_DELAY, HB_TIMEOUT, HB_RESULTS_DIR and HB_INSTALL_DIR carry the rest.
set -eu

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
    return 2
  fi
}

hb_binary() {
  if [ -x "${HB_INSTALL_DIR:-/usr/local/bin}/heartbeat" ]; then
    echo "${HB_INSTALL_DIR:-/usr/local/bin}/heartbeat"
  else
    echo heartbeat
  fi
}

hb_main() {
  hb_load_context
  results=${HB_RESULTS_DIR:-/tmp/heartbeat-results}
  mkdir -p "$results"
  set -- check --attempts "${HB_ATTEMPTS:-5}" --retry-delay "${HB_RETRY_DELAY:-10s}" \
    --timeout "${HB_TIMEOUT:-30s}" --expect-status "${HB_EXPECT_STATUS:-200}" \
    --format json --junit "$results/heartbeat.xml"
  if [ -n "${HB_EXPECT_JSON:-}" ]; then
    set -- "$@" --expect-json "$HB_EXPECT_JSON"
  fi
  "$(hb_binary)" "$@" >"$results/heartbeat.json"
}

# The bats tests source this file with HEARTBEAT_ORB_TEST=1 to call the functions one by one.
if [ "${HEARTBEAT_ORB_TEST:-}" != 1 ]; then
  hb_main
fi
