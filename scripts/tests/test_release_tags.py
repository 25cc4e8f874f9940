"""The release's tags, in a throwaway git repository with a bare remote: scripts/tag-release.sh commits the pins
(the install script's checksums, the image digest) and tags that very commit; scripts/major-tag.sh moves v0 to
the newest release of its major and leaves it for an older line's patch."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PINS = ["orb/src/scripts/install.sh", "deploy/kubernetes/image/kustomization.yaml"]
DIGEST = "sha256:" + "5e" * 32


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def script(repo: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(repo / "scripts" / name), *args], cwd=repo, capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path):
    """A repository holding what the tag scripts touch, committed once, with a bare remote."""
    repo = tmp_path / "heartbeat"
    for path in [*PINS, "action.yml", "action/check.sh", "scripts/pin-orb.sh", "scripts/pin-image.sh", "scripts/tag-release.sh", "scripts/major-tag.sh"]:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, repo / path)
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(repo))
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", "start")
    git(tmp_path, "init", "--quiet", "--bare", str(tmp_path / "remote.git"))
    return repo


def pin(repo: Path, version: str, digest: str = DIGEST) -> None:
    sums = repo.parent / "SHA256SUMS"
    sums.write_text(f"{'ab' * 32}  heartbeat-{version}-x86_64-unknown-linux-musl.tar.gz\n")
    assert script(repo, "pin-orb.sh", version, str(sums)).returncode == 0
    assert script(repo, "pin-image.sh", version, digest).returncode == 0


def release(repo: Path, version: str) -> str:
    pin(repo, version)
    run = script(repo, "tag-release.sh", version)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_the_tagged_commit_carries_the_pins(repo):
    start = git(repo, "rev-parse", "HEAD")
    commit = release(repo, "0.1.0")
    assert git(repo, "rev-parse", "v0.1.0^{commit}") == commit != start
    assert git(repo, "rev-parse", f"{commit}^") == start
    assert sorted(git(repo, "diff", "--name-only", start, commit).splitlines()) == sorted(PINS)
    installed = git(repo, "show", f"v0.1.0:{PINS[0]}")
    assert 'HB_PINNED_VERSION="0.1.0"' in installed and f"{'ab' * 32}  heartbeat-0.1.0-x86_64-unknown-linux-musl.tar.gz" in installed
    assert f"digest: {DIGEST}" in git(repo, "show", f"v0.1.0:{PINS[1]}")
    assert git(repo, "cat-file", "-t", "v0.1.0") == "tag", "an annotated tag"
    assert git(repo, "status", "--porcelain") == ""


def test_a_rerun_with_the_same_pins_succeeds_and_other_pins_never_move_the_tag(repo):
    commit = release(repo, "0.1.0")
    again = script(repo, "tag-release.sh", "0.1.0")
    assert again.returncode == 0 and again.stdout.strip() == commit and "already tags these pins" in again.stderr
    assert script(repo, "pin-image.sh", "0.1.0", "sha256:" + "77" * 32).returncode == 0
    moved = script(repo, "tag-release.sh", "0.1.0")
    assert moved.returncode == 1 and "never moved" in moved.stderr
    assert git(repo, "rev-parse", "v0.1.0^{commit}") == commit


def test_unpinned_or_unrelated_changes_are_refused(repo):
    unpinned = script(repo, "tag-release.sh", "0.1.0")
    assert unpinned.returncode == 1 and "no checksum" in unpinned.stderr
    pin(repo, "0.1.0")
    (repo / "action.yml").write_text((repo / "action.yml").read_text() + "# stray\n")
    stray = script(repo, "tag-release.sh", "0.1.0")
    assert stray.returncode == 1 and "action.yml" in stray.stderr
    git(repo, "checkout", "action.yml")
    assert script(repo, "pin-orb.sh", "0.1.1", str(repo.parent / "SHA256SUMS")).returncode == 1  # sums name 0.1.0
    assert script(repo, "tag-release.sh", "0.2.0").returncode == 1
    assert script(repo, "tag-release.sh", "0.1").returncode == 2
    assert git(repo, "tag") == ""


def test_the_major_tag_follows_the_newest_release_and_is_pushed(repo):
    remote = str(repo.parent / "remote.git")
    first = release(repo, "0.1.0")
    moved = script(repo, "major-tag.sh", "0.1.0", "--push", remote)
    assert moved.returncode == 0 and moved.stdout.startswith("major-tag: v0 -> v0.1.0"), moved.stderr
    assert git(Path(remote), "rev-parse", "v0") == first
    second = release(repo, "0.10.0")  # 0.10 sorts after 0.9 and 0.2 by version, not by text
    assert script(repo, "major-tag.sh", "0.10.0", "--push", remote).returncode == 0
    assert git(Path(remote), "rev-parse", "v0") == second


def test_a_patch_to_an_older_line_leaves_the_major_tag(repo):
    remote = str(repo.parent / "remote.git")
    newest = release(repo, "0.2.0")
    assert script(repo, "major-tag.sh", "0.2.0", "--push", remote).returncode == 0
    release(repo, "0.1.9")
    left = script(repo, "major-tag.sh", "0.1.9", "--push", remote)
    assert left.returncode == 0 and "v0 stays: v0.1.9 is older than v0.2.0" in left.stdout
    assert git(repo, "rev-parse", "v0") == git(Path(remote), "rev-parse", "v0") == newest


def test_major_tag_usage_and_a_missing_release(repo):
    assert script(repo, "major-tag.sh", "0.3.0").returncode == 1
    assert script(repo, "major-tag.sh", "0.3").returncode == 2
    assert script(repo, "major-tag.sh", "0.3.0", "--pull", "x").returncode == 2
    release(repo, "1.0.0")
    run = script(repo, "major-tag.sh", "1.0.0")
    assert run.returncode == 0 and run.stdout.startswith("major-tag: v1 -> v1.0.0")
    assert "v0" not in git(repo, "tag").split()
