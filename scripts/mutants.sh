#!/usr/bin/env bash
# Puts one deliberate bug at a time into src/ and runs the Rust tests, to see which promises the tests really
# guard. Run it before a release (it takes a while: one incremental build and test run per bug), on a clean
# tree; every file is restored afterwards, interruption included. Prints one line per bug and a summary.
#   scripts/mutants.sh [NAME_FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}
git diff --quiet -- src || { echo "mutants: src/ has uncommitted changes; commit or stash them first" >&2; exit 2; }
trap 'git checkout -q -- src' EXIT

# name | file | sed expression(s), separated by ';;' | the promise it breaks
mutants=(
  "tls-exit-code|src/failure.rs|s/Self::ClientCertRejected | Self::ServerCertInvalid | Self::TlsHandshake => {/Self::ClientCertRejected | Self::ServerCertInvalid => {/|a TLS handshake failure exits 4"
  "not-yet-valid|src/identity.rs|s/if now < self.not_before {/if false \&\& now < self.not_before {/|a not-yet-valid certificate is refused before sending"
  "streaming-cap|src/answer.rs|s/if body.len() as u64 + chunk.len() as u64 > max_body {/if false {/|--max-body bounds a body without Content-Length"
  "content-length-cap|src/answer.rs|s/if response.content_length().is_some_and(|len| len > max_body) {/if false {/|--max-body refuses a declared length at once"
  "retry-after-cap|src/probe.rs|s/None if server_asked \&\& wait > MAX_RETRY_AFTER =>/None if false =>/|a server cannot stall the job"
  "no-color|src/environment.rs|s/\&\& !self.vars.contains_key(\"NO_COLOR\")/\&\& true/|NO_COLOR turns colour off"
  "reused-connections|src/probe.rs|s/.pool_max_idle_per_host(0)/.pool_max_idle_per_host(8)/|every attempt is a fresh connection"
  "resumed-sessions|src/identity.rs|s/config.resumption = rustls::client::Resumption::disabled();//|every attempt is a full handshake"
  "key-header|src/probe.rs|s/.header(\&config.api_key_header, config.api_key_value())/.header(\"x-api-key\", config.api_key_value())/|--api-key-header renames the header"
  "mtls-redaction|src/config.rs|s/for name in \[API_KEY, MTLS_CERT, MTLS_KEY\] {/for name in [API_KEY] {/;;s/secrets.extend(pem_secrets(\&pem));/let _ = pem;/|certificate and key values are never printed"
  "redaction-off|src/redact.rs|s/text = text.replace(form.as_str(), REDACTED);/let _ = form;/|server text that echoes a secret is redacted"
  "retry-401|src/failure.rs|s/Self::Unauthorized$/Self::Redirect/|a 401 is not retried"
  "gateway-403|src/classify.rs|s/(StatusCode::FORBIDDEN, Origin::Gateway) => FailureClass::GatewayForbidden,/(StatusCode::FORBIDDEN, Origin::Gateway) => FailureClass::ConsumerForbidden,/|the gateway's 403 names the key and the certificate"
  "cross-origin|src/probe.rs|s/if config.follow_redirects \&\& same_origin(\&url, \&next) {/if config.follow_redirects {/|the key never goes to another origin"
  "key-pair|src/identity.rs|s/if facts.matches_key(signer.as_ref()) == Some(false) {/if false {/|a key from another pair is refused"
  "expiry|src/identity.rs|s/} else if now > self.not_after {/} else if false {/|an expired certificate is refused"
)

caught=0 missed=0
for entry in "${mutants[@]}"; do
  IFS='|' read -r name file expressions promise <<<"$entry"
  [ -z "$filter" ] || [[ "$name" == *"$filter"* ]] || continue
  before=$(sha256sum "$file")
  IFS=$'\n' read -r -d '' -a seds < <(printf '%s' "${expressions//;;/$'\n'}" && printf '\0') || true
  for expression in "${seds[@]}"; do sed -i "$expression" "$file"; done
  if [ "$(sha256sum "$file")" = "$before" ]; then
    echo "mutants: $name did not apply to $file (the code moved?); fix the list" >&2
    exit 1
  fi
  if timeout 900 cargo test --quiet >/dev/null 2>&1; then
    echo "MISSED  $name: $promise"
    missed=$((missed + 1))
  else
    echo "caught  $name"
    caught=$((caught + 1))
  fi
  git checkout -q -- "$file"
done
echo "$caught caught, $missed missed"
[ "$missed" -eq 0 ]
