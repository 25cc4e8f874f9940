# Sourced by the benchmarks: the team's PKI as their script makes it (RSA-2048, X.509 v1 client certificates,
# `openssl x509 -req` without extensions) and nginx with ssl_verify_client on, serving a person behind a key.
# bench_pki WORK CLIENT...       writes WORK/ca.pem, WORK/server.{pem,key} and WORK/CLIENT.{pem,key}
# bench_nginx WORK PORT KEY      starts nginx (daemon; WORK/nginx.pid) answering GET /v1/persons…
# bench_check_context WORK       both, on a free port, and exports one check's context (SERVICE_URL, API_KEY,
#                                MTLS_CERT, MTLS_KEY, SERVICE_CA_CERT)

bench_pki() {
  local work=$1 client
  shift
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 -subj "/CN=bench CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$work/san.ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
  for client in "$@"; do
    openssl req -newkey rsa:2048 -nodes -keyout "$work/$client.key" -out "$work/$client.csr" -subj "/CN=$client" 2>/dev/null
    openssl x509 -req -in "$work/$client.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
      -out "$work/$client.pem" 2>/dev/null
  done
}

bench_nginx() {
  local work=$1 port=$2 key=$3 nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  cat >"$work/nginx.conf" <<CONF
daemon on;
worker_processes 1;
error_log $work/error.log warn;
pid $work/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    ssl_client_certificate $work/ca.pem;
    ssl_verify_client on;
    location /v1/persons {
      default_type application/json;
      if (\$http_x_api_key != "$key") { return 401 '{"userMessage":"Authentication failed"}'; }
      return 200 '{"data":{"prisonerOffenderSearch":{"firstName":"Ada","lastName":"Lovelace"}}}';
    }
  }
}
CONF
  "$nginx" -p "$work" -e "$work/error.log" -c "$work/nginx.conf"
  sleep 0.3
}

bench_check_context() {
  local work=$1 port api_key
  bench_pki "$work" client
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  api_key=bench-$(openssl rand -hex 8)
  bench_nginx "$work" "$port" "$api_key"
  export SERVICE_URL="https://127.0.0.1:$port/v1/persons?first_name=Ada"
  export API_KEY=$api_key
  MTLS_CERT=$(base64 -w0 "$work/client.pem")
  MTLS_KEY=$(base64 -w0 "$work/client.key")
  SERVICE_CA_CERT=$(base64 -w0 "$work/ca.pem")
  export MTLS_CERT MTLS_KEY SERVICE_CA_CERT
}
