"""Fixtures shared by the scripts' tests: the static release binary and a running `heartbeat sandbox`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = "x86_64-unknown-linux-musl"


@pytest.fixture(scope="session")
def static_binary():
    """The x86_64 musl release build, as the release ships it (`scripts/build-static.sh`)."""
    if os.environ.get("HEARTBEAT_SKIP_MUSL"):
        pytest.skip(f"the {TARGET} target could not be installed: {os.environ['HEARTBEAT_SKIP_MUSL']}")
    built = subprocess.run([str(ROOT / "scripts" / "build-static.sh")], stdout=subprocess.PIPE, text=True, check=True)
    return Path(built.stdout.strip())


def pytest_collection_modifyitems(items):
    """The tests that need the static binary run last, so the others run while it builds."""
    items.sort(key=lambda item: "static_binary" in item.fixturenames)


def read_env_file(path: Path) -> dict[str, str]:
    """The variables `heartbeat sandbox --write-env` wrote (`export NAME='value'` lines)."""
    pairs = (line[len("export "):].split("=", 1) for line in path.read_text().splitlines() if line.startswith("export "))
    return {name: value.strip("'") for name, value in pairs}


@pytest.fixture
def sandbox_context(tmp_path, static_binary):
    """A `heartbeat sandbox` on a free loopback port; yields the context it wrote."""
    env_file = tmp_path / "sb.env"
    proc = subprocess.Popen([str(static_binary), "sandbox", "--write-env", str(env_file)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().startswith("heartbeat sandbox: listening on")
        yield read_env_file(env_file)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
