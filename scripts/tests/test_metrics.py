"""`--metrics` against a real Prometheus parser: the Python client's own (`prometheus_client.parser`, the
Prometheus project's), on the file a suite against `heartbeat sandbox` writes. (Debian's promtool would pull
37 packages into the test command; the parser is the format's own.)"""

from __future__ import annotations

import os
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

SUITE = (
    'base_url = "${SERVICE_BASE_URL}"\nca_cert = "${SERVICE_CA_CERT}"\n'
    '[consumers.full]\napi_key = "${FULL_ACCESS_API_KEY}"\ncert = "${FULL_ACCESS_CERT}"\nkey = "${FULL_ACCESS_KEY}"\n'
    '[[check]]\nname = "person \\"by id\\""\nconsumer = "full"\npath = "/v1/persons/A8451DY"\n'
    '[[check]]\nname = "no such route"\nconsumer = "full"\npath = "/v1/nothing-here"\nattempts = 1\n'
)
NAMES = ["SERVICE_BASE_URL", "SERVICE_CA_CERT", "FULL_ACCESS_API_KEY", "FULL_ACCESS_CERT", "FULL_ACCESS_KEY"]


@pytest.fixture
def metrics_text(static_binary, sandbox_context, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    out = tmp_path / "heartbeat.prom"
    env = {"PATH": os.environ["PATH"], **{name: sandbox_context[name] for name in NAMES}}
    run = subprocess.run([str(static_binary), "suite", str(suite), "--metrics", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    text = out.read_text()
    for name in NAMES[2:]:
        assert sandbox_context[name] not in text
    return text


def test_the_metrics_file_parses_and_holds_each_check_and_the_certificate_expiry(metrics_text):
    families = {f.name: f for f in text_string_to_metric_families(metrics_text)}
    assert all(f.type == "gauge" for f in families.values())
    up = {s.labels["check"]: s.value for s in families["heartbeat_check_up"].samples}
    assert up == {'person "by id"': 1.0, "no such route": 0.0}
    expiry = families["heartbeat_client_certificate_expiry_timestamp_seconds"].samples
    assert [s.labels for s in expiry] == [{"consumer": "full"}]
    assert expiry[0].value > 1.7e9
    assert families["heartbeat_run_exit_code"].samples[0].value == 1.0

