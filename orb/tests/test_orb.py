"""The orb: review rules, packing, schema, lint, and end to end as CircleCI would run it.

The end-to-end tests pack the orb with checksums pinned from a release directory built from the current
binary, serve that directory over HTTP on 127.0.0.1, start `heartbeat sandbox`, and run the packed
`heartbeat/check` command's steps with a fake context's environment.
"""

from __future__ import annotations

import http.server
import re
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "orb" / "src"
sys.path.insert(0, str(ROOT / "orb" / "tools"))
import orbtool  # noqa: E402

TARGET = "x86_64-unknown-linux-musl"
# The orb keeps its download cache and cache key under /tmp (one job per machine on CircleCI); the tests give
# each test its own folder instead, so two test runs on one machine never meet.
ORB_CACHE = "/tmp/heartbeat-cache"


# --- static checks ---------------------------------------------------------------------------------------


def test_review_rules_pass():
    assert orbtool.review(SRC) == []


def test_review_catches_what_it_should(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SRC, src)
    command = yaml.safe_load((src / "commands" / "check.yml").read_text())
    command["steps"].append({"run": {"command": "echo a command that is long enough to need an include file, being over sixty-four characters"}})
    command["parameters"]["bad-name"] = {"type": "string", "default": "$HOME/x", "description": "d"}
    (src / "commands" / "check.yml").write_text(yaml.safe_dump(command))
    (src / "examples" / "example.yml").write_text("usage: {}\n")
    orb = yaml.safe_load((src / "@orb.yml").read_text())
    orb["description"] = "short"
    del orb["display"]["source_url"]
    (src / "@orb.yml").write_text(yaml.safe_dump(orb))
    rules = {line.split(":")[0] for line in orbtool.review(src)}
    assert rules == {"RC001", "RC002", "RC004", "RC005", "RC006", "RC008", "RC009", "RC010", "RC012"}


def test_review_checks_the_examples_major_version_on_release_tags(monkeypatch):
    monkeypatch.setenv("CIRCLE_TAG", "v1.0.0")
    assert any(line.startswith("RC011") for line in orbtool.review(SRC))
    monkeypatch.setenv("CIRCLE_TAG", "v0.3.1")
    assert orbtool.review(SRC) == []


def check_step(orb: dict) -> dict:
    """The check command's step that runs heartbeat."""
    return next(s["run"] for s in orb["commands"]["check"]["steps"] if "run" in s and s["run"]["name"] == "Check the API with heartbeat")


def test_pack_inlines_scripts_and_escapes_their_double_angles(tmp_path):
    orb = orbtool.pack(SRC)
    run = check_step(orb)
    assert run["command"] == (SRC / "scripts" / "check.sh").read_text()
    assert set(orb) >= {"version", "description", "display", "commands", "jobs", "executors", "examples"}
    src = tmp_path / "src"
    shutil.copytree(SRC, src)
    (src / "scripts" / "check.sh").write_text("cat <<EOF\nhi\nEOF\n")
    assert check_step(orbtool.pack(src))["command"] == "cat \\<<EOF\nhi\nEOF\n"


def test_include_must_be_the_whole_value(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SRC, src)
    path = src / "commands" / "check.yml"
    path.write_text(path.read_text().replace("command: <<include(scripts/check.sh)>>", "command: x <<include(scripts/check.sh)>>"))
    with pytest.raises(ValueError, match="whole value"):
        orbtool.pack(src)


def test_the_job_takes_the_same_parameters_as_the_command():
    orb = orbtool.pack(SRC)
    command, job = orb["commands"]["check"], orb["jobs"]["check"]
    assert set(job["parameters"]) == set(command["parameters"]) | {"image", "resource_class"}
    for name, spec in command["parameters"].items():
        assert job["parameters"][name] == spec, name
    check = next(step["check"] for step in job["steps"] if isinstance(step, dict) and "check" in step)
    assert check == {name: f"<< parameters.{name} >>" for name in command["parameters"]}
    assert job["steps"][0] == {"when": {"condition": "<< parameters.suite >>", "steps": ["checkout"]}}


def test_packed_orb_and_pipelines_match_the_circleci_schema(tmp_path):
    packed = tmp_path / "orb.yml"
    packed.write_text(orbtool.dump(orbtool.pack(SRC)))
    files = [packed, *sorted((ROOT / ".circleci").glob("*.yml"))]
    proc = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.circle-ci", *map(str, files)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_yamllint_passes_as_orb_tools_lint_runs_it(tmp_path):
    """orb-tools/lint runs `yamllint <source_dir>` from the repository root with no -c: yamllint then finds
    only a .yamllint in the working directory or above (or a user config, scrubbed here)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = subprocess.run(["yamllint", "orb/src"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    strict = subprocess.run(["yamllint", "--strict", "orb/src"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert strict.returncode == 0, strict.stdout + strict.stderr
    # The root config is what makes it pass: from a directory without one, the defaults (80-character lines) fail.
    shutil.copytree(SRC, tmp_path / "orb" / "src")
    bare = subprocess.run(["yamllint", "orb/src"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert bare.returncode == 1 and "line too long" in bare.stdout, bare.stdout + bare.stderr


def test_shellcheck_is_clean():
    """As shellcheck/check runs it on orb/src/scripts (shell: sh, every *.sh found there, default severity
    style), and the project's bash scripts."""
    posix = sorted(str(p.relative_to(ROOT)) for p in (SRC / "scripts").rglob("*.sh"))
    proc = subprocess.run(["shellcheck", "--shell=sh", "--severity=style", "--external-sources", *posix], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout
    bash = sorted((ROOT / "scripts").glob("*.sh")) + [ROOT / ".ci" / "run", ROOT / "action" / "check.sh"]
    proc = subprocess.run(["shellcheck", "--shell=bash", "-x", *map(str, bash)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout


# --- end to end ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    """The current heartbeat binary, stripped so the release archive stays small."""
    built = Path(os.environ.get("HEARTBEAT_BIN", ROOT / "target" / "debug" / "heartbeat"))
    assert built.exists(), f"{built} is missing: run cargo build (scripts/test.sh does)"
    stripped = tmp_path_factory.mktemp("bin") / "heartbeat"
    subprocess.run(["strip", "-o", str(stripped), str(built)], check=True)
    return stripped


@pytest.fixture(scope="module")
def version(binary):
    return subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]


class ReleaseServer:
    """Serves a release directory over HTTP on 127.0.0.1 and records what was asked for."""

    def __init__(self, root: Path):
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def archive_downloads(self):
        return [path for path in self.requests if path.endswith(".tar.gz")]


@pytest.fixture(scope="module")
def packed(tmp_path_factory, binary, version):
    """The release directory, packed once per module: packing the binary takes over a second."""
    root = tmp_path_factory.mktemp("packed")
    subprocess.run([str(ROOT / "scripts" / "package.sh"), version, TARGET, str(binary), str(root / f"v{version}")], check=True, capture_output=True)
    return root


@pytest.fixture
def release(tmp_path, packed, version):
    """A copy of the packed release for this test alone (some tamper with it), served on 127.0.0.1."""
    root = tmp_path / "releases"
    shutil.copytree(packed, root)
    server = ReleaseServer(root)
    yield server, root / f"v{version}"
    server.httpd.shutdown()


def packed_orb(tmp_path: Path, pinned_version: str, sums: str) -> dict:
    """Packs the orb as a release does: the version and checksums pinned by scripts/pin-orb.sh."""
    src = tmp_path / "orb-src"
    shutil.copytree(SRC, src)
    (tmp_path / "SHA256SUMS").write_text(sums)
    subprocess.run([str(ROOT / "scripts" / "pin-orb.sh"), pinned_version, str(tmp_path / "SHA256SUMS"), str(src / "scripts" / "install.sh")], check=True)
    # The cache paths (and the cache key file beside them) move into this test's own folder.
    text = orbtool.dump(orbtool.pack(src)).replace(ORB_CACHE, str(tmp_path / "heartbeat-cache"))
    (tmp_path / "orb.yml").write_text(text)
    return yaml.safe_load(text)


@pytest.fixture
def sandbox(tmp_path, binary):
    env_file = tmp_path / "sb.env"
    proc = subprocess.Popen([str(binary), "sandbox", "--write-env", str(env_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("heartbeat sandbox: listening on")
    context = {}
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            name, value = line[len("export "):].split("=", 1)
            context[name] = value.strip("'")
    yield context
    proc.terminate()
    proc.wait(timeout=10)


def runner(tmp_path, orb, context, name="job", shell=None, image_has_bash=True, build_num=1):
    workdir = tmp_path / name
    workdir.mkdir()
    # Each job is its own machine: the install's record of the binary lives in its workdir.
    base = {"PATH": os.environ["PATH"], "HOME": str(workdir), "HB_STATE_FILE": str(workdir / "heartbeat-bin")}
    return orbtool.Runner(orb, workdir, {**base, **context}, tmp_path / "circleci-cache", shell=shell, image_has_bash=image_has_bash,
                          build_num=build_num)


def step(run, name):
    return next(result for result in run.results if result.name == name)


def test_check_passes_stores_junit_and_reuses_the_install(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    params = {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "results")}
    first = runner(tmp_path, orb, sandbox, "first")
    assert first.run_command("check", params), [(r.name, r.code, r.output) for r in first.results]
    assert [p.name for p in first.test_results] == ["heartbeat.xml"]
    assert sorted(p.name for p in first.artifacts) == ["heartbeat.json", "heartbeat.xml"]
    assert "<failure" not in first.test_results[0].read_text()
    assert len(server.archive_downloads()) == 1
    assert server.requests == [f"/v{version}/heartbeat-{version}-{TARGET}.tar.gz"], "the pinned version needs no SHA256SUMS"

    second = runner(tmp_path, orb, sandbox, "second")
    assert second.run_command("check", params)
    assert f"heartbeat {version} is already installed" in step(second, "Install heartbeat").output
    assert len(server.archive_downloads()) == 1


def test_a_fresh_machine_installs_from_the_cache_without_downloading(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    first = runner(tmp_path, orb, sandbox, "first")
    assert first.run_command("install", {"release_url": server.url, "install_dir": str(tmp_path / "bin1")})
    shutil.rmtree(tmp_path / "heartbeat-cache")  # the next job runs on a new machine
    second = runner(tmp_path, orb, sandbox, "second")
    assert second.run_command("install", {"release_url": server.url, "install_dir": str(tmp_path / "bin2")})
    assert "using the cached" in step(second, "Install heartbeat").output
    assert len(server.archive_downloads()) == 1
    assert (tmp_path / "bin2" / "heartbeat").exists()


def test_a_wrong_api_key_fails_the_step_with_a_junit_failure(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    run = runner(tmp_path, orb, {**sandbox, "API_KEY": "wrong-key"})
    params = {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "results"), "attempts": 1}
    assert not run.run_command("check", params)
    check = step(run, "Check the API with heartbeat")
    assert check.code == 1, check.output
    assert "the API gateway refused" in check.output and "wrong-key" not in check.output
    assert 'type="gateway_forbidden"' in run.test_results[0].read_text()


def test_a_tampered_archive_fails_the_install_before_anything_runs(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    archive = release_dir / f"heartbeat-{version}-{TARGET}.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-1] + b"\0")
    run = runner(tmp_path, orb, sandbox)
    assert not run.run_command("check", {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "r")})
    install = step(run, "Install heartbeat")
    assert install.code != 0 and "checksum mismatch" in install.output, install.output
    assert step(run, "Check the API with heartbeat").code == -1
    assert not (tmp_path / "bin" / "heartbeat").exists()
    # The Tests tab still says why: the on_fail step wrote a JUnit failure.
    assert step(run, "Record why heartbeat did not run").code == 0
    (junit,) = run.test_results
    assert 'type="not_run"' in junit.read_text() and "the install step failed" in junit.read_text()


def test_an_overridden_version_is_verified_against_the_release_sha256sums(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, "0.0.1", "")  # an orb released with another version
    run = runner(tmp_path, orb, sandbox, "override")
    assert run.run_command("install", {"version": version, "release_url": server.url, "install_dir": str(tmp_path / "bin")})
    assert f"/v{version}/SHA256SUMS" in server.requests
    sums = release_dir / "SHA256SUMS"
    sums.write_text(sums.read_text().replace(sums.read_text()[:8], "00000000"))
    again = runner(tmp_path, orb, sandbox, "tampered")
    assert not again.run_command("install", {"version": version, "release_url": server.url, "install_dir": str(tmp_path / "bin2"), "cache": False})
    assert "checksum mismatch" in step(again, "Install heartbeat").output


@pytest.mark.parametrize("shell", ["sh -e", "busybox sh -e"])
def test_the_install_script_runs_under_posix_shells(tmp_path, release, sandbox, version, shell):
    if shell.startswith("busybox") and not shutil.which("busybox"):
        pytest.fail("busybox is missing: scripts/test.sh installs it to stand in for Alpine's shell")
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    run = runner(tmp_path, orb, sandbox, shell=shell)
    assert run.run_command("check", {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "r")}), [
        (r.name, r.output) for r in run.results
    ]


def test_an_incomplete_context_is_named_and_nothing_is_sent(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    context = {k: v for k, v in sandbox.items() if k != "MTLS_KEY"}
    context["DEV_URL"] = context.pop("SERVICE_URL")
    run = runner(tmp_path, orb, context)
    assert not run.run_command("check", {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "service_url": "DEV_URL", "results_dir": str(tmp_path / "r")})
    check = step(run, "Check the API with heartbeat")
    assert check.code == 2
    assert "MTLS_KEY (parameter mtls_key) is empty or unset" in check.output
    assert "DEV_URL (parameter service_url)" not in check.output, "a set variable was reported missing"
    assert "heartbeat: GET" not in check.output
    (junit,) = run.test_results
    assert "MTLS_KEY (parameter mtls_key)" in junit.read_text()
    assert step(run, "Record why heartbeat did not run").code == 0, "on_fail keeps the check's own JUnit"
    assert "the install step failed" not in junit.read_text()


def test_two_checks_in_one_job_keep_their_own_results(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    run = runner(tmp_path, orb, sandbox)
    common = {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "r"), "attempts": 1}
    assert run.run_command("check", {**common, "name": "dev"})
    assert not run.run_command("check", {**common, "name": "dev-search", "expect_status": "201"})
    junit = {p.parent.name: p.read_text() for p in run.test_results}
    assert set(junit) == {"dev", "dev-search"}
    assert "<failure" not in junit["dev"] and "<failure" in junit["dev-search"]
    assert sorted(str(p.relative_to(tmp_path / "r")) for p in run.artifacts) == [
        "dev-search/heartbeat.json", "dev-search/heartbeat.xml", "dev/heartbeat.json", "dev/heartbeat.xml"]


def test_the_check_runs_the_verified_binary_never_another_on_path(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    (impostor / "heartbeat").write_text("#!/bin/sh\necho IMPOSTOR; exit 0\n")
    (impostor / "heartbeat").chmod(0o755)
    for image_has_bash in (True, False):
        run = runner(tmp_path, orb, {**sandbox, "PATH": f"{impostor}:{os.environ['PATH']}"}, f"job-{image_has_bash}", image_has_bash=image_has_bash)
        assert run.run_command("check", {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "r")}), [
            (r.name, r.code, r.output) for r in run.results
        ]
        check = step(run, "Check the API with heartbeat")
        assert "IMPOSTOR" not in check.output and "heartbeat: healthy" in check.output, check.output


# --- the project's own pipelines, read as CircleCI and the orbs they use would run them ---------------------


def pipelines() -> dict:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((ROOT / ".circleci").glob("*.yml"))}


def walk(node):
    """Yields every mapping in a YAML tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_tool_the_pipelines_install_is_pinned():
    for name, config in pipelines().items():
        for orb in config.get("orbs", {}).values():
            assert re.fullmatch(r"[\w-]+/[\w-]+@\d+\.\d+", orb), f"{name}: {orb} is not pinned to a minor version"
        for mapping in walk(config):
            assert "<< pipeline.project.type >>" not in map(str, mapping.values()), f"{name}: orb-tools rejects `circleci` as a vcs_type"
        for mapping in walk(config):
            image = mapping.get("image")
            if isinstance(image, str) and "<<" not in image:
                assert ":" in image and not image.endswith(":latest"), f"{name}: image {image} is not pinned"
            command = mapping.get("command")
            if isinstance(command, str) and "circleci-cli" in command:
                assert "VERSION=" in command and "/main/install.sh" not in command, f"{name}: the CircleCI CLI is not pinned"
            if isinstance(command, str) and "sh.rustup.rs" in command:
                assert re.search(r"--default-toolchain \d+\.\d+\.\d+", command), f"{name}: rustup installs an unpinned toolchain"
            for step in ("github-cli/install", "github-cli/setup"):
                if step in mapping:
                    assert re.fullmatch(r"\d+\.\d+\.\d+", str((mapping[step] or {}).get("version", ""))), f"{name}: {step} is not pinned"
        for mapping in walk(config):
            env = mapping.get("environment") or {}
            if "CIRCLECI_CLI_VERSION" in env:
                assert re.fullmatch(r"0\.1\.\d+", str(env["CIRCLECI_CLI_VERSION"])), "pin a legacy 0.1.x CLI (installs as `circleci`, validates without a token)"


def test_the_release_packs_and_validates_before_it_publishes_and_can_run_again():
    steps = pipelines()["test-deploy.yml"]["jobs"]["release"]["steps"]
    names = [next(iter(s.values())).get("name", next(iter(s))) if isinstance(s, dict) else s for s in steps]
    validate = next(i for i, n in enumerate(names) if "validate" in str(n).lower())
    create = next(i for i, n in enumerate(names) if "GitHub Release" in str(n))
    assert validate < create, names
    command = next(iter(steps[create].values()))["command"]
    assert "gh release view" in command and "--clobber" in command, "a re-run must not fail on an existing release"


def test_the_pipelines_use_what_orb_tools_accepts():
    config = pipelines()["config.yml"]
    assert config["parameters"]["vcs_type"]["default"] in ("gh", "bb")
    jobs = {next(iter(j)): next(iter(j.values())) for j in config["workflows"]["lint-pack"]["jobs"] if isinstance(j, dict)}
    assert jobs["orb-tools/review"]["orb_name"] == "heartbeat", "RC011 runs only with orb_name"
    assert jobs["orb-tools/continue"]["vcs_type"] == "<< pipeline.parameters.vcs_type >>"
    deploy = pipelines()["test-deploy.yml"]
    e2e = {j["orb_end_to_end"]["name"]: j["orb_end_to_end"] for j in deploy["workflows"]["test-deploy"]["jobs"] if isinstance(j, dict) and "orb_end_to_end" in j}
    alpine = e2e["orb_end_to_end_alpine"]
    assert alpine["image"].startswith("bash:") and alpine["shell"].startswith("/usr/local/bin/bash"), "Alpine steps must run in bash from the start"
    publish = next(j["orb-tools/publish"] for j in deploy["workflows"]["test-deploy"]["jobs"] if isinstance(j, dict) and j.get("orb-tools/publish", {}).get("name") == "publish_production")
    assert all(r.startswith("verify_release_install") for r in publish["requires"]), "the real download path is tried before publishing"


def test_a_suite_runs_from_the_check_command_with_its_junit(tmp_path, release, sandbox, version):
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    suite = tmp_path / "smoke.toml"
    suite.write_text(
        'base_url = "${SERVICE_BASE_URL}"\nca_cert = "${SERVICE_CA_CERT}"\n'
        '[consumers.limited]\napi_key = "${LIMITED_ACCESS_API_KEY}"\ncert = "${LIMITED_ACCESS_CERT}"\nkey = "${LIMITED_ACCESS_KEY}"\n'
        '[consumers.anonymous]\napi_key = "${NO_ACCESS_API_KEY}"\n'
        '[[check]]\nname = "name"\nconsumer = "limited"\npath = "/v1/persons/A8451DY/name"\n'
        '[[check]]\nname = "search is forbidden"\nconsumer = "limited"\npath = "/v1/persons?first_name=john"\nexpect_status = 403\n'
        '[[check]]\nname = "no certificate"\nconsumer = "anonymous"\npath = "/v1/persons/A8451DY"\nexpect = "refused"\n'
    )
    run = runner(tmp_path, orb, sandbox)
    params = {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "r"), "suite": str(suite), "name": "smoke"}
    assert run.run_command("check", params), [(r.name, r.code, r.output) for r in run.results]
    (junit,) = run.test_results
    assert junit.read_text().count("<testcase ") == 3 and "<failure" not in junit.read_text()
    assert junit.parent.name == "smoke"


def test_state_travels_between_scheduled_builds_through_the_cache(tmp_path, release, sandbox, version):
    """Three builds on fresh machines: each restores the newest state by the key's prefix and saves its own."""
    server, release_dir = release
    orb = packed_orb(tmp_path, version, (release_dir / "SHA256SUMS").read_text())
    state_dir = tmp_path / "state"
    context = {**sandbox, "SERVICE_URL": sandbox["SERVICE_BASE_URL"] + "/fault/error"}
    params = {"release_url": server.url, "install_dir": str(tmp_path / "bin"), "results_dir": str(tmp_path / "r"), "attempts": 1,
              "name": "dev", "state": True, "state_dir": str(state_dir), "alert_after": 3, "remind_every": "1h"}
    for build in (1, 2, 3):
        shutil.rmtree(state_dir, ignore_errors=True)  # a fresh machine
        run = runner(tmp_path, orb, context, name=f"build{build}", build_num=build)
        assert not run.run_command("check", params)
        (saved,) = [r for r in run.results if r.kind == "save_cache" and r.name.startswith("heartbeat-state")]
        assert saved.output == f"saved heartbeat-state-v1-dev-{build}"
        assert (state_dir / "dev.json").exists(), [(r.kind, r.name, r.code, r.output[-400:]) for r in run.results]
        entry = json.loads((state_dir / "dev.json").read_text())["checks"]
        assert [e["failures"] for e in entry.values()] == [build], run.results
    # Without state, no cache step runs and no state is written.
    shutil.rmtree(state_dir)
    run = runner(tmp_path, orb, context, name="stateless", build_num=4)
    assert not run.run_command("check", {**params, "state": False})
    assert not state_dir.exists()
    assert all(result.kind not in ("restore_cache", "save_cache") or "heartbeat-state" not in result.name for result in run.results)
