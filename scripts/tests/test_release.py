"""The release: scripts/release.sh in dry-run mode (layout, checksums, pin, version agreement), and that the
static binary is static (the container image built from it is run for real in test_container.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import ROOT, TARGET


def cargo_version() -> str:
    return re.search(r'^version = "(.+)"$', (ROOT / "Cargo.toml").read_text(), re.M).group(1)


def repo_copy(tmp_path: Path, changelog_version: str | None) -> Path:
    """Copies what the release script reads, optionally with a CHANGELOG section for the version."""
    repo = tmp_path / "repo"
    for name in ["Cargo.toml", "CHANGELOG.md", "README.md", "LICENSE"]:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "scripts", repo / "scripts", ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (repo / "orb/src/scripts").mkdir(parents=True)
    shutil.copy(ROOT / "orb/src/scripts/install.sh", repo / "orb/src/scripts/install.sh")
    if changelog_version:
        changelog = repo / "CHANGELOG.md"
        changelog.write_text(changelog.read_text().replace("## [Unreleased]\n", f"## [Unreleased]\n\n## [{changelog_version}] - 2026-11-25\n", 1))
    return repo


def release(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(repo / "scripts" / "release.sh"), *args], cwd=repo, capture_output=True, text=True)


def test_dry_run_packs_the_archive_checksums_and_a_pinned_orb(tmp_path, static_binary):
    version = cargo_version()
    repo = repo_copy(tmp_path, version)
    before = (repo / "orb/src/scripts/install.sh").read_text()
    run = release(repo, version, "--dry-run", "--binary", f"{TARGET}={static_binary}")
    assert run.returncode == 0, run.stderr
    dist = repo / "dist"
    name = f"heartbeat-{version}-{TARGET}"
    archive = dist / f"{name}.tar.gz"
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
        files = ["CHANGELOG.md", "LICENSE", "README.md", "completions", "completions/_heartbeat", "completions/_heartbeat.ps1",
                 "completions/heartbeat.bash", "completions/heartbeat.fish", "heartbeat", "heartbeat.1"]
        assert sorted(members) == [name, *(f"{name}/{f}" for f in files)]
        man = tar.extractfile(f"{name}/heartbeat.1").read().decode()
        assert man.startswith(".TH heartbeat 1")
        assert members[f"{name}/heartbeat"].mode & 0o777 == 0o755
        assert {m.uid for m in members.values()} == {0}
        tar.extractall(tmp_path / "x", filter="tar")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert (dist / "SHA256SUMS").read_text() == f"{digest}  {name}.tar.gz\n"
    pinned = (dist / "orb/install.sh").read_text()
    assert f'HB_PINNED_VERSION="{version}"' in pinned
    assert f"{digest}  {name}.tar.gz" in pinned
    assert (repo / "orb/src/scripts/install.sh").read_text() == before, "a dry run must not touch the orb"
    shipped = tmp_path / "x" / name / "heartbeat"
    out = subprocess.run([str(shipped), "--version"], capture_output=True, text=True, check=True).stdout
    assert out == f"heartbeat {version} ({TARGET})\n"
    assert f"{archive.stat().st_size} bytes" in run.stdout


def test_archives_are_reproducible(tmp_path, static_binary):
    version = cargo_version()
    repo = repo_copy(tmp_path, version)
    sums = []
    # The same inputs with different file times (and a different binary copy) must pack to the same bytes:
    # a missing --mtime would show, whatever second the two runs fall in.
    for stamp in (1_000_000_000, 1_700_000_000):
        binary = tmp_path / f"heartbeat-{stamp}"
        shutil.copy(static_binary, binary)
        for path in (binary, repo / "README.md", repo / "LICENSE", repo / "CHANGELOG.md"):
            os.utime(path, (stamp, stamp))
        assert release(repo, version, "--dry-run", "--binary", f"{TARGET}={binary}").returncode == 0
        sums.append((repo / "dist" / "SHA256SUMS").read_text())
    assert sums[0] == sums[1]


def test_a_version_that_does_not_agree_everywhere_is_refused(tmp_path, static_binary):
    repo = repo_copy(tmp_path, None)
    run = release(repo, "9.9.9", "--dry-run", "--binary", f"{TARGET}={static_binary}")
    assert run.returncode == 1
    assert f"Cargo.toml says {cargo_version()}" in run.stderr
    assert "CHANGELOG.md has no '## [9.9.9]' section" in run.stderr
    assert "the orb pins" in run.stderr
    assert not (repo / "dist").exists()


def test_a_missing_changelog_section_alone_is_refused(tmp_path, static_binary):
    repo = repo_copy(tmp_path, None)
    run = release(repo, cargo_version(), "--dry-run", "--binary", f"{TARGET}={static_binary}")
    assert run.returncode == 1
    assert "CHANGELOG.md has no" in run.stderr and "Cargo.toml says" not in run.stderr


def test_usage_errors(tmp_path):
    repo = repo_copy(tmp_path, None)
    assert release(repo, "1.0").returncode == 2
    assert release(repo, cargo_version(), "--bogus").returncode == 2


def test_a_dynamically_linked_linux_binary_is_refused(tmp_path):
    version = cargo_version()
    repo = repo_copy(tmp_path, version)
    dynamic = ROOT / "target" / "debug" / "heartbeat"
    run = release(repo, version, "--dry-run", "--binary", f"{TARGET}={dynamic}")
    assert run.returncode == 1
    assert "is not statically linked" in run.stderr


def test_the_static_binary_is_static(static_binary):
    assert re.search(r"static(-pie)? linked|statically linked", subprocess.run(["file", "-b", str(static_binary)], capture_output=True, text=True).stdout)


def test_the_scripts_people_and_ci_run_are_executable():
    sourced = {"ensure-packages.sh", "bench-nginx.sh"}
    for script in sorted((ROOT / "scripts").glob("*.sh")) + [ROOT / ".ci" / "run"]:
        if script.name not in sourced:
            assert os.access(script, os.X_OK), f"{script.relative_to(ROOT)} is not executable"
            assert script.read_text().startswith("#!/usr/bin/env bash\n"), script.name


def pin(tmp_path: Path, sums_text: str, version: str = "0.1.0") -> subprocess.CompletedProcess:
    script = tmp_path / "install.sh"
    script.write_text((ROOT / "orb" / "src" / "scripts" / "install.sh").read_text())
    sums = tmp_path / "SHA256SUMS"
    sums.write_bytes(sums_text.encode())
    return subprocess.run(["bash", str(ROOT / "scripts" / "pin-orb.sh"), version, str(sums), str(script)], capture_output=True, text=True)


def test_only_expected_archive_names_and_hex_digests_are_pinned(tmp_path):
    digest = "ab" * 32
    crafted = [
        f'{digest}  heartbeat-0.1.0-x"$(touch {tmp_path}/ran)".tar.gz\n',
        f"{digest}  heartbeat-0.1.0-x86_64-unknown-linux-musl.tar.gz\nnot a digest  heartbeat-0.1.0-a-b-c.tar.gz\n",
        f"{digest[:-1]}g  heartbeat-0.1.0-x86_64-unknown-linux-musl.tar.gz\n",
        f"{digest}  heartbeat-0x1x0-x86_64-unknown-linux-musl.tar.gz\n",
    ]
    for text in crafted:
        run = pin(tmp_path, text)
        assert run.returncode == 1 and "refusing a SHA256SUMS line" in run.stderr, text
        assert "BEGIN PIN" in (tmp_path / "install.sh").read_text()
        assert f"{digest}  heartbeat-0.1.0" not in (tmp_path / "install.sh").read_text(), "a refused file was pinned"
    assert pin(tmp_path, "", version="1.0; rm -rf /").returncode == 2
    assert not (tmp_path / "ran").exists()


def test_crlf_and_upper_case_sums_are_pinned_in_the_form_the_install_compares(tmp_path):
    digest = "AB" * 32
    run = pin(tmp_path, f"{digest}  heartbeat-0.1.0-x86_64-unknown-linux-musl.tar.gz\r\n")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "install.sh").read_text()
    assert f"{digest.lower()}  heartbeat-0.1.0-x86_64-unknown-linux-musl.tar.gz\n" in text and "\r" not in text
