"""Every shell snippet in README.md that a user runs against the sandbox (marked `<!-- sandbox snippet … -->`
just above its fence) runs as written: with the freshly built `heartbeat` on PATH, in a fresh directory holding
the repository's example files, its background sandbox stopped afterwards. A snippet that drifts from the
product fails here."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

MARKER = "<!-- sandbox snippet"
SNIPPET = re.compile(r"^" + re.escape(MARKER) + r".*?-->\n```sh\n(.*?)^```$", re.M | re.S)


def snippets() -> list[str]:
    text = (ROOT / "README.md").read_text()
    found = SNIPPET.findall(text)
    assert len(found) == text.count(MARKER), "every marker must sit right above a ```sh fence"
    return found


def test_the_readme_marks_its_sandbox_snippets():
    assert len(snippets()) >= 2
    assert all("heartbeat sandbox" in snippet for snippet in snippets())


def run_snippet(snippet: str, cwd: Path) -> tuple[int, str]:
    """Runs a snippet with bash -e in its own session; returns its exit code and its output. Output goes to a file,
    not a pipe: the snippet's background sandbox holds what it inherits open until it is stopped."""
    binary = ROOT / "target" / "debug" / "heartbeat"
    assert binary.exists(), f"{binary} is missing: cargo builds it before the Python tests"
    env = {"PATH": f"{binary.parent}:/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"}
    log = cwd / "snippet.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-e", "-c", snippet], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=120)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the background sandbox, and anything else it started
            except ProcessLookupError:
                pass
    return code, log.read_text()


@pytest.mark.parametrize("index", range(len(snippets())))
def test_a_sandbox_snippet_runs_as_written(index, tmp_path):
    for folder in ("deploy", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    code, output = run_snippet(snippets()[index], tmp_path)
    assert code == 0, output
    assert "heartbeat sandbox: listening on https://127.0.0.1:" in output
    assert re.search(r"healthy: 200|\d+ passed, 0 failed", output), output
    assert (tmp_path / "sb.env").stat().st_mode & 0o777 == 0o600


def test_a_failing_snippet_fails_the_runner(tmp_path):
    # The runner is honest: the first snippet with a wrong key exits with the gateway's refusal.
    broken = snippets()[0].replace(". ./sb.env && heartbeat check", ". ./sb.env && API_KEY=wrong heartbeat check --attempts 1")
    assert broken != snippets()[0]
    code, output = run_snippet(broken, tmp_path)
    assert code == 1, output
