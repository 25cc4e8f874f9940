"""The container image, built and run by a real container engine: Debian's podman with runc, its storage in
this test's own temporary directory (so two test runs never meet), the image built from the repository's
Dockerfile with the release's static binary (`--build-arg BINARY=prebuilt`, as the release builds it), then
run with a read-only root as the numeric non-root user against a sandbox on the host. The source build's
context is built by podman too and must hold every path Cargo.toml names. Skips, with the reason, where no
engine can run (not root, no podman)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, TARGET, read_env_file

CONTEXT_NAMES = ["SERVICE_URL", "API_KEY", "MTLS_CERT", "MTLS_KEY", "SERVICE_CA_CERT"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


class Podman:
    """podman with its own storage under one directory; runc, as this machine needs (crun fails on its cgroups)."""

    def __init__(self, home: Path):
        self.base = ["podman", "--root", str(home / "root"), "--runroot", str(home / "run"), "--storage-driver", "vfs",
                     "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def __call__(self, *args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman and runc are not installed (scripts/test.sh installs them where it can)")
    if os.geteuid() != 0:
        pytest.skip("podman needs root here: a rootless engine needs subordinate ids this container does not grant")
    home = tmp_path_factory.mktemp("podman")
    engine = Podman(home)
    probe = engine("info", "--format", "{{.Host.OCIRuntime.Name}}")
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run here: {probe.stderr.strip()[:200]}")
    yield engine
    engine("system", "reset", "--force")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def image(podman, static_binary, tmp_path_factory):
    """The release image: the Dockerfile's prebuilt path over the context scripts/image.sh lays out."""
    context = tmp_path_factory.mktemp("image-context")
    laid = subprocess.run([str(ROOT / "scripts" / "image.sh"), str(context), f"{TARGET}={static_binary}"], capture_output=True, text=True)
    assert laid.returncode == 0 and laid.stdout.strip() == "linux/amd64", laid.stderr
    tag = f"localhost/heartbeat-test:{uuid.uuid4().hex[:12]}"
    build = podman("build", "--build-arg", "BINARY=prebuilt", "--build-arg", "TARGETARCH=amd64", "-f", str(ROOT / "Dockerfile"), "-t", tag, str(context))
    assert build.returncode == 0, build.stdout + build.stderr
    # Can this machine start a container at all? An engine that cannot (no namespaces or cgroups for runc, as in
    # some CI containers) is a skip with its reason; any other failure of the image is a failure.
    probe = podman("run", "--rm", "--read-only", *LIMITS, tag, "--version")
    if probe.returncode != 0 and any(word in probe.stderr for word in ("OCI runtime", "runc", "cgroup", "namespace")):
        pytest.skip(f"podman cannot start containers here: {probe.stderr.strip()[:200]}")
    assert probe.returncode == 0 and probe.stdout.startswith("heartbeat "), probe.stdout + probe.stderr
    return tag


def run_in_image(podman, image, context: dict, *args: str, mounts: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`podman run` as the CronJob runs the pod: read-only root, the image's own user, host network to reach the
    sandbox on 127.0.0.1. Values go through the engine's environment (`-e NAME`), never its command line."""
    env = {"PATH": os.environ["PATH"], **context}
    names = [flag for name in context for flag in ("-e", name)]
    return podman("run", "--rm", "--read-only", "--network", "host", *LIMITS, *names, *mounts, image, *args, env=env)


def test_the_image_is_the_static_binary_alone_as_a_numeric_non_root_user(podman, image, static_binary):
    inspect = podman("image", "inspect", image, "--format", "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}")
    assert inspect.stdout.strip() == '65532:65532|["heartbeat"]|["check"]'
    container = podman("create", image)
    assert container.returncode == 0, container.stderr
    export = subprocess.run([*podman.base, "export", container.stdout.strip()], capture_output=True)
    podman("rm", container.stdout.strip())
    with tarfile.open(fileobj=__import__("io").BytesIO(export.stdout)) as tar:
        files = sorted(m.name for m in tar.getmembers() if m.isfile())
        shipped = tar.extractfile("usr/local/bin/heartbeat").read()
    # No shell, no libc, no CA bundle: only the binary (and what the engine itself mounts at run time).
    assert [f for f in files if not f.startswith(("etc/", "run/", "dev/"))] == ["usr/local/bin/heartbeat"]
    assert shipped == static_binary.read_bytes(), "the image must carry the release's very binary"


def test_a_check_in_the_image_passes_against_a_host_sandbox(podman, image, sandbox_context):
    context = {name: sandbox_context[name] for name in CONTEXT_NAMES}
    run = run_in_image(podman, image, context, "check", "--attempts", "1", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert '"verdict":"healthy"' in run.stdout.replace(" ", "")
    for name in ("API_KEY", "MTLS_KEY"):
        assert context[name] not in run.stdout + run.stderr


def test_a_refused_check_in_the_image_fails_with_its_exit_code(podman, image, sandbox_context):
    # The other side: the same image and sandbox with a wrong key is the gateway's 403, exit 1.
    context = {**{name: sandbox_context[name] for name in CONTEXT_NAMES}, "API_KEY": "not-the-key-" + uuid.uuid4().hex}
    run = run_in_image(podman, image, context, "check", "--attempts", "1")
    assert run.returncode == 1, run.stderr
    assert "gateway" in run.stderr.lower()


def test_a_suite_from_a_mounted_file_runs_in_the_image(podman, image, sandbox_context, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'base_url = "${SERVICE_BASE_URL}"\nca_cert = "${SERVICE_CA_CERT}"\n'
        '[consumers.full]\napi_key = "${FULL_ACCESS_API_KEY}"\ncert = "${FULL_ACCESS_CERT}"\nkey = "${FULL_ACCESS_KEY}"\n'
        '[consumers.anonymous]\napi_key = "${FULL_ACCESS_API_KEY}"\n'
        '[[check]]\nname = "person by id"\nconsumer = "full"\npath = "/v1/persons/A8451DY"\nexpect_json = ["$..firstName"]\n'
        '[[check]]\nname = "no certificate is refused"\nconsumer = "anonymous"\npath = "/v1/persons/A8451DY"\nexpect = "refused"\n'
    )
    suite.chmod(0o644)
    names = ["SERVICE_BASE_URL", "SERVICE_CA_CERT", "FULL_ACCESS_API_KEY", "FULL_ACCESS_CERT", "FULL_ACCESS_KEY"]
    context = {name: sandbox_context[name] for name in names}
    run = run_in_image(podman, image, context, "suite", "/etc/heartbeat/suite.toml", mounts=("-v", f"{suite}:/etc/heartbeat/suite.toml:ro"))
    assert run.returncode == 0, run.stderr
    assert "2 passed" in run.stderr


def test_the_source_build_context_holds_every_path_cargo_toml_names(podman, tmp_path):
    """`docker build .` on a clone: the build stage gets exactly the context the engine sends (after
    .dockerignore); cargo must find every target in it. `cargo fetch --locked` reads the manifest's targets
    as `cargo build --locked` does (it failed here when `tests/` was not copied)."""
    tag = f"localhost/heartbeat-source:{uuid.uuid4().hex[:12]}"
    build = podman("build", "--target", "source", "-f", str(ROOT / "Dockerfile"), "-t", tag, str(ROOT))
    assert build.returncode == 0, build.stdout + build.stderr
    container = podman("create", tag, "none").stdout.strip()
    export = subprocess.run([*podman.base, "export", container], capture_output=True, check=True)
    podman("rm", container)
    unpacked = tmp_path / "context"
    unpacked.mkdir()
    subprocess.run(["tar", "-x", "-C", str(unpacked)], input=export.stdout, check=True)
    source = unpacked / "src"
    assert not (source / "target").exists() and not (source / ".git").exists(), "the context must not carry builds or history"
    fetch = subprocess.run(["cargo", "fetch", "--locked", "--offline", "--target", TARGET], cwd=source, capture_output=True, text=True)
    assert fetch.returncode == 0, fetch.stderr
    # The check can fail: the same context without tests/ is what broke `docker build .`.
    shutil.rmtree(source / "tests")
    broken = subprocess.run(["cargo", "fetch", "--locked", "--offline", "--target", TARGET], cwd=source, capture_output=True, text=True)
    assert broken.returncode != 0 and "can't find" in broken.stderr
