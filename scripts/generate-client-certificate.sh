#!/usr/bin/env bash
# Makes a client certificate for an environment's mutual TLS: an RSA-2048 (or EC P-256) key and an X.509 v3
# certificate for client authentication (CA:FALSE, digitalSignature, clientAuth), signed by the environment's CA.
#
#   scripts/generate-client-certificate.sh [options] <environment> <client>
#
#   --ca-cert FILE --ca-key FILE  sign with this CA instead of fetching it from Kubernetes
#   --ec                          an EC P-256 key instead of RSA-2048
#   --days N                      validity in days (default 365, at most 3650)
#   --service-url URL             the URL the client will call, for the authorisation lines printed at the end
#   --role ROLE                   the role that grants that path (authorisation.yaml's roles), for those lines
#   --out DIR                     where to write the files (default: the current directory)
#   --force                       overwrite existing files
#   --print-base64                also print the base64 values to paste (they are secrets)
#
# Without --ca-cert/--ca-key the CA comes from the secret mutual-tls-auth (fields truststore-public-key and
# truststore-private-key) in the namespace hmpps-integration-api-<environment>, through kubectl, into a private
# temporary directory that is removed on exit, failure included. The certificate's CN is the client's name,
# which the API authorises by. Writes <environment>-<client>-client.pem and .key, mode 0600, and prints the
# authorisation lines to add to authorisation.yaml: the consumer with its role, or the older include pattern.
set -euo pipefail
umask 077

die() {
  echo "generate-client-certificate: $*" >&2
  exit "${code:-1}"
}
# Prints the header comment (from the usage line to the end of the comment) as help.
usage() {
  sed -n '/^#   scripts\/generate-client-certificate.sh/,/^# authorisation lines/p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

ca_cert="" ca_key="" key_type=rsa days=365 out=. force=0 print_base64=0 service_url=${SERVICE_URL:-} role=""
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
    --service-url) service_url=${2:?--service-url needs a URL}; shift ;;
    --role) role=${2:?--role needs a role name}; shift ;;
    -h | --help) usage 0 ;;
    -*) echo "generate-client-certificate: unknown option $1" >&2; usage >&2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
[ "${#positional[@]}" -eq 2 ] || usage >&2
environment=${positional[0]} client=${positional[1]}
code=2
[[ "$environment" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "environment '$environment' must be lower case letters, digits and dashes"
[[ "$client" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || die "client '$client' must be letters, digits, dashes or underscores"
[ -z "$role" ] || [[ "$role" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "role '$role' must be lower case letters, digits and dashes"
if ! [[ "$days" =~ ^[1-9][0-9]{0,3}$ ]] || [ "$days" -gt 3650 ]; then
  die "--days must be a whole number of days from 1 to 3650 (ten years); got '$days'"
fi
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
  for item in crt:truststore-public-key key:truststore-private-key; do
    field=${item#*:} file=$work/ca.${item%%:*}
    kubectl get secret mutual-tls-auth --namespace "$namespace" --output "jsonpath={.data.$field}" |
      base64 -d >"$file" || die "could not read $field from secret mutual-tls-auth in $namespace"
    [ -s "$file" ] || die "secret mutual-tls-auth in $namespace has no field $field"
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

# The include pattern for the URL's path, as the API matches it (the whole path): each segment that holds an
# id (a digit, but not a version like v1) becomes one segment of anything, the rest is escaped literally.
path=$(printf '%s' "$service_url" | sed -E 's#^[a-zA-Z]+://[^/]*##; s#[?\#].*##')
allowed=""
IFS=/ read -r -a segments <<<"${path#/}"
for segment in "${segments[@]}"; do
  if [[ "$segment" =~ [0-9] ]] && ! [[ "$segment" =~ ^v[0-9]+$ ]]; then
    allowed+="/[^/]+"
  else
    allowed+="/$(printf '%s' "$segment" | sed -E 's/[][\.*^$+?(){}|]/\\&/g')"
  fi
done
[ -n "$path" ] || allowed='/v1/persons/[^/]+'

mkdir -p "$out"
install -m 0600 "$work/client.pem" "$cert_out"
install -m 0600 "$work/client.key" "$key_out"
expiry=$(openssl x509 -in "$cert_out" -noout -enddate | cut -d= -f2)
kind=$([ "$key_type" = ec ] && echo "EC P-256" || echo "RSA-2048")
cat <<DONE
wrote $cert_out (X.509 v3, clientAuth, CN=$client, until $expiry)
  and $key_out ($kind private key), both mode 0600
next:
  1. heartbeat cert inspect --cert $cert_out --key $key_out
  2. let CN=$client call the API: a pull request to the team's authorisation.yaml (the private configuration
     repository; application-$environment.yml of hmpps-integration-api until July 2026), under
     authorisation.consumers:
       $client:
         roles: ["${role:-ROLE}"]$([ -n "$role" ] || echo "   # the role whose permissions include ${path:-the path it calls} (see roles)")
     or, in the older style the API still accepts:
       $client:
         include:
           - '$allowed'
  3. scripts/create-context.sh $environment --client $client --org-id ID --service-url URL
DONE
if [ "$print_base64" -eq 1 ]; then
  echo "MTLS_CERT=$(base64 <"$cert_out" | tr -d '\n')"
  echo "MTLS_KEY=$(base64 <"$key_out" | tr -d '\n')"
fi
