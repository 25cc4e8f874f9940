"""The Kubernetes example: every manifest validates against Kubernetes 1.31's schemas (strict: unknown fields
are errors), the CronJob is locked down, and the kustomizations point at files that exist."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
MANIFESTS = [DEPLOY / "cronjob.yaml", DEPLOY / "secret.yaml"]


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["kubernetes-validate", "-k", "1.31.0", "--strict", *map(str, paths)], capture_output=True, text=True)


def test_the_manifests_validate_strictly_for_1_31(tmp_path):
    run = validate(*MANIFESTS)
    assert run.returncode == 0, run.stdout + run.stderr
    # The validator is strict indeed: a misspelt field fails.
    broken = tmp_path / "broken.yaml"
    broken.write_text(MANIFESTS[0].read_text().replace("concurrencyPolicy", "concurencyPolicy"))
    assert validate(broken).returncode != 0


def test_the_cronjob_is_locked_down():
    cron = yaml.safe_load((DEPLOY / "cronjob.yaml").read_text())
    spec = cron["spec"]
    assert spec["schedule"] == "*/5 * * * *" and spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]} and context["runAsNonRoot"] is True
    resources = container["resources"]
    assert set(resources) == {"requests", "limits"}
    # Sized from measurement: a check peaks under 8 MiB, so 32Mi leaves room and still bounds a runaway.
    assert resources["limits"]["memory"] == "32Mi" and resources["requests"]["memory"] == "16Mi"
    assert container["envFrom"] == [{"secretRef": {"name": "heartbeat"}}]
    assert "--notify" in container["args"]


def test_the_secret_holds_the_context_and_the_webhook():
    secret = yaml.safe_load((DEPLOY / "secret.yaml").read_text())
    assert set(secret["stringData"]) == {"SERVICE_URL", "API_KEY", "MTLS_CERT", "MTLS_KEY", "SLACK_WEBHOOK_URL"}


def test_each_kustomization_points_at_files_that_exist():
    for kustomization in DEPLOY.rglob("kustomization.yaml"):
        spec = yaml.safe_load(kustomization.read_text())
        for resource in spec.get("resources", []):
            assert (kustomization.parent / resource).exists(), f"{kustomization}: {resource}"
