"""A new environment in two commands: scripts/generate-client-certificate.sh with a local CA (and with a
kubectl stand-in), scripts/create-context.sh against a local stand-in of the CircleCI API v2 contexts
endpoints, and the README's whole flow ending in a healthy `heartbeat check` against the sandbox.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import threading
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


def test_ec_keys_days_and_print_base64(tmp_path, ca):
    run = generate("preprod", "probe", "--ec", "--days", "30", "--print-base64", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    cert = tmp_path / "preprod-probe-client.pem"
    assert "Public-Key: (256 bit)" in openssl_text(cert)
    assert f"MTLS_CERT={base64.b64encode(cert.read_bytes()).decode()}\n" in run.stdout


def kubectl_stub(tmp_path: Path, ca, ca_key_text: str | None = None) -> dict:
    """A kubectl stand-in that answers `get secret mutual-tls-auth` as the cluster would (base64 data)."""
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    crt = base64.b64encode(ca[0].read_bytes()).decode()
    key = base64.b64encode((ca_key_text or ca[1].read_text()).encode()).decode()
    (bin_dir / "kubectl").write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{tmp_path}/kubectl.log"\n'
        'case "$*" in\n'
        f'  *"get secret mutual-tls-auth --namespace hmpps-integration-api-dev"*"ca\\\\.crt"*) printf %s "{crt}" ;;\n'
        f'  *"get secret mutual-tls-auth --namespace hmpps-integration-api-dev"*"ca\\\\.key"*) printf %s "{key}" ;;\n'
        '  *) echo "Error from server (NotFound)" >&2; exit 1 ;;\n'
        "esac\n"
    )
    (bin_dir / "kubectl").chmod(0o755)
    tmp = tmp_path / "private-tmp"
    tmp.mkdir()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp)}


def test_the_ca_fetched_from_kubernetes_is_removed_afterwards(tmp_path, ca):
    env = kubectl_stub(tmp_path, ca)
    run = generate("dev", "heartbeat", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "mutual-tls-auth in namespace hmpps-integration-api-dev" in run.stdout
    assert list(Path(env["TMPDIR"]).iterdir()) == [], "the fetched CA key was left behind"
    assert "Version: 3" in openssl_text(tmp_path / "dev-heartbeat-client.pem")


def test_the_fetched_ca_is_removed_on_failure_too(tmp_path, ca):
    env = kubectl_stub(tmp_path, ca, ca_key_text="-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    run = generate("dev", "heartbeat", cwd=tmp_path, env=env)
    assert run.returncode == 1
    assert "signing failed" in run.stderr
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert not (tmp_path / "dev-heartbeat-client.pem").exists()


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
    for name in ("<environment>", "CIRCLE_TOKEN", "--org-id", "--service-url", "--api-key-file", "--cert", "--key"):
        assert name in run.stderr, name
    assert api.requests == []


# --- the README's steps, end to end ----------------------------------------------------------------------


def test_the_readme_steps_give_a_context_that_checks_healthy(tmp_path, ca):
    """Certificate from the environment's CA, context through the API, then a check with exactly that context."""
    assert generate("dev", "heartbeat", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), cwd=tmp_path).returncode == 0
    pair = (tmp_path / "dev-heartbeat-client.pem", tmp_path / "dev-heartbeat-client.key")
    env_file = tmp_path / "sb.env"
    sandbox = subprocess.Popen(
        [str(HEARTBEAT), "sandbox", "--ca-cert", str(ca[0]), "--ca-key", str(ca[1]), "--api-key", "SENTINEL-env-api-key", "--write-env", str(env_file)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        url = sandbox.stdout.readline().split("listening on ")[1].strip() + "/v1/persons?first_name=Ada"
        api = CircleCI()
        key_file = tmp_path / "api-key"
        key_file.write_text("SENTINEL-env-api-key\n")
        env = {"PATH": os.environ["PATH"], "CIRCLE_TOKEN": TOKEN}
        args = ["dev", "--org-id", ORG, "--service-url", url, "--api-key-file", str(key_file), "--cert", str(pair[0]), "--key", str(pair[1]), "--api-url", api.url]
        created = subprocess.run(["bash", str(SCRIPTS / "create-context.sh"), *args], capture_output=True, text=True, env=env)
        assert created.returncode == 0, created.stderr
        (context,) = api.variables.values()
        context["SERVICE_CA_CERT"] = base64.b64encode(ca[0].read_bytes()).decode()  # the sandbox's CA is private
        check = subprocess.run([str(HEARTBEAT), "check", "--attempts", "1"], capture_output=True, text=True, env={"PATH": os.environ["PATH"], **context})
        assert check.returncode == 0, check.stderr
        assert "healthy: 200" in check.stderr
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
