"""The Kubernetes manifests as the platform uses them: every overlay built by `kubectl kustomize` (what
`kubectl apply -k` does), the output validated against Kubernetes 1.31's schemas in strict mode, no Secret in
it, the image pinned by the one component the release writes, and the Pod Security "restricted" profile (which
the team's namespaces enforce) checked field by field on the built CronJob."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

DEPLOY = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(path.name for path in (DEPLOY / "overlays").iterdir() if path.is_dir())
IMAGE = "ghcr.io/ministryofjustice/heartbeat"
# Volume types the restricted profile allows (Pod Security Standards, "Volume Types").
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


def cargo_version() -> str:
    return re.search(r'^version = "(.+)"$', (ROOT / "Cargo.toml").read_text(), re.M).group(1)


def kustomize(directory: Path) -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: it builds the overlays as `kubectl apply -k` would")
    run = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["kubernetes-validate", "-k", "1.31.0", "--strict", str(path)], capture_output=True, text=True)


def cronjob(docs: list[dict]) -> dict:
    (cron,) = [doc for doc in docs if doc["kind"] == "CronJob"]
    return cron


def test_there_are_the_three_environments():
    assert OVERLAYS == ["dev", "preprod", "prod"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_builds_and_validates_strictly_for_1_31(overlay, tmp_path):
    docs = kustomize(DEPLOY / "overlays" / overlay)
    built = tmp_path / "built.yaml"
    built.write_text(yaml.safe_dump_all(docs))
    run = validate(built)
    assert run.returncode == 0, run.stdout + run.stderr
    # The validator is strict indeed: a misspelt field in the built output fails.
    broken = tmp_path / "broken.yaml"
    broken.write_text(built.read_text().replace("concurrencyPolicy", "concurencyPolicy"))
    assert validate(broken).returncode != 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_overlay_applies_a_secret(overlay):
    docs = kustomize(DEPLOY / "overlays" / overlay)
    assert [doc["kind"] for doc in docs if doc["kind"] == "Secret"] == []
    pod = cronjob(docs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["envFrom"] == [{"secretRef": {"name": "heartbeat"}}]
    assert cronjob(docs)["metadata"]["namespace"] == f"hmpps-integration-api-{overlay}"


def test_the_secret_template_is_valid_and_holds_the_context():
    assert validate(DEPLOY / "secret.example.yaml").returncode == 0
    secret = yaml.safe_load((DEPLOY / "secret.example.yaml").read_text())
    assert set(secret["stringData"]) == {"SERVICE_URL", "API_KEY", "MTLS_CERT", "MTLS_KEY", "SLACK_BOT_TOKEN", "SLACK_CHANNEL",
                                         "HEARTBEAT_PING_URL"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_built_cronjob_meets_the_restricted_profile(overlay):
    cron = cronjob(kustomize(DEPLOY / "overlays" / overlay))
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid" and spec["startingDeadlineSeconds"] > 0
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert not any(pod.get(field) for field in ("hostNetwork", "hostPID", "hostIPC"))
    for volume in pod.get("volumes", []):
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, volume
    pod_context = pod["securityContext"]
    assert pod_context["runAsNonRoot"] is True and pod_context["runAsUser"] != 0
    assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["capabilities"] == {"drop": ["ALL"]}
    assert context["readOnlyRootFilesystem"] is True and context.get("privileged") is not True
    assert "ports" not in container
    # Sized from measurement: a check peaks under 8 MiB, so 32Mi leaves room and still bounds a runaway.
    assert container["resources"]["limits"]["memory"] == "32Mi" and container["resources"]["requests"]["memory"] == "16Mi"
    assert "--notify" in container["args"] and container["args"][-2:] == ["--name", overlay]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_runs_the_one_pinned_image(overlay):
    (container,) = cronjob(kustomize(DEPLOY / "overlays" / overlay))["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    # Until a release pushes an image the pin is the version's tag; the release adds the digest (below).
    assert re.fullmatch(rf"{re.escape(IMAGE)}:{re.escape(cargo_version())}(@sha256:[0-9a-f]{{64}})?", container["image"])


def test_the_dev_overlay_runs_its_suite_from_a_mounted_config_map():
    docs = kustomize(DEPLOY / "overlays" / "dev")
    (config_map,) = [doc for doc in docs if doc["kind"] == "ConfigMap"]
    assert config_map["data"]["suite.toml"] == (DEPLOY / "overlays" / "dev" / "suite.toml").read_text()
    pod = cronjob(docs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"][1:] == [{"name": "suite", "configMap": {"name": config_map["metadata"]["name"]}}]
    (container,) = pod["containers"]
    assert container["volumeMounts"][1:] == [{"name": "suite", "mountPath": "/etc/heartbeat", "readOnly": True}]
    assert container["args"][:2] == ["suite", "/etc/heartbeat/suite.toml"]


def test_the_dev_suite_is_a_valid_suite():
    """The suite the dev CronJob mounts plans without a problem (`--list` sends nothing), given the Secret's names."""
    binary = ROOT / "target" / "debug" / "heartbeat"
    fixtures = ROOT / "tests" / "fixtures"
    env = {"PATH": "/usr/bin:/bin", "SERVICE_BASE_URL": "https://dev.integration-api.example"}
    for profile in ("FULL_ACCESS", "LIMITED_ACCESS"):
        env |= {f"{profile}_API_KEY": "key", f"{profile}_CERT": str(fixtures / "client-v1.pem"), f"{profile}_KEY": str(fixtures / "client-v1.key")}
    run = subprocess.run([str(binary), "suite", str(DEPLOY / "overlays" / "dev" / "suite.toml"), "--list"], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "NO_ACCESS_API_KEY" in run.stderr, "an unset variable must be named"
    run = subprocess.run([str(binary), "suite", str(DEPLOY / "overlays" / "dev" / "suite.toml"), "--list"], capture_output=True, text=True,
                         env={**env, "NO_ACCESS_API_KEY": "key"})
    assert run.returncode == 0, run.stderr
    assert "no certificate is refused" in run.stdout + run.stderr


def test_pin_image_writes_one_digest_that_every_overlay_then_runs(tmp_path):
    copy = tmp_path / "kubernetes"
    shutil.copytree(DEPLOY, copy)
    component = copy / "image" / "kustomization.yaml"
    pin = ROOT / "scripts" / "pin-image.sh"
    for digest in ("sha256:" + "ab" * 32, "sha256:" + "cd" * 32):  # twice: a second pin replaces the first
        run = subprocess.run([str(pin), "9.8.7", digest, str(component)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    assert component.read_text().count("digest:") == 1
    for overlay in OVERLAYS:
        (container,) = cronjob(kustomize(copy / "overlays" / overlay))["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        assert container["image"] == f"{IMAGE}:9.8.7@sha256:{'cd' * 32}"
    before = component.read_text()
    for bad in (("9.8.7", "sha256:" + "AB" * 32), ("9.8.7", "sha256:abc"), ("9.8", "sha256:" + "ab" * 32), ("9.8.7", "latest")):
        assert subprocess.run([str(pin), *bad, str(component)], capture_output=True).returncode == 2, bad
    assert component.read_text() == before


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_keeps_its_state_on_its_own_volume(overlay):
    docs = kustomize(DEPLOY / "overlays" / overlay)
    (claim,) = [doc for doc in docs if doc["kind"] == "PersistentVolumeClaim"]
    pod = cronjob(docs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"][0] == {"name": "state", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    (container,) = pod["containers"]
    mount = container["volumeMounts"][0]
    assert mount == {"name": "state", "mountPath": "/var/lib/heartbeat"}
    args = container["args"]
    assert Path(args[args.index("--state") + 1]).parent == Path(mount["mountPath"])
    assert cronjob(docs)["spec"]["concurrencyPolicy"] == "Forbid"


def test_the_built_arguments_run_as_written_and_keep_state(static_binary, sandbox_context, tmp_path):
    """The prod CronJob's own arguments, with its volume's path pointed at a folder here, against the sandbox:
    twice, so the second run reads the state the first wrote."""
    (container,) = cronjob(kustomize(DEPLOY / "overlays" / "prod"))["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    args = [arg.replace("/var/lib/heartbeat", str(tmp_path)) for arg in container["args"]]
    names = ["SERVICE_URL", "API_KEY", "MTLS_CERT", "MTLS_KEY", "SERVICE_CA_CERT"]
    env = {"PATH": "/usr/bin:/bin", **{name: sandbox_context[name] for name in names}}
    # No Slack here: the receiver is a loopback stand-in that accepts anything.
    env |= {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
    for _ in range(2):
        run = subprocess.run([str(static_binary), *args], capture_output=True, text=True, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert [entry["failures"] for entry in state["checks"].values()] == [0]


def test_the_certificate_watch_builds_validates_and_meets_the_restricted_profile(tmp_path):
    docs = kustomize(DEPLOY / "cert-watch")
    built = tmp_path / "built.yaml"
    built.write_text(yaml.safe_dump_all(docs))
    run = validate(built)
    assert run.returncode == 0, run.stdout + run.stderr
    pod = cronjob(docs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, volume
    for container in pod["initContainers"] + pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["capabilities"] == {"drop": ["ALL"]}
    (sync,) = pod["initContainers"]
    assert sync["args"][-4:] == ["--exclude", "*", "--include", "*/client.pem"], "certificates only, never a key"


def test_the_certificate_watch_arguments_run_as_written(tmp_path):
    """The CronJob's own arguments, with its mounts pointed at folders here holding a CA and one certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    (container,) = cronjob(kustomize(DEPLOY / "cert-watch"))["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    config, certs = tmp_path / "config", tmp_path / "certs" / "dev" / "alpha"
    config.mkdir()
    certs.mkdir(parents=True)

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key")
    openssl("req", "-x509", "-new", "-key", "ca.key", "-days", "3650", "-subj", "/CN=ca", "-out", str(config / "ca.crt"))
    openssl("req", "-new", "-key", "ca.key", "-subj", "/CN=alpha", "-out", "alpha.csr")
    openssl("x509", "-req", "-in", "alpha.csr", "-CA", str(config / "ca.crt"), "-CAkey", "ca.key", "-set_serial", "7",
            "-days", "100", "-out", str(certs / "client.pem"))
    (config / "authorisation.yaml").write_text("authorisation:\n  certificate-revocation-list: []\n  consumers: {}\n")
    (config / "cert-ignore.toml").write_text("")
    args = [arg.replace("/config", str(config)).replace("/certs", str(tmp_path / "certs")) for arg in container["args"]]
    binary = ROOT / "target" / "debug" / "heartbeat"
    env = {"PATH": "/usr/bin:/bin", "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
    run = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "alpha" in run.stdout and "ok" in run.stdout
