#!/usr/bin/env bats
# Unit tests for orb/src/scripts/check.sh, sourced function by function behind its test guard.

setup() {
  export HEARTBEAT_ORB_TEST=1
  # shellcheck source=../src/scripts/check.sh
  . "$BATS_TEST_DIRNAME/../src/scripts/check.sh"
  export HB_SERVICE_URL_VAR=DEV_URL HB_API_KEY_VAR=DEV_KEY HB_MTLS_CERT_VAR=DEV_CERT HB_MTLS_KEY_VAR=DEV_KEY_PEM
  work=$(mktemp -d)
  export HB_RESULTS_DIR=$work/results HB_STATE_FILE=$work/heartbeat-bin
}

teardown() {
  rm -rf "$work"
}

@test "variables are read by name" {
  DEV_URL=https://api.test/v1 run hb_read DEV_URL
  [ "$output" = https://api.test/v1 ]
  run hb_read UNSET_VARIABLE_FOR_TEST
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "names that are not variable names are refused before eval" {
  for name in 'X;touch /tmp/pwned' '1ABC' '' 'A-B' '$(id)'; do
    run hb_read "$name"
    [ "$status" -eq 2 ]
    [[ "$output" == *"is not a valid environment variable name"* ]]
  done
  [ ! -e /tmp/pwned ]
}

@test "the context is exported under the names heartbeat reads" {
  export DEV_URL=https://api.test DEV_KEY=k DEV_CERT=c DEV_KEY_PEM=p
  hb_load_context
  [ "$SERVICE_URL" = https://api.test ]
  [ "$API_KEY" = k ]
  [ "$MTLS_CERT" = c ]
  [ "$MTLS_KEY" = p ]
}

@test "every empty variable is listed at once, by its configured name" {
  export DEV_URL=https://api.test
  unset DEV_KEY DEV_CERT DEV_KEY_PEM
  run hb_load_context
  [ "$status" -eq 2 ]
  [[ "$output" == *"DEV_KEY (parameter api_key) is empty or unset"* ]]
  [[ "$output" == *"DEV_CERT (parameter mtls_cert) is empty or unset"* ]]
  [[ "$output" == *"DEV_KEY_PEM (parameter mtls_key) is empty or unset"* ]]
  [[ "$output" != *"DEV_URL"* ]]
}

@test "only the binary heartbeat/install recorded is run, never one on PATH" {
  printf '#!/bin/sh\n' >"$work/heartbeat"
  chmod +x "$work/heartbeat"
  PATH="$work:$PATH" HEARTBEAT_BIN="" run hb_binary
  [ "$status" -eq 2 ]
  [[ "$output" == *"run the install command first"* ]]
  HEARTBEAT_BIN=$work/heartbeat run hb_binary
  [ "$output" = "$work/heartbeat" ]
  printf '%s\n' "$work/heartbeat" >"$HB_STATE_FILE"
  HEARTBEAT_BIN="" run hb_binary
  [ "$output" = "$work/heartbeat" ]
}

@test "an incomplete context leaves a JUnit failure naming the variables, never values" {
  export DEV_URL=https://api.test/SENTINEL-url
  unset DEV_KEY DEV_CERT DEV_KEY_PEM
  run hb_load_context
  [ "$status" -eq 2 ]
  xml=$(cat "$HB_RESULTS_DIR/heartbeat.xml")
  [[ "$xml" == *'<failure message="the context is incomplete; nothing was sent: DEV_KEY (parameter api_key)'* ]]
  [[ "$xml" != *SENTINEL* ]]
}

@test "a failed install leaves a JUnit failure unless the check wrote results" {
  HB_ACTION=record-failure HB_NAME='dev & <prod>' hb_main
  grep -q 'the install step failed' "$HB_RESULTS_DIR/heartbeat.xml"
  grep -q 'testcase name="dev &amp; &lt;prod&gt;"' "$HB_RESULTS_DIR/heartbeat.xml"
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$HB_RESULTS_DIR/heartbeat.xml"
  echo '<kept/>' >"$HB_RESULTS_DIR/heartbeat.xml"
  HB_ACTION=record-failure hb_main
  [ "$(cat "$HB_RESULTS_DIR/heartbeat.xml")" = '<kept/>' ]
}
