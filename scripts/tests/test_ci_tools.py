"""Every tool each job of this project's CircleCI pipelines calls comes from somewhere: the job's image (what
its documentation says it holds), an earlier step that installs it, or a script of this repository that the
job runs (followed into, with what the script itself installs). A job that calls `node` on an image without
Node fails here, not on CircleCI. Commands are read with a real shell parser (shfmt's syntax tree), not regexes.

Node from a distribution's apt (Ubuntu 22.04 gives Node 12) never counts: the Action's linters need Node >= 18,
so Node must come from the image (cimg's -node variants carry a current LTS)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

SHELL_BUILTINS = {
    ".", ":", "[", "alias", "break", "cd", "command", "continue", "declare", "echo", "eval", "exec", "exit", "export",
    "false", "getopts", "hash", "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "test",
    "trap", "true", "type", "ulimit", "umask", "unset", "wait",
}
CORE = {  # coreutils, findutils, grep, sed, awk, gzip, tar: on every Linux image here (busybox provides them on Alpine)
    "awk", "basename", "cat", "chmod", "cmp", "cp", "cut", "date", "dirname", "env", "find", "grep", "gzip", "head",
    "id", "install", "ln", "ls", "mkdir", "mktemp", "mv", "rm", "sed", "seq", "sha256sum", "sleep", "sort", "tail",
    "tar", "tee", "touch", "tr", "uname", "wc", "xargs",
}
# cimg/base (CircleCI-Public/cimg-base, 24.04/Dockerfile): curl, sudo, file, gnupg, jq, make, build-essential,
# openssh-client, python-is-python3, shellcheck, unzip, wget, zip, git (from the git-core PPA), the Docker CLI, yq.
CIMG_BASE = CORE | {"bash", "sh", "sudo", "apt-get", "git", "curl", "wget", "file", "jq", "yq", "unzip", "zip", "gpg", "ssh",
                    "docker", "make", "gcc", "python3", "shellcheck", "/bin/bash", "/bin/sh"}
RUST = {"cargo", "rustc", "rustup", "rustfmt"}
NODE = {"node", "npm", "npx"}  # cimg's -node variants: the current Node LTS through nvm (variant-node/Dockerfile)
ALPINE = CORE | {"sh", "apk", "wget", "/bin/sh"}
IMAGES = {
    "cimg/base:current": CIMG_BASE,
    "cimg/rust:1.95": CIMG_BASE | RUST,
    "cimg/rust:1.95-node": CIMG_BASE | RUST | NODE,
    "bash:5.3": ALPINE | {"bash", "/usr/local/bin/bash"},
    "alpine:3.22": ALPINE,
    "macos": CORE | {"bash", "sh", "curl", "git", "/bin/bash"},  # the macOS executor (Xcode image)
}
# What a package puts on PATH. Node and npm from apt count as nothing: their version is the distribution's.
APT = {"musl-tools": {"musl-gcc"}, "file": {"file"}, "nodejs": set(), "npm": set(), "nginx-light": {"/usr/sbin/nginx", "nginx"},
       "curl": {"curl"}, "openssl": {"openssl"}, "shellcheck": {"shellcheck"}, "bats": {"bats"}, "busybox": {"busybox"},
       "binutils": {"strip"}, "jq": {"jq"}, "python3": {"python3"}, "python3-venv": set(), "podman": {"podman"},
       "runc": {"runc"}, "shfmt": {"shfmt"}, "util-linux": {"setsid"}}
APK = {"curl": {"curl"}, "ca-certificates": set()}
PIP = {"pyyaml": set(), "pytest": {"pytest"}, "check-jsonschema": {"check-jsonschema"}, "yamllint": {"yamllint"},
       "kubernetes-validate": {"kubernetes-validate"}, "prometheus-client": set()}
# Installers recognised by what they fetch, and what they leave where.
INSTALLERS = {"sh.rustup.rs": {"$HOME/.cargo/bin/cargo"}, "circleci-cli/": {"$HOME/bin/circleci"},
              "/usr/local/bin/heartbeat": {"heartbeat"}}
ORB_STEPS = {"github-cli/install": {"gh"}}
BUILTIN_STEPS = {"checkout", "attach_workspace", "persist_to_workspace", "setup_remote_docker", "store_test_results",
                 "store_artifacts", "save_cache", "restore_cache", "add_ssh_keys"}


def shfmt() -> str:
    tool = shutil.which("shfmt")
    if tool is None:
        pytest.fail("shfmt is missing: scripts/test.sh installs it (Debian's shfmt)")
    return tool


def word(node: dict) -> str:
    """A word as written, with expansions kept as `$NAME` / `$(...)`."""
    text = ""
    for part in node.get("Parts", []):
        kind = part["Type"]
        if kind in ("Lit", "SglQuoted"):
            text += part["Value"]
        elif kind == "DblQuoted":
            text += word(part)
        elif kind == "ParamExp":
            text += "$" + part["Param"]["Value"]
        else:
            text += "$(...)"
    return text


@cache
def parse(text: str) -> dict:
    run = subprocess.run([shfmt(), "--tojson"], input=text, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def calls(tree) -> list[list[str]]:
    """Every simple command's words, in source order; function definitions are collected separately."""
    found = []
    if isinstance(tree, dict):
        if tree.get("Type") == "CallExpr" and tree.get("Args"):
            found.append([word(arg) for arg in tree["Args"]])
        for value in tree.values():
            found += calls(value)
    elif isinstance(tree, list):
        for value in tree:
            found += calls(value)
    return found


def functions(tree) -> set[str]:
    if isinstance(tree, dict):
        names = {tree["Name"]["Value"]} if tree.get("Type") == "FuncDecl" else set()
        return names.union(*(functions(value) for value in tree.values()))
    if isinstance(tree, list):
        return set().union(*(functions(value) for value in tree)) if tree else set()
    return set()


class Job:
    """Walks one job's commands in order, tracking what is provided and recording what is not."""

    def __init__(self, name: str, tools: set[str]):
        self.name, self.provided, self.defined, self.missing, self.seen = name, set(tools), set(), [], set()
        self.optional: set[str] = set()

    def script(self, path: Path, shell_tools: set[str]) -> None:
        if path in self.seen:
            return
        self.seen.add(path)
        tree = parse(path.read_text())
        self.defined |= functions(tree)
        self.commands(calls(tree), f"{path.relative_to(ROOT)}")

    def commands(self, commands: list[list[str]], where: str) -> None:
        for words in commands:
            self.command(words, where)

    def command(self, words: list[str], where: str) -> None:
        head, args = words[0], words[1:]
        if head == "command" and args and args[0].startswith("-"):
            self.optional.update(args[1:])  # `command -v X` asks whether X exists: X is used only where it does
            return
        if head in ("sudo", "env", "command", "exec") and args:
            self.need(head, where)
            return self.command(args, where)
        if head in (".", "source") or (head in ("bash", "sh") and args and not args[0].startswith("-")):
            self.need(head, where) if head not in (".", "source") else None
            repo_path = ROOT / args[0]
            if repo_path.is_file():
                return self.script(repo_path, set())
            return
        if (ROOT / head).is_file() and head.startswith("scripts/"):
            return self.script(ROOT / head, set())
        self.installs(head, args, where)
        self.need(head, where)

    def installs(self, head: str, args: list[str], where: str) -> None:
        packages = [a for a in args if not a.startswith(("-", "$"))]
        if head == "apt-get" and "install" in args:
            table = APT
        elif head == "apk" and "add" in args:
            table = APK
        elif head == "ensure_packages":  # scripts/ensure-packages.sh: COMMAND=PACKAGE pairs, from apt
            for pair in args:
                _, package = pair.split("=", 1)
                assert package in APT, f"{self.name}: {where}: say what the apt package {package} provides"
                self.provided |= APT[package]
            return
        elif head == "install_packages":
            table = APT
        elif head.endswith("/pip") and "install" in args:
            table = PIP
        else:
            return
        for package in packages:
            if package in ("install", "add", "update"):
                continue
            assert package in table, f"{self.name}: {where}: say what the package {package} provides"
            self.provided |= table[package]

    def need(self, head: str, where: str) -> None:
        if not head or head in SHELL_BUILTINS or head in self.defined or head in self.provided or head in self.optional:
            return
        # Paths the job made itself (variables, workspaces, temporary files) are not tools to account for.
        if head.startswith(("$(", "./target/", "target/", "/tmp/")) or (head.startswith("$") and head not in INSTALLED_PATHS):
            return
        self.missing.append(f"{self.name}: {where}: `{head}` comes from nowhere (not in the image, not installed before)")


INSTALLED_PATHS = set().union(*INSTALLERS.values())


def substitute(node, values: dict):
    if isinstance(node, str):
        return re.sub(r"<<\s*parameters\.(\w+)\s*>>", lambda m: str(values.get(m.group(1), "PARAMETER")), node)
    if isinstance(node, dict):
        return {key: substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute(value, values) for value in node]
    return node


def invocations(config: dict):
    """(name, job definition with its parameters substituted) for each job the workflows run from this file."""
    jobs = config.get("jobs", {})
    for workflow in config.get("workflows", {}).values():
        for entry in workflow["jobs"]:
            name, params = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
            if name not in jobs:
                continue  # an orb's job: the orb accounts for its own tools
            params = params or {}
            defaults = {key: spec.get("default") for key, spec in (jobs[name].get("parameters") or {}).items()}
            yield params.get("name", name), substitute(jobs[name], {**defaults, **params})


def account(config: dict) -> list[str]:
    missing = []
    for name, job in invocations(config):
        image = job["docker"][0]["image"] if "docker" in job else "macos"
        assert image in IMAGES, f"{name}: say what the image {image} holds (from its documentation)"
        walker = Job(name, IMAGES[image])
        if "shell" in job:
            walker.need(job["shell"].split()[0], "its shell")
        for step in job["steps"]:
            kind, body = (step, {}) if isinstance(step, str) else next(iter(step.items()))
            if kind == "run":
                command = body if isinstance(body, str) else body["command"]
                for marker, tools in INSTALLERS.items():
                    if marker in command:
                        walker.provided |= tools
                walker.commands(calls(parse(command)), f"step {body.get('name', command[:30]) if isinstance(body, dict) else command[:30]!r}")
            elif kind in ORB_STEPS:
                walker.provided |= ORB_STEPS[kind]
            else:
                assert kind in BUILTIN_STEPS or kind.startswith("heartbeat/"), f"{name}: unknown step {kind}"
        missing += walker.missing
    return missing


def pipelines() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted((ROOT / ".circleci").glob("*.yml"))}


@pytest.mark.parametrize("name", sorted(pipelines()))
def test_every_tool_a_job_calls_comes_from_somewhere(name):
    assert account(pipelines()[name]) == []


def test_the_test_job_on_an_image_without_node_is_caught():
    config = pipelines()["config.yml"]
    config["jobs"]["test"]["docker"][0]["image"] = "cimg/rust:1.95"
    missing = account(config)
    assert any("`node` comes from nowhere" in line and "scripts/test.sh" in line for line in missing), missing
    assert any("`npm` comes from nowhere" in line for line in missing), "apt's npm (the distribution's Node) never counts"


def test_a_tool_used_before_its_install_step_is_caught():
    config = pipelines()["test-deploy.yml"]
    steps = config["jobs"]["release"]["steps"]
    gh = next(i for i, step in enumerate(steps) if isinstance(step, dict) and "github-cli/install" in step)
    steps.append(steps.pop(gh))  # gh installed only after the steps that call it
    assert any(line.startswith("release:") and "`gh` comes from nowhere" in line for line in account(config))


def test_a_package_installed_for_a_tool_provides_it_and_nothing_else():
    def job(*runs: str) -> dict:
        return {"jobs": {"j": {"docker": [{"image": "cimg/base:current"}], "steps": [{"run": run} for run in runs]}},
                "workflows": {"w": {"jobs": ["j"]}}}
    assert account(job("sudo apt-get install -y musl-tools", "musl-gcc x.c")) == []
    assert any("`musl-gcc`" in line for line in account(job("musl-gcc x.c", "sudo apt-get install -y musl-tools")))
    assert any("`node`" in line for line in account(job("sudo apt-get install -y nodejs", "node x.js")))
