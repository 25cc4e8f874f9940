#!/usr/bin/env bash
# Makes a client certificate for an environment's mutual TLS: an RSA-2048 (or EC P-256) key and an X.509 v3
# certificate for client authentication (CA:FALSE, digitalSignature, clientAuth), signed by the environment's CA.
#
#   scripts/generate-client-certificate.sh [options] <environment> <client>
#
#   --ca-cert FILE --ca-key FILE  sign with this CA instead of fetching it from Kubernetes
#   --ec                          an EC P-256 key instead of RSA-2048
#   --days N                      validity in days (default 365)
#   --out DIR                     where to write the files (default: the current directory)
#   --force                       overwrite existing files
#   --print-base64                also print the base64 values to paste (they are secrets)
#
# Without --ca-cert/--ca-key the CA comes from the secret mutual-tls-auth (ca.crt, ca.key) in the namespace
# hmpps-integration-api-<environment>, through kubectl, into a private temporary directory that is removed on
# exit, failure included. Writes <environment>-<client>-client.pem and .key, mode 0600.
set -euo pipefail
umask 077

die() {
  echo "generate-client-certificate: $*" >&2
  exit "${code:-1}"
}
usage() {
  sed -n '5,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ca_cert="" ca_key="" key_type=rsa days=365 out=. force=0 print_base64=0
positional=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --ca-cert) ca_cert=${2:?--ca-cert needs a file}; shift ;;
    --ca-key) ca_key=${2:?--ca-key needs a file}; shift ;;
    --ec) key_type=ec ;;
    --days) days=${2:?--days needs a number}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --force) force=1 ;;
    --print-base64) print_base64=1 ;;
    -h | --help) usage ;;
    -*) echo "generate-client-certificate: unknown option $1" >&2; usage ;;
    *) positional+=("$1") ;;
  esac
  shift
done
[ "${#positional[@]}" -eq 2 ] || usage
environment=${positional[0]} client=${positional[1]}
code=2
[[ "$environment" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "environment '$environment' must be lower case letters, digits and dashes"
[[ "$client" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "client '$client' must be letters, digits, dots, dashes or underscores"
[[ "$days" =~ ^[1-9][0-9]*$ ]] || die "--days must be a whole number of days"
if [ -n "$ca_cert$ca_key" ] && { [ -z "$ca_cert" ] || [ -z "$ca_key" ]; }; then
  die "give both --ca-cert and --ca-key, or neither to fetch the CA with kubectl"
fi
cert_out=$out/$environment-$client-client.pem
key_out=$out/$environment-$client-client.key
if [ "$force" -eq 0 ] && { [ -e "$cert_out" ] || [ -e "$key_out" ]; }; then
  die "$cert_out or $key_out exists; pass --force to replace them"
fi
code=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "$ca_cert" ]; then
  namespace=hmpps-integration-api-$environment
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed; install it, or pass --ca-cert and --ca-key"
  echo "fetching the CA from secret mutual-tls-auth in namespace $namespace"
  for item in crt key; do
    kubectl get secret mutual-tls-auth --namespace "$namespace" --output "jsonpath={.data.ca\\.$item}" |
      base64 -d >"$work/ca.$item" || die "could not read ca.$item from secret mutual-tls-auth in $namespace"
    [ -s "$work/ca.$item" ] || die "secret mutual-tls-auth in $namespace has no ca.$item"
  done
  ca_cert=$work/ca.crt ca_key=$work/ca.key
fi
if [ ! -r "$ca_cert" ] || [ ! -r "$ca_key" ]; then
  die "cannot read the CA files"
fi

if [ "$key_type" = ec ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/client.key" 2>/dev/null
else
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/client.key" 2>/dev/null
fi
openssl req -new -key "$work/client.key" -subj "/CN=$client" -out "$work/client.csr"
cat >"$work/client.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
openssl x509 -req -in "$work/client.csr" -CA "$ca_cert" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 16)" \
  -days "$days" -sha256 -extfile "$work/client.ext" -out "$work/client.pem" 2>"$work/openssl.log" ||
  die "signing failed: $(tr '\n' ' ' <"$work/openssl.log")"

mkdir -p "$out"
install -m 0600 "$work/client.pem" "$cert_out"
install -m 0600 "$work/client.key" "$key_out"
expiry=$(openssl x509 -in "$cert_out" -noout -enddate | cut -d= -f2)
kind=$([ "$key_type" = ec ] && echo "EC P-256" || echo "RSA-2048")
cat <<DONE
wrote $cert_out (X.509 v3, clientAuth, CN=$client, until $expiry)
  and $key_out ($kind private key), both mode 0600
next:
  heartbeat cert inspect --cert $cert_out --key $key_out
  scripts/create-context.sh $environment --cert $cert_out --key $key_out --service-url URL --org-id ID
  (or set MTLS_CERT and MTLS_KEY to: base64 < FILE | tr -d '\\n')
DONE
if [ "$print_base64" -eq 1 ]; then
  echo "MTLS_CERT=$(base64 <"$cert_out" | tr -d '\n')"
  echo "MTLS_KEY=$(base64 <"$key_out" | tr -d '\n')"
fi
