"""The GitHub Action: action.yml validated against the action metadata schema (action-validator), the example
workflow linted by actionlint, and the composite steps run end to end by a small local runner — inputs
substituted, each `run` under its `shell`, GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as
files — against a release served on 127.0.0.1 and `heartbeat sandbox`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from test_orb import ROOT, binary, clean_machine, release, sandbox, version  # noqa: F401 (pytest fixtures)

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


def test_the_example_workflows_pass_actionlint(tmp_path):
    examples = sorted((ROOT / "examples" / "github").glob("*.yml"))
    assert examples
    node_tool("action-validator")  # the npm tools are installed together
    lint = ["node", str(ROOT / "scripts" / "tests" / "actionlint.cjs")]
    env = {**os.environ, "NODE_PATH": str(NODE_TOOLS / "node_modules")}
    run = subprocess.run([*lint, *map(str, examples)], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.X }\n")
    assert subprocess.run([*lint, str(bad)], capture_output=True, env=env).returncode == 1


class ActionRun:
    """Runs action.yml's composite steps as a GitHub runner would, on this machine."""

    def __init__(self, tmp_path: Path, inputs: dict, env: dict):
        action = yaml.safe_load((ROOT / "action.yml").read_text())
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
                     "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_WORKSPACE": str(tmp_path), "CI": "true", **env}
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


def test_an_unsupported_runner_is_named(tmp_path, release, sandbox):
    server, _ = release
    run = ActionRun(tmp_path, {"release-url": server.url}, {**sandbox, "RUNNER_OS": "Windows"})
    assert run.results[-1][1] == 2
    assert "heartbeat has no Windows build" in run.results[-1][2]
