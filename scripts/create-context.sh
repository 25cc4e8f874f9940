#!/usr/bin/env bash
# Creates (or finds) the CircleCI context hmpps-integration-api-heartbeat-<environment> and sets API_KEY,
# MTLS_CERT, MTLS_KEY and SERVICE_URL in it through the CircleCI API v2. Idempotent; prints names only.
#
#   CIRCLE_TOKEN=… scripts/create-context.sh [options] <environment>
#
#   --client NAME        the consumer: its API key is read from secret consumer-api-keys (field NAME) in
#                        namespace hmpps-integration-api-<environment> with kubectl, and --cert/--key default
#                        to <environment>-NAME-client.pem/.key (what generate-client-certificate.sh wrote)
#   --org-id ID          the organisation id (Organization Settings > Overview)   [$CIRCLE_ORG_ID]
#   --service-url URL    the URL heartbeat checks                                 [$SERVICE_URL]
#   --api-key-file FILE  a file holding the API key (instead of --client's)       [$API_KEY]
#   --cert FILE          the client certificate, PEM (base64-encoded here)        [$MTLS_CERT, base64]
#   --key FILE           the client private key, PEM (base64-encoded here)        [$MTLS_KEY, base64]
#   --api-url URL        the API base (default https://circleci.com/api/v2)       [$CIRCLECI_API_URL]
#
# Secrets never reach a command line or a file: the API key comes from kubectl through a pipe, the token goes
# to curl as a config on a pipe, values as request bodies on stdin. Nothing is sent until every input is read
# and checked. Exit codes: 0 done, 1 the API refused, 2 bad input.
set -euo pipefail

fail() {
  echo "create-context: $2" >&2
  exit "$1"
}
# Prints the header comment (from the usage line to the exit codes) as help.
usage() {
  sed -n '/^#   CIRCLE_TOKEN=/,/^# and checked/p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

org=${CIRCLE_ORG_ID:-} service_url=${SERVICE_URL:-} api_key=${API_KEY:-} cert=${MTLS_CERT:-} key=${MTLS_KEY:-}
api=${CIRCLECI_API_URL:-https://circleci.com/api/v2}
environment="" client="" cert_file="" key_file=""
# Reads a PEM file as base64 on one line, the form the context holds.
encode() { base64 <"$1" | tr -d '\n'; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --client) client=${2:?--client needs a name}; shift ;;
    --org-id) org=${2:?}; shift ;;
    --service-url) service_url=${2:?}; shift ;;
    --api-key-file) api_key=$(tr -d '\r\n' <"${2:?}") || fail 2 "cannot read $2"; shift ;;
    --cert) cert_file=${2:?--cert needs a file}; shift ;;
    --key) key_file=${2:?--key needs a file}; shift ;;
    --api-url) api=${2:?}; shift ;;
    -h | --help) usage 0 >&1 ;;
    -*) echo "create-context: unknown option $1" >&2; usage >&2 ;;
    *) [ -z "$environment" ] || usage >&2; environment=$1 ;;
  esac
  shift
done
[ -z "$environment" ] || [[ "$environment" =~ ^[a-z0-9][a-z0-9-]*$ ]] ||
  fail 2 "environment '$environment' must be lower case letters, digits and dashes"
[ -z "$client" ] || [[ "$client" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] ||
  fail 2 "client '$client' must be letters, digits, dashes or underscores"
if [ -n "$client" ] && [ -n "$environment" ]; then
  [ -n "$cert_file$cert" ] || cert_file=$environment-$client-client.pem
  [ -n "$key_file$key" ] || key_file=$environment-$client-client.key
  if [ -z "$api_key" ]; then
    namespace=hmpps-integration-api-$environment
    command -v kubectl >/dev/null 2>&1 || fail 2 "kubectl is not installed; install it, or pass --api-key-file"
    # The key stays in this process: kubectl's output is piped through base64 -d into a variable.
    api_key=$(kubectl get secret consumer-api-keys --namespace "$namespace" --output "jsonpath={.data.$client}" | base64 -d) ||
      fail 2 "could not read field $client of secret consumer-api-keys in namespace $namespace"
    [ -n "$api_key" ] || fail 2 "secret consumer-api-keys in $namespace has no field $client: is the consumer's API key pull request merged?"
  fi
fi
# A key with whitespace or control characters at its ends is a paste accident; the gateway would refuse it.
case "$api_key" in
  *[[:cntrl:]]* | [[:space:]]* | *[[:space:]]) fail 2 "the API key has leading or trailing whitespace or control characters; check how it was copied" ;;
esac
# Checks a certificate or key is readable before anything is sent, then encodes it as the context holds it.
readable() {
  local what=$1 file=$2
  [ -r "$file" ] || fail 2 "cannot read $what file $file"
  if [ "$what" = certificate ]; then
    openssl x509 -in "$file" -noout 2>/dev/null || fail 2 "$file is not a PEM certificate"
  else
    openssl pkey -in "$file" -noout -passin pass: 2>/dev/null || fail 2 "$file is not an unencrypted PEM private key"
  fi
}
if [ -n "$cert_file" ]; then readable certificate "$cert_file"; cert=$(encode "$cert_file"); fi
if [ -n "$key_file" ]; then readable key "$key_file"; key=$(encode "$key_file"); fi
if [ -n "$cert_file" ] && [ -n "$key_file" ] && command -v heartbeat >/dev/null 2>&1; then
  # heartbeat's own reading: exit 2 means it could not read them as `heartbeat check` would.
  inspect=0
  heartbeat cert inspect --cert "$cert_file" --key "$key_file" >/dev/null 2>&1 || inspect=$?
  [ "$inspect" -ne 2 ] || fail 2 "heartbeat cert inspect cannot read $cert_file and $key_file; run it to see why"
fi

missing=()
[ -n "$environment" ] || missing+=("<environment> (dev, preprod, prod, …)")
[ -n "${CIRCLE_TOKEN:-}" ] || missing+=("CIRCLE_TOKEN (a CircleCI personal API token)")
[ -n "$org" ] || missing+=("--org-id or CIRCLE_ORG_ID")
[ -n "$service_url" ] || missing+=("--service-url or SERVICE_URL")
[ -n "$api_key" ] || missing+=("--client, --api-key-file or API_KEY")
[ -n "$cert" ] || missing+=("--cert or MTLS_CERT")
[ -n "$key" ] || missing+=("--key or MTLS_KEY")
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'create-context: missing, nothing was sent:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
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
        message=$(jq -r '.message // empty' <<<"$answer" 2>/dev/null | head -c 300 | tr -d '[:cntrl:]' || true)
        # The API may echo what it was sent: never print a secret back.
        local secret
        for secret in "$CIRCLE_TOKEN" "$api_key" "$cert" "$key"; do
          [ -z "$secret" ] || message=${message//"$secret"/[redacted]}
        done
        fail 1 "CircleCI answered HTTP ${status%% *} to $method ${path%%\?*}${message:+: $message}"
        ;;
    esac
  done
  fail 1 "still rate limited after $attempt attempts; try again later"
}

# Finds the context by name, following at most 100 pages; stops on any answer the API does not document.
find_context() {
  local token="" seen=" " page id pages=0
  while [ "$pages" -lt 100 ]; do
    pages=$((pages + 1))
    page=$(api GET "/context?owner-id=$org${token:+&page-token=$(jq -rn --arg t "$token" '$t | @uri')}") || exit 1
    jq -e '.items | type == "array"' >/dev/null 2>&1 <<<"$page" || fail 1 "CircleCI's context list is not the documented JSON; nothing was changed"
    id=$(jq -r --arg name "$context" '.items[] | select(.name == $name) | .id' <<<"$page" | head -n 1)
    [ -z "$id" ] || { printf '%s' "$id"; return 0; }
    token=$(jq -r '.next_page_token // empty' <<<"$page")
    [ -n "$token" ] || return 0
    case "$seen" in *" $token "*) fail 1 "CircleCI repeated a page token; stopping" ;; esac
    seen="$seen$token "
  done
  fail 1 "more than 100 pages of contexts; stopping"
}

# Accepts only a context id in the documented form (a UUID), so nothing is ever sent to /context/null/….
valid_id() {
  [[ "$1" =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]] ||
    fail 1 "CircleCI answered without a valid context id; nothing was set"
}

id=$(find_context) || exit 1
if [ -n "$id" ]; then
  valid_id "$id"
  echo "context $context exists ($id)"
else
  body=$(jq -n --arg name "$context" --arg org "$org" '{name: $name, owner: {id: $org, type: "organization"}}')
  answer=$(api POST /context "$body") || exit 1
  id=$(jq -r '.id // empty' <<<"$answer" 2>/dev/null || true)
  valid_id "$id"
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
