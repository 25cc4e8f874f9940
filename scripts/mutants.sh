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

caught=0 missed=0
# Applies one bug (sed expressions on one file), runs the tests, restores the file.
#   mutant NAME FILE PROMISE SED_EXPRESSION...
mutant() {
  local name=$1 file=$2 promise=$3 before
  shift 3
  [ -z "$filter" ] || [[ "$name" == *"$filter"* ]] || return 0
  before=$(sha256sum "$file")
  for expression in "$@"; do sed -i "$expression" "$file"; done
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
}

mutant tls-exit-code src/failure.rs "a TLS handshake failure exits 4" \
  's/Self::ClientCertRejected | Self::ServerCertInvalid | Self::TlsHandshake => {/Self::ClientCertRejected | Self::ServerCertInvalid => {/'
mutant not-yet-valid src/identity.rs "a not-yet-valid certificate is refused before sending" \
  's/if now < self.not_before {/if false \&\& now < self.not_before {/'
mutant streaming-cap src/answer.rs "--max-body bounds a body without Content-Length" \
  's/if body.len() as u64 + chunk.len() as u64 > max_body {/if false {/'
mutant content-length-cap src/answer.rs "--max-body refuses a declared length at once" \
  's/if response.content_length().is_some_and(|len| len > max_body) {/if false {/'
mutant retry-after-cap src/probe.rs "a server cannot stall the job" \
  's/None if server_asked \&\& wait > MAX_RETRY_AFTER =>/None if false =>/'
mutant no-color src/environment.rs "NO_COLOR turns colour off" \
  's/let refused = self.vars.get("NO_COLOR").is_some_and(|v| !v.is_empty());/let refused = false;/'
mutant reused-connections src/consumer.rs "every attempt is a fresh connection" \
  's/.pool_max_idle_per_host(0)/.pool_max_idle_per_host(8)/'
mutant resumed-sessions src/identity.rs "every attempt is a full handshake" \
  's/config.resumption = rustls::client::Resumption::disabled();//'
mutant key-header src/probe.rs "--api-key-header renames the header" \
  's/request = request.header(\&key.header, key.value());/request = request.header("x-api-key", key.value());/'
mutant mtls-redaction src/config.rs "certificate and key values are never printed" \
  's/for name in \[API_KEY, MTLS_CERT, MTLS_KEY\] {/for name in [API_KEY] {/' \
  's/secrets.extend(pem_secrets(\&pem));/let _ = pem;/'
mutant redaction-off src/redact.rs "server text that echoes a secret is redacted" \
  's/text = text.replace(form.as_str(), REDACTED);/let _ = form;/'
mutant retry-401 src/failure.rs "a 401 is not retried" \
  's/^            Self::Unauthorized$/            Self::Redirect/'
mutant gateway-403 src/classify.rs "the gateway's 403 names the key and the certificate" \
  's/(StatusCode::FORBIDDEN, Origin::Gateway) => FailureClass::GatewayForbidden,/(StatusCode::FORBIDDEN, Origin::Gateway) => FailureClass::ConsumerForbidden,/'
mutant cross-origin src/probe.rs "the key never goes to another origin" \
  's/if check.follow_redirects \&\& same_origin(\&url, \&next) {/if check.follow_redirects {/'
mutant key-pair src/identity.rs "a key from another pair is refused" \
  's/if facts.matches_key(signer.as_ref()) == Some(false) {/if false {/'
mutant expiry src/identity.rs "an expired certificate is refused" \
  's/} else if now > self.not_after {/} else if false {/'
mutant door-open src/classify.rs "a door left open exits 5" \
  's/FailureClass::DoorOpen$/FailureClass::UnexpectedStatus/'

echo "$caught caught, $missed missed"
[ "$missed" -eq 0 ]
