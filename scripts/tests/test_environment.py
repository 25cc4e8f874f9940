"""A new environment in two commands: scripts/generate-client-certificate.sh with a local CA (and with a
kubectl stand-in), scripts/create-context.sh against a local stand-in of the CircleCI API v2 contexts
endpoints, and the README's whole flow ending in a healthy `heartbeat check` against the sandbox.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
HEARTBEAT = Path(os.environ.get("HEARTBEAT_BIN", ROOT / "target" / "debug" / "heartbeat"))
TOKEN = "SENTINEL-circle-token-never-print"
ORG = "4e6b2c1a-0000-4000-8000-000000000001"


@pytest.fixture
def ca(tmp_path):
    """A local CA as an environment has one: RSA, PKCS#8 key."""
    key, cert = tmp_path / "ca.key", tmp_path / "ca.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-new", "-key", str(key), "-days", "30", "-subj", f"/CN=test CA {uuid.uuid4().hex[:8]}", "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def generate(*args, cwd, env=None):
    return subprocess.run(["bash", str(SCRIPTS / "generate-client-certificate.sh"), *args], cwd=cwd, capture_output=True, text=True, env=env)


def openssl_text(path: Path) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-text"], capture_output=True, text=True, check=True).stdout


# --- the certificate -------------------------------------------------------------------------------------


def test_a_v3_client_certificate_from_a_local_ca(tmp_path, ca):
    run = generate("dev", "heartbeat", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    cert, key = tmp_path / "dev-heartbeat-client.pem", tmp_path / "dev-heartbeat-client.key"
    for path in (cert, key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = openssl_text(cert)
    assert "Version: 3 (0x2)" in text
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text)
    assert re.search(r"Key Usage: critical\s+Digital Signature", text)
    assert re.search(r"Extended Key Usage:\s+TLS Web Client Authentication", text)
    assert "Public-Key: (2048 bit)" in text and "Subject: CN = heartbeat" in text
    assert subprocess.run(["openssl", "verify", "-CAfile", str(ca[0]), str(cert)], capture_output=True).returncode == 0
    secret = base64.b64encode(key.read_bytes()).decode()
    assert secret not in run.stdout and key.read_text().splitlines()[1] not in run.stdout
    assert "MTLS_KEY=" not in run.stdout
    inspect = subprocess.run([str(HEARTBEAT), "cert", "inspect", "--cert", str(cert), "--key", str(key)], capture_output=True, text=True)
    assert inspect.returncode == 0, inspect.stdout
    assert "(364 days left)" in inspect.stdout or "(365 days left)" in inspect.stdout


@pytest.mark.parametrize("path, pattern", [
    ("/v1/persons/A8451DY/name", "/v1/persons/[^/]+/name"),
    ("/v1/hmpps/reference-data", "/v1/hmpps/reference-data"),
    ("/v1/persons/G6333VK/visit-orders?page=2", "/v1/persons/[^/]+/visit-orders"),
    ("/v2/a.b/x", "/v2/a\\.b/x"),
])
def test_the_authorisation_lines_name_the_role_and_the_paths_template(tmp_path, ca, path, pattern):
    run = generate("dev", "probe", "--role", "private-prison", "--service-url", f"https://api.test{path}",
                   "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert '       probe:\n         roles: ["private-prison"]\n' in run.stdout, run.stdout
    assert f"           - '{pattern}'\n" in run.stdout, run.stdout
    # The pattern lets the path in as the API matches it (the whole path), and not a neighbour.
    bare = path.split("?")[0]
    assert re.fullmatch(pattern, bare) and not re.fullmatch(pattern, bare + "/more")
    assert generate("dev", "probe", "--role", "Bad Role", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]),
                    cwd=tmp_path).returncode == 2


def test_ec_keys_days_and_print_base64(tmp_path, ca):
    run = generate("preprod", "probe", "--ec", "--days", "30", "--print-base64", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    cert = tmp_path / "preprod-probe-client.pem"
    assert "Public-Key: (256 bit)" in openssl_text(cert)
    assert f"MTLS_CERT={base64.b64encode(cert.read_bytes()).decode()}\n" in run.stdout


STAND_IN = Path(__file__).resolve().parent / "stand-in"
NAMESPACE = "hmpps-integration-api-dev"


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def kubectl_stub(tmp_path: Path, ca, ca_key_text: str | None = None, api_keys: dict | None = None) -> dict:
    """The kubectl stand-in over the cluster's real secret layout: mutual-tls-auth with truststore-public-key
    and truststore-private-key, and consumer-api-keys with one field per client."""
    secrets = {
        NAMESPACE: {
            "mutual-tls-auth": {
                "truststore-public-key": b64(ca[0].read_bytes()),
                "truststore-private-key": b64(ca_key_text or ca[1].read_text()),
            },
            "consumer-api-keys": {name: b64(key) for name, key in (api_keys or {}).items()},
        }
    }
    (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    tmp = tmp_path / "private-tmp"
    tmp.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PATH": f"{STAND_IN}:{os.environ['PATH']}",
        "TMPDIR": str(tmp),
        "KUBECTL_STAND_IN_SECRETS": str(tmp_path / "secrets.json"),
        "KUBECTL_STAND_IN_LOG": str(tmp_path / "kubectl.log"),
    }


def test_the_stand_in_answers_as_kubectl_does(tmp_path, ca):
    env = kubectl_stub(tmp_path, ca, api_keys={"heartbeat": "k1"})
    kubectl = lambda *args: subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env)
    whole = json.loads(kubectl("get", "secret", "consumer-api-keys", "-n", NAMESPACE, "-o", "json").stdout)
    assert whole["kind"] == "Secret" and whole["data"] == {"heartbeat": b64("k1")}
    field = kubectl("get", "secret", "mutual-tls-auth", "--namespace", NAMESPACE, "--output", "jsonpath={.data.truststore-public-key}")
    assert base64.b64decode(field.stdout) == ca[0].read_bytes()
    missing_field = kubectl("get", "secret", "consumer-api-keys", "-n", NAMESPACE, "-o", "jsonpath={.data.nobody}")
    assert (missing_field.returncode, missing_field.stdout) == (0, "")
    missing = kubectl("get", "secret", "nope", "-n", NAMESPACE, "-o", "json")
    assert missing.returncode == 1 and missing.stderr == 'Error from server (NotFound): secrets "nope" not found\n'


def test_the_ca_fetched_from_kubernetes_is_removed_afterwards(tmp_path, ca):
    env = kubectl_stub(tmp_path, ca)
    run = generate("dev", "heartbeat", "--service-url", "https://api.test/v1/persons/A8451DY.json", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "mutual-tls-auth in namespace hmpps-integration-api-dev" in run.stdout
    assert list(Path(env["TMPDIR"]).iterdir()) == [], "the fetched CA key was left behind"
    assert "Version: 3" in openssl_text(tmp_path / "dev-heartbeat-client.pem")
    log = (tmp_path / "kubectl.log").read_text()
    assert "jsonpath={.data.truststore-public-key}" in log and "jsonpath={.data.truststore-private-key}" in log
    assert "application-dev.yml" in run.stdout
    assert '       heartbeat:\n         roles: ["ROLE"]   # the role whose permissions include /v1/persons/A8451DY.json' in run.stdout, run.stdout
    # The include pattern is the path's template: the id segment any segment, the rest literal.
    assert "       heartbeat:\n         include:\n           - '/v1/persons/[^/]+'\n" in run.stdout, run.stdout


def test_a_missing_ca_secret_is_named(tmp_path, ca):
    env = kubectl_stub(tmp_path, ca)
    run = generate("preprod", "heartbeat", cwd=tmp_path, env=env)
    assert run.returncode == 1
    assert "could not read truststore-public-key from secret mutual-tls-auth in hmpps-integration-api-preprod" in run.stderr
    assert "secrets \"mutual-tls-auth\" not found" in run.stderr


def test_the_fetched_ca_is_removed_on_failure_too(tmp_path, ca):
    env = kubectl_stub(tmp_path, ca, ca_key_text="-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    run = generate("dev", "heartbeat", cwd=tmp_path, env=env)
    assert run.returncode == 1
    assert "signing failed" in run.stderr
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert not (tmp_path / "dev-heartbeat-client.pem").exists()


def test_help_is_the_usage_and_absurd_days_are_named(tmp_path, ca):
    for script in ("generate-client-certificate.sh", "create-context.sh"):
        run = subprocess.run(["bash", str(SCRIPTS / script), "--help"], capture_output=True, text=True)
        assert run.returncode == 0 and "Usage" not in run.stderr
        assert run.stdout.lstrip().startswith(("scripts/generate-client-certificate.sh", "CIRCLE_TOKEN=")), run.stdout
        assert "set -euo" not in run.stdout
    run = generate("dev", "x", "--days", "99999999", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path)
    assert run.returncode == 2 and "from 1 to 3650" in run.stderr


def test_bad_inputs_are_refused(tmp_path, ca):
    assert generate("Dev!", "x", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path).returncode == 2
    run = generate("dev", "x", "--ca-cert", str(ca[0]), cwd=tmp_path)
    assert run.returncode == 2 and "give both --ca-cert and --ca-key" in run.stderr
    assert generate("dev", "x", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path).returncode == 0
    again = generate("dev", "x", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path)
    assert again.returncode == 2 and "pass --force" in again.stderr


# --- the context -----------------------------------------------------------------------------------------


class CircleCI:
    """A local stand-in for the CircleCI API v2 context endpoints; records every request."""

    def __init__(self, existing: list[str] = (), rate_limited: int = 0):
        self.requests, self.contexts, self.variables = [], {}, {}
        for name in existing:
            self.contexts[str(uuid.uuid4())] = name
        self.rate_limited = rate_limited
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                url = urlparse(self.path)
                api.requests.append({"method": self.command, "path": url.path, "query": parse_qs(url.query), "body": body, "auth": self.headers.get("Circle-Token") is not None})
                if self.headers.get("Circle-Token") != TOKEN:
                    return self.answer(401, {"message": "Invalid token provided."})
                if api.rate_limited > 0:
                    api.rate_limited -= 1
                    return self.answer(429, {"message": "Too many requests"}, [("Retry-After", "1")])
                return api.route(self, url, body)

            do_GET = do_POST = do_PUT = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v2"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, handler, url, body):
        query = parse_qs(url.query)
        if handler.command == "GET" and url.path == "/api/v2/context":
            if query.get("owner-id") != [ORG]:
                return handler.answer(404, {"message": "Organization not found."})
            items = [{"id": i, "name": n, "created_at": "2026-01-01T00:00:00Z"} for i, n in self.contexts.items()]
            page = int(query.get("page-token", ["0"])[0])
            nxt = str(page + 1) if page + 1 < len(items) else None
            return handler.answer(200, {"items": items[page : page + 1], "next_page_token": nxt})
        if handler.command == "POST" and url.path == "/api/v2/context":
            assert set(body) == {"name", "owner"} and body["owner"] == {"id": ORG, "type": "organization"}
            new = str(uuid.uuid4())
            self.contexts[new] = body["name"]
            return handler.answer(200, {"id": new, "name": body["name"], "created_at": "2026-11-25T00:00:00Z"})
        match = re.fullmatch(r"/api/v2/context/([^/]+)/environment-variable/(\w+)", url.path)
        if handler.command == "PUT" and match and match.group(1) in self.contexts:
            assert set(body) == {"value"} and isinstance(body["value"], str)
            self.variables.setdefault(match.group(1), {})[match.group(2)] = body["value"]
            return handler.answer(200, {"variable": match.group(2), "context_id": match.group(1), "created_at": "2026-11-25T00:00:00Z"})
        return handler.answer(404, {"message": "Not found."})

    def shape(self):
        return [(r["method"], re.sub(r"/context/[0-9a-f-]{36}", "/context/ID", r["path"])) for r in self.requests]


@pytest.fixture
def pair(tmp_path, ca):
    assert generate("dev", "heartbeat", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path).returncode == 0
    return tmp_path / "dev-heartbeat-client.pem", tmp_path / "dev-heartbeat-client.key"


def create_context(api: CircleCI, pair, *extra, token=TOKEN, org=ORG, api_key="SENTINEL-api-key-for-context"):
    env = {"PATH": os.environ["PATH"], "CIRCLE_TOKEN": token, "API_KEY": api_key}
    args = ["dev", "--org-id", org, "--service-url", "https://127.0.0.1:1/v1/persons", "--cert", str(pair[0]), "--key", str(pair[1]), "--api-url", api.url, *extra]
    run = subprocess.run(["bash", str(SCRIPTS / "create-context.sh"), *args], capture_output=True, text=True, env=env)
    for secret in (token, api_key, base64.b64encode(pair[1].read_bytes()).decode()):
        assert secret not in run.stdout + run.stderr, "a secret reached the output"
    return run


SETS = [("PUT", f"/api/v2/context/ID/environment-variable/{n}") for n in ("API_KEY", "MTLS_CERT", "MTLS_KEY", "SERVICE_URL")]


def test_a_new_context_is_created_and_filled(pair):
    api = CircleCI(existing=["some-other-context", "another"])
    run = create_context(api, pair)
    assert run.returncode == 0, run.stderr
    assert api.shape() == [("GET", "/api/v2/context")] * 2 + [("POST", "/api/v2/context")] + SETS
    assert all(r["auth"] for r in api.requests)
    assert api.requests[1]["query"]["page-token"] == ["1"], "pages are followed"
    (context_id, variables), = api.variables.items()
    assert api.contexts[context_id] == "hmpps-integration-api-heartbeat-dev"
    assert variables["MTLS_KEY"] == base64.b64encode(pair[1].read_bytes()).decode()
    assert variables["API_KEY"] == "SENTINEL-api-key-for-context"
    assert "created context hmpps-integration-api-heartbeat-dev" in run.stdout
    assert "set MTLS_KEY" in run.stdout


def test_running_again_reuses_the_context(pair):
    api = CircleCI(existing=["hmpps-integration-api-heartbeat-dev"])
    run = create_context(api, pair)
    assert run.returncode == 0, run.stderr
    assert api.shape() == [("GET", "/api/v2/context")] + SETS
    assert "context hmpps-integration-api-heartbeat-dev exists" in run.stdout


def test_a_refused_token_is_named(pair):
    api = CircleCI()
    run = create_context(api, pair, token="SENTINEL-wrong-token")
    assert run.returncode == 1
    assert "CircleCI refused CIRCLE_TOKEN (HTTP 401)" in run.stderr
    assert len(api.requests) == 1 and api.requests[0]["auth"]


def test_an_unknown_organisation_is_named(pair):
    api = CircleCI()
    run = create_context(api, pair, org="00000000-0000-4000-8000-00000000dead")
    assert run.returncode == 1
    assert "CircleCI answered HTTP 404 to GET /context: Organization not found." in run.stderr


def test_rate_limits_are_waited_out(pair):
    api = CircleCI(rate_limited=2)
    run = create_context(api, pair)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("rate limited; retrying in 1s") == 2
    assert api.shape()[:3] == [("GET", "/api/v2/context")] * 3


def test_missing_inputs_are_listed_and_nothing_is_sent(tmp_path):
    api = CircleCI()
    run = subprocess.run(["bash", str(SCRIPTS / "create-context.sh"), "--api-url", api.url], capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert run.returncode == 2
    for name in ("<environment>", "CIRCLE_TOKEN", "--org-id", "--service-url", "--client, --api-key-file", "--cert", "--key"):
        assert name in run.stderr, name
    assert api.requests == []


def test_client_reads_the_key_from_the_cluster_and_defaults_the_pair(tmp_path, pair):
    env = {**kubectl_stub(tmp_path, (pair[0], pair[1]), api_keys={"heartbeat": "SENTINEL-cluster-key"}), "CIRCLE_TOKEN": TOKEN}
    env.pop("API_KEY", None)
    api = CircleCI()
    args = ["dev", "--client", "heartbeat", "--org-id", ORG, "--service-url", "https://api.test/v1/persons/A8451DY", "--api-url", api.url]
    run = subprocess.run(["bash", str(SCRIPTS / "create-context.sh"), *args], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert "SENTINEL-cluster-key" not in run.stdout + run.stderr
    (variables,) = api.variables.values()
    assert variables["API_KEY"] == "SENTINEL-cluster-key"
    assert variables["MTLS_CERT"] == b64(pair[0].read_bytes())
    assert "get secret consumer-api-keys --namespace hmpps-integration-api-dev --output jsonpath={.data.heartbeat}" in (tmp_path / "kubectl.log").read_text()


@pytest.mark.parametrize(
    "keys, cert_text, message",
    [
        ({}, None, "secret consumer-api-keys in hmpps-integration-api-dev has no field heartbeat"),
        ({"heartbeat": "SENTINEL-key-with-space "}, None, "leading or trailing whitespace or control characters"),
        ({"heartbeat": "SENTINEL-key\tinside"}, None, "leading or trailing whitespace or control characters"),
        ({"heartbeat": "SENTINEL-good-key"}, "not a certificate\n", "is not a PEM certificate"),
    ],
)
def test_bad_cluster_keys_and_unreadable_pairs_are_refused_before_sending(tmp_path, pair, keys, cert_text, message):
    env = {**kubectl_stub(tmp_path, (pair[0], pair[1]), api_keys=keys), "CIRCLE_TOKEN": TOKEN}
    env.pop("API_KEY", None)
    if cert_text is not None:
        pair[0].write_text(cert_text)
    api = CircleCI()
    args = ["dev", "--client", "heartbeat", "--org-id", ORG, "--service-url", "https://api.test/v1/persons/X", "--api-url", api.url]
    run = subprocess.run(["bash", str(SCRIPTS / "create-context.sh"), *args], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert "SENTINEL" not in run.stderr
    assert api.requests == []


def test_answers_off_the_documented_shape_stop_the_script(pair):
    api = CircleCI()
    api.route = lambda handler, url, body: handler.answer(200, {"id": None, "items": []} if handler.command == "POST" else {"items": []})
    run = create_context(api, pair)
    assert run.returncode == 1 and "without a valid context id" in run.stderr
    assert [r["method"] for r in api.requests] == ["GET", "POST"], "a secret was sent to /context/null"
    garbled = CircleCI()

    def not_json(handler, url, body):
        handler.send_response(200)
        handler.send_header("Content-Length", "9")
        handler.end_headers()
        handler.wfile.write(b"<html>oops")

    garbled.route = not_json
    run = create_context(garbled, pair)
    assert run.returncode == 1 and "not the documented JSON" in run.stderr
    assert [r["method"] for r in garbled.requests] == ["GET"], "a context was created after a garbled answer"
    looping = CircleCI()
    looping.route = lambda handler, url, body: handler.answer(200, {"items": [], "next_page_token": "same/token"})
    run = create_context(looping, pair)
    assert run.returncode == 1 and "repeated a page token" in run.stderr
    assert looping.requests[1]["query"]["page-token"] == ["same/token"]


# --- the README's steps, end to end ----------------------------------------------------------------------


def nginx_for(tmp_path: Path, ca, api_key: str):
    """nginx with ssl_verify_client on against the environment's CA, answering a person behind the key."""
    binary = next(p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if Path(p).exists())
    d = tmp_path / "nginx"
    d.mkdir()
    (d / "ext").write_text("subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(d / "server.key")], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", str(d / "server.key"), "-subj", "/CN=127.0.0.1", "-out", str(d / "server.csr")], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(d / "server.csr"), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-set_serial", "7", "-days", "2", "-extfile", str(d / "ext"), "-out", str(d / "server.pem")], check=True, capture_output=True)
    sock = d / "nginx.sock"
    body = '{"data":{"prisonerOffenderSearch":{"firstName":"Ada"}}}'
    (d / "nginx.conf").write_text(
        f"daemon off; master_process off; worker_processes 1; error_log {d}/error.log; pid {d}/pid;\n"
        "events { worker_connections 16; }\n"
        f"http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n"
        f"  server {{ listen unix:{sock} ssl; ssl_certificate {d}/server.pem; ssl_certificate_key {d}/server.key;\n"
        f"    ssl_client_certificate {ca[0]}; ssl_verify_client on; default_type application/json;\n"
        f"    location /v1/persons/ {{ if ($http_x_api_key != \"{api_key}\") {{ return 403 '{{\"message\":\"Forbidden\"}}'; }} return 200 '{body}'; }}\n"
        "  } }\n"
    )
    process = subprocess.Popen([binary, "-p", f"{d}/", "-e", f"{d}/error.log", "-c", str(d / "nginx.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if sock.exists():
            break
        time.sleep(0.05)
    return process, f"https://127.0.0.1:{forward_to(sock)}"


def forward_to(sock: Path) -> int:
    """Relays 127.0.0.1:0 to nginx's unix socket byte for byte: nginx cannot listen on port 0, and a port found
    free and released could be taken before nginx binds it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def serve():
        while True:
            client, _ = listener.accept()
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(str(sock))
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_the_readme_steps_give_a_context_that_checks_healthy(tmp_path, ca):
    """The README's two commands against the cluster's real secret layout (stand-in kubectl) and the contexts
    API (stand-in), then a check with exactly the recorded context against nginx."""
    key = "SENTINEL-env-api-key"
    env = {**kubectl_stub(tmp_path, ca, api_keys={"heartbeat": key}), "CIRCLE_TOKEN": TOKEN}
    env.pop("API_KEY", None)
    nginx, origin = nginx_for(tmp_path, ca, key)
    try:
        url = origin + "/v1/persons/A8451DY"
        made = generate("dev", "heartbeat", "--service-url", url, cwd=tmp_path, env=env)
        assert made.returncode == 0, made.stderr
        assert "- '/v1/persons/[^/]+'" in made.stdout
        api = CircleCI()
        args = ["dev", "--client", "heartbeat", "--org-id", ORG, "--service-url", url, "--api-url", api.url]
        created = subprocess.run(["bash", str(SCRIPTS / "create-context.sh"), *args], cwd=tmp_path, capture_output=True, text=True, env=env)
        assert created.returncode == 0, created.stderr
        (context,) = api.variables.values()
        assert sorted(context) == ["API_KEY", "MTLS_CERT", "MTLS_KEY", "SERVICE_URL"]
        context["SERVICE_CA_CERT"] = b64(ca[0].read_bytes())  # the test server's CA is private
        check = subprocess.run([str(HEARTBEAT), "check", "--attempts", "1"], capture_output=True, text=True, env={"PATH": os.environ["PATH"], **context})
        assert check.returncode == 0, check.stderr
        assert "healthy: 200" in check.stderr
    finally:
        nginx.kill()
        nginx.wait(timeout=10)
