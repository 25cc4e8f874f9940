#!/usr/bin/env python3
"""Packs, reviews and runs the heartbeat orb locally, without the CircleCI CLI (which needs the network to
validate and Docker to execute).

    orbtool.py pack SRC OUT            write the packed orb.yml (the rules of `circleci orb pack`)
    orbtool.py review SRC              the orb-tools review rules RC001-RC012, offline

The step runner (`Runner`) executes an orb command as a CircleCI job step list would: parameters
substituted, `when` evaluated, each `run` under `/bin/bash -eo pipefail` with BASH_ENV, the cache steps
against a local directory, and `store_test_results`/`store_artifacts` collected.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SECTIONS = ("commands", "jobs", "executors", "examples")
INCLUDE = re.compile(r"^<<\s*include\(([^)]+)\)\s*>>$")
PARAMETER = re.compile(r"<<\s*parameters\.(\w+)\s*>>")
MAX_COMMAND_LENGTH = 64  # orb-tools' default for RC009


# --- packing ---------------------------------------------------------------------------------------------


def _include(value, src: Path, section: str):
    """Replaces whole-value includes; `<<` inside an included file is escaped so CircleCI leaves it alone."""
    if isinstance(value, dict):
        return {k: _include(v, src, section) for k, v in value.items()}
    if isinstance(value, list):
        return [_include(v, src, section) for v in value]
    if isinstance(value, str):
        match = INCLUDE.match(value.strip())
        if match:
            if section == "examples":
                raise ValueError("include is only allowed in commands, jobs and executors")
            return (src / match.group(1)).read_text().replace("<<", "\\<<")
        if "<<include(" in value.replace(" ", ""):
            raise ValueError(f"include must be the whole value: {value[:60]!r}")
    return value


def pack(src: Path) -> dict:
    """Builds the orb as one mapping from the Orb Development Kit layout."""
    orb = yaml.safe_load((src / "@orb.yml").read_text())
    for section in SECTIONS:
        folder = src / section
        if not folder.is_dir():
            continue
        orb[section] = {
            path.stem: _include(yaml.safe_load(path.read_text()), src, section)
            for path in sorted(folder.glob("*.yml"))
        }
    return orb


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, text):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def dump(orb: dict) -> str:
    return yaml.dump(orb, Dumper=_Dumper, sort_keys=False, width=1000)


# --- review ----------------------------------------------------------------------------------------------


def _components(src: Path, sections=("jobs", "commands", "executors")):
    for section in sections:
        for path in sorted((src / section).glob("*.yml")):
            yield path, yaml.safe_load(path.read_text())


def _run_steps(component: dict):
    for step in component.get("steps", []) or []:
        yield from _runs(step)


def _runs(step):
    if isinstance(step, dict):
        if "run" in step:
            yield step["run"]
        for nested in ("when", "unless"):
            if nested in step:
                for inner in step[nested].get("steps", []):
                    yield from _runs(inner)


def review(src: Path) -> list[str]:
    """Returns a line per broken rule, empty when the orb passes RC001-RC012."""
    problems = []
    orb = yaml.safe_load((src / "@orb.yml").read_text())
    display = orb.get("display") or {}
    url = re.compile(r"^https://[\w.-]+/\S*$")
    if not display.get("source_url"):
        problems.append("RC001: @orb.yml has no display.source_url")
    for path, component in _components(src, ("jobs", "examples", "commands", "executors")):
        if not (component or {}).get("description"):
            problems.append(f"RC002: {path.name} has no description")
    examples = sorted((src / "examples").glob("*.yml"))
    if not examples:
        problems.append("RC003: no usage example")
    problems += [f"RC004: example name {p.name} is not descriptive" for p in examples if "example" in p.stem]
    if len(str(orb.get("description", ""))) < 64:
        problems.append("RC005: the orb description is under 64 characters")
    # RC006/RC007 fetch the URLs; offline, they must at least be well-formed https URLs.
    if not url.match(str(display.get("source_url", ""))):
        problems.append("RC006: display.source_url is not an https URL")
    if "home_url" in display and not url.match(str(display["home_url"])):
        problems.append("RC007: display.home_url is not an https URL")
    for path, component in _components(src):
        for run in _run_steps(component):
            if isinstance(run, str):
                problems.append(f"RC008: {path.name} has a run step in string form")
                continue
            if not run.get("name"):
                problems.append(f"RC008: {path.name} has a run step without a name")
            command = str(run.get("command", ""))
            if len(command) > MAX_COMMAND_LENGTH and not INCLUDE.match(command.strip()):
                problems.append(f"RC009: {path.name} has a long command that is not an include")
        if "-" in path.stem:
            problems.append(f"RC010: {path.name} is not snake_case")
        for name in (component.get("parameters") or {}):
            if "-" in name or name != name.lower():
                problems.append(f"RC010: parameter {name} in {path.name} is not snake_case")
        for name, spec in (component.get("parameters") or {}).items():
            default = str((spec or {}).get("default", ""))
            if "$" in default and not default.endswith("$"):
                problems.append(f"RC012: parameter {name} in {path.name} defaults to an environment variable")
    tag = os.environ.get("CIRCLE_TAG", "")
    if re.match(r"^v\d+\.\d+\.\d+$", tag):
        major = tag[1:].split(".")[0]
        for path in examples:
            ref = ((yaml.safe_load(path.read_text()).get("usage") or {}).get("orbs") or {}).get("heartbeat", "")
            if ref.split("@")[-1].split(".")[0] != major:
                problems.append(f"RC011: {path.name} does not use major version {major}")
    return problems


# --- running ---------------------------------------------------------------------------------------------


@dataclass
class StepResult:
    kind: str
    name: str
    code: int
    output: str = ""


@dataclass
class Runner:
    """Executes one orb command's steps in order, as a CircleCI job would, on this machine."""

    orb: dict
    workdir: Path
    context: dict
    cache_dir: Path
    # The job's `shell:`, if it sets one; otherwise the image decides, as on CircleCI: bash when it has bash.
    shell: str | None = None
    image_has_bash: bool = True
    # CircleCI's {{ .BuildNum }}: each run of a job has its own.
    build_num: int = 1
    results: list = field(default_factory=list)
    test_results: list = field(default_factory=list)
    artifacts: list = field(default_factory=list)

    def __post_init__(self):
        self.bash_env = self.workdir / "bash_env"
        self.bash_env.touch()

    def run_command(self, name: str, arguments: dict | None = None) -> bool:
        """Runs the command's steps; returns whether the job would be green."""
        self._failed = False
        self._steps(self._expand(name, arguments or {}))
        return not self._failed

    def _expand(self, name: str, arguments: dict) -> list:
        definition = self.orb["commands"][name]
        declared = definition.get("parameters") or {}
        unknown = set(arguments) - set(declared)
        if unknown:
            raise ValueError(f"{name}: unknown parameters {sorted(unknown)}")
        values = {}
        for key, spec in declared.items():
            value = arguments.get(key, spec.get("default"))
            if value is None:
                raise ValueError(f"{name}: parameter {key} is required")
            values[key] = _typed(name, key, spec, value)
        return _substitute(definition["steps"], values)

    def _steps(self, steps: list) -> None:
        for step in steps:
            kind, body = (step, {}) if isinstance(step, str) else next(iter(step.items()))
            if kind in ("when", "unless"):
                condition = bool(body["condition"]) and body["condition"] not in ("false", "")
                if condition == (kind == "when"):
                    self._steps(body["steps"])
            elif kind in self.orb.get("commands", {}):
                self._steps(self._expand(kind, body or {}))
            elif not self._should_run(kind, body):
                why = "skipped after a failure" if self._failed else "skipped: runs only after a failure"
                self.results.append(StepResult(kind, body.get("name", kind), -1, why))
            else:
                getattr(self, "_" + kind)(body)

    def _should_run(self, kind: str, body: dict) -> bool:
        """CircleCI's `when` for steps: on_success (default), on_fail or always; results are always stored."""
        if kind in ("store_test_results", "store_artifacts"):
            return True
        when = body.get("when", "on_success") if isinstance(body, dict) else "on_success"
        return when == "always" or (when == "on_fail") == self._failed

    def default_shell(self) -> str:
        if self.shell:
            return self.shell
        if self.image_has_bash:
            return "/bin/bash -eo pipefail"
        # CircleCI's default without bash is `/bin/sh -eo pipefail`; on the images that lack bash (Alpine)
        # /bin/sh is busybox, which stands in for it here.
        return "busybox sh -eo pipefail" if shutil.which("busybox") else "/bin/sh -eo pipefail"

    def _run(self, body: dict) -> None:
        script = self.workdir / "step.sh"
        script.write_text(body["command"].replace("\\<<", "<<"))
        env = dict(self.context)
        # CircleCI renders a boolean parameter as true or false, as YAML spells it.
        env.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (body.get("environment") or {}).items()})
        env.update({"BASH_ENV": str(self.bash_env), "CIRCLECI": "true", "CI": "true"})
        shell = body.get("shell", self.default_shell()).split()
        proc = subprocess.run([*shell, str(script)], cwd=self.workdir, env=env, capture_output=True, text=True)
        self.results.append(StepResult("run", body.get("name", ""), proc.returncode, proc.stdout + proc.stderr))
        self._failed = self._failed or proc.returncode != 0

    def _cache_key(self, template: str) -> str:
        def checksum(match):
            return hashlib.sha256(Path(match.group(1)).read_bytes()).hexdigest()

        key = re.sub(r'{{\s*checksum\s+"([^"]+)"\s*}}', checksum, template)
        key = re.sub(r"{{\s*arch\s*}}", f"{platform.system().lower()}-{platform.machine()}", key)
        key = re.sub(r"{{\s*\.BuildNum\s*}}", str(self.build_num), key)
        return key

    def _restore_cache(self, body: dict) -> None:
        for template in body.get("keys") or [body["key"]]:
            # A key matches by prefix; of several, CircleCI restores the most recently saved.
            key = self._cache_key(template)
            found = sorted((p for p in self.cache_dir.glob("*") if p.name.startswith(key)), key=lambda p: p.stat().st_mtime_ns)
            stored = found[-1] if found else self.cache_dir / key
            if stored.is_dir():
                for path in stored.iterdir():
                    target = Path("/" + path.name.replace("__", "/"))
                    shutil.copytree(path, target, dirs_exist_ok=True)
                self.results.append(StepResult("restore_cache", template, 0, f"restored {stored.name}"))
                return
        self.results.append(StepResult("restore_cache", body.get("name", ""), 0, "no cache found"))

    def _save_cache(self, body: dict) -> None:
        stored = self.cache_dir / self._cache_key(body["key"])
        if stored.exists():  # CircleCI caches are immutable per key
            self.results.append(StepResult("save_cache", body["key"], 0, "cache exists"))
            return
        for path in body["paths"]:
            if Path(path).exists():
                shutil.copytree(path, stored / path.strip("/").replace("/", "__"))
        self.results.append(StepResult("save_cache", body["key"], 0, f"saved {stored.name}"))

    def _store_test_results(self, body: dict) -> None:
        self.test_results += sorted(Path(body["path"]).glob("**/*.xml"))

    def _store_artifacts(self, body: dict) -> None:
        root = Path(body["path"])
        self.artifacts += sorted(p for p in root.glob("**/*") if p.is_file())


def _typed(command: str, key: str, spec: dict, value):
    kind = spec.get("type", "string")
    if kind == "boolean":
        if isinstance(value, str):
            value = {"true": True, "false": False}[value]
        return bool(value)
    if kind == "integer":
        return int(value)
    if kind == "enum" and value not in spec["enum"]:
        raise ValueError(f"{command}: {key} must be one of {spec['enum']}")
    if kind == "env_var_name" and not re.match(r"^[a-zA-Z][\w]*$", str(value)):
        raise ValueError(f"{command}: {key} is not an environment variable name")
    return value


def _substitute(value, values: dict):
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    if isinstance(value, str):
        whole = PARAMETER.fullmatch(value.strip())
        if whole:  # a whole-value reference keeps its type (booleans for `when`)
            return values[whole.group(1)]

        def text(match):
            item = values[match.group(1)]
            return str(item).lower() if isinstance(item, bool) else str(item)

        return PARAMETER.sub(text, value)
    return value


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "pack":
        Path(argv[2]).write_text(dump(pack(Path(argv[1]))))
        return 0
    if len(argv) == 2 and argv[0] == "review":
        problems = review(Path(argv[1]))
        print("\n".join(problems) or "review: RC001-RC012 pass")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
