#!/usr/bin/env bash
# Creates (or finds) the CircleCI context hmpps-integration-api-heartbeat-<environment> and sets API_KEY,
# MTLS_CERT, MTLS_KEY and SERVICE_URL in it through the CircleCI API v2. Idempotent; prints names only.
#
#   CIRCLE_TOKEN=… scripts/create-context.sh [options] <environment>
#
#   --org-id ID          the organisation id (Organization Settings > Overview)   [$CIRCLE_ORG_ID]
#   --service-url URL    the URL heartbeat checks                                 [$SERVICE_URL]
#   --api-key-file FILE  a file holding the API key                               [$API_KEY]
#   --cert FILE          the client certificate, PEM (base64-encoded here)        [$MTLS_CERT, base64]
#   --key FILE           the client private key, PEM (base64-encoded here)        [$MTLS_KEY, base64]
#   --api-url URL        the API base (default https://circleci.com/api/v2)       [$CIRCLECI_API_URL]
#
# Secrets never reach a command line or a file: the token goes to curl as a config on a pipe, values as
# request bodies on stdin. Exit codes: 0 done, 1 the API refused, 2 bad input.
set -euo pipefail

fail() {
  echo "create-context: $2" >&2
  exit "$1"
}
usage() {
  sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

org=${CIRCLE_ORG_ID:-} service_url=${SERVICE_URL:-} api_key=${API_KEY:-} cert=${MTLS_CERT:-} key=${MTLS_KEY:-}
api=${CIRCLECI_API_URL:-https://circleci.com/api/v2}
environment=""
# Reads a PEM file as base64 on one line, the form the context holds.
encode() { base64 <"$1" | tr -d '\n'; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --org-id) org=${2:?}; shift ;;
    --service-url) service_url=${2:?}; shift ;;
    --api-key-file) api_key=$(tr -d '\r\n' <"${2:?}") || fail 2 "cannot read $2"; shift ;;
    --cert) cert=$(encode "${2:?}") || fail 2 "cannot read $2"; shift ;;
    --key) key=$(encode "${2:?}") || fail 2 "cannot read $2"; shift ;;
    --api-url) api=${2:?}; shift ;;
    -h | --help) usage ;;
    -*) echo "create-context: unknown option $1" >&2; usage ;;
    *) [ -z "$environment" ] || usage; environment=$1 ;;
  esac
  shift
done

missing=()
[ -n "$environment" ] || missing+=("<environment> (dev, preprod, prod, …)")
[ -n "${CIRCLE_TOKEN:-}" ] || missing+=("CIRCLE_TOKEN (a CircleCI personal API token)")
[ -n "$org" ] || missing+=("--org-id or CIRCLE_ORG_ID")
[ -n "$service_url" ] || missing+=("--service-url or SERVICE_URL")
[ -n "$api_key" ] || missing+=("--api-key-file or API_KEY")
[ -n "$cert" ] || missing+=("--cert or MTLS_CERT")
[ -n "$key" ] || missing+=("--key or MTLS_KEY")
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'create-context: missing, nothing was sent:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
[[ "$environment" =~ ^[a-z0-9][a-z0-9-]*$ ]] || fail 2 "environment '$environment' must be lower case letters, digits and dashes"
case "$cert" in *BEGIN*) cert=$(printf '%s' "$cert" | base64 | tr -d '\n') ;; esac
case "$key" in *BEGIN*) key=$(printf '%s' "$key" | base64 | tr -d '\n') ;; esac
command -v jq >/dev/null 2>&1 || fail 2 "jq is not installed"
context=hmpps-integration-api-heartbeat-$environment

# Calls the API: api METHOD PATH [BODY]. Prints the answer's body; retries 429 as Retry-After says.
api() {
  local method=$1 path=$2 body=${3:-} attempt answer status wait
  for attempt in 1 2 3 4; do
    answer=$(printf '%s' "$body" | curl --silent --show-error --config <(printf 'header = "Circle-Token: %s"\n' "$CIRCLE_TOKEN") \
      --request "$method" --header 'Content-Type: application/json' --header 'Accept: application/json' \
      ${body:+--data-binary @-} --write-out '\n%{http_code} %header{retry-after}' "$api$path") ||
      fail 1 "could not reach $api ($method $path)"
    status=$(tail -n 1 <<<"$answer")
    answer=$(sed '$d' <<<"$answer")
    case "${status%% *}" in
      2??) printf '%s' "$answer"; return 0 ;;
      429)
        wait=${status#* }
        [[ "$wait" =~ ^[0-9]+$ ]] || wait=$attempt
        [ "$wait" -le 30 ] || wait=30
        echo "create-context: rate limited; retrying in ${wait}s" >&2
        sleep "$wait"
        ;;
      401 | 403) fail 1 "CircleCI refused CIRCLE_TOKEN (HTTP ${status%% *}): check the token and that its owner belongs to the organisation" ;;
      *)
        local message
        message=$(jq -r '.message // empty' <<<"$answer" 2>/dev/null || true)
        fail 1 "CircleCI answered HTTP ${status%% *} to $method ${path%%\?*}${message:+: $message}"
        ;;
    esac
  done
  fail 1 "still rate limited after $attempt attempts; try again later"
}

# Finds the context by name, following the pages.
find_context() {
  local token="" page id
  while :; do
    page=$(api GET "/context?owner-id=$org${token:+&page-token=$token}") || exit 1
    id=$(jq -r --arg name "$context" '.items[] | select(.name == $name) | .id' <<<"$page" | head -n 1)
    [ -z "$id" ] || { printf '%s' "$id"; return 0; }
    token=$(jq -r '.next_page_token // empty' <<<"$page")
    [ -n "$token" ] || return 0
  done
}

id=$(find_context) || exit 1
if [ -n "$id" ]; then
  echo "context $context exists ($id)"
else
  body=$(jq -n --arg name "$context" --arg org "$org" '{name: $name, owner: {id: $org, type: "organization"}}')
  id=$(api POST /context "$body" | jq -r '.id') || exit 1
  echo "created context $context ($id)"
fi
for name in API_KEY MTLS_CERT MTLS_KEY SERVICE_URL; do
  case "$name" in
    API_KEY) value=$api_key ;;
    MTLS_CERT) value=$cert ;;
    MTLS_KEY) value=$key ;;
    SERVICE_URL) value=$service_url ;;
  esac
  # The value reaches jq through its environment, not its command line.
  body=$(VALUE=$value jq -n '{value: env.VALUE}')
  api PUT "/context/$id/environment-variable/$name" "$body" >/dev/null || exit 1
  echo "  set $name"
done
echo "done: add '- heartbeat/check: {context: $context}' to a workflow"
