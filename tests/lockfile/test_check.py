"""`bastion check` with a lockfile: reading GitHub's files, coverage, malformed files, and
`check --online` on the entries (drift, impostor commits, ids)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.cli import main
from bastion.config import Config
from bastion.engine import Report, run
from bastion.inputs import collect
from bastion.model.lockfile import build_lockfile, parse_uses_pin
from bastion.model.uses import parse_uses
from bastion.pinning.lock_verify import verify_lockfiles
from bastion.source.yaml import parse
from tests.lockfile.conftest import IDS, World
from tests.shared import SHARED, require

REFERENCE = SHARED / "reference" / "actions-lockfile.md"
CHECKOUT = "34e114876b0b11c390a56381ad16ebd13914f8d5"

WORKFLOW = """on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4.3.1
        with:
          persist-credentials: false
      - uses: actions/setup-go@v5.6.0
      - uses: actions/setup-go@v5
"""


def _reference_example() -> str:
    text = require(REFERENCE).read_text()
    match = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_references_example_is_read() -> None:
    lock = build_lockfile("actions.lock", parse(_reference_example()))
    # The example is cut short: it lists actions/setup-go@v5.6.0 without its entry, which
    # GitHub's parser accepts (the runner would find no commit for it).
    assert [(p.span.start.line, p.fatal) for p in lock.problems] == [(5, False)]
    assert not lock.rejected
    entry = lock.dependencies["actions/checkout@v4.3.1"]
    assert (entry.ref, entry.sha, entry.owner_id, entry.repo_id) == (
        "v4.3.1",
        CHECKOUT,
        44036562,
        197814629,
    )
    covered = lock.for_workflow(".github/workflows/ci.yml")
    assert covered is not None
    assert covered.covers(parse_uses("Actions/Checkout@v4.3.1"))
    assert not covered.covers(parse_uses("actions/checkout@v4"))
    assert not covered.covers(parse_uses("actions/checkout@V4.3.1"))  # refs keep their case


def _project(tmp_path: Path, lock: str) -> Path:
    workflows = tmp_path / "project" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW)
    (workflows / "actions.lock").write_text(lock)
    return tmp_path / "project"


def _findings(root: Path) -> set[tuple[str, int, str]]:
    report = run(collect([str(root)]), Config(), jobs=1)
    assert report.errors == []
    prefix = f"{root.as_posix()}/"
    return {(f.path.removeprefix(prefix), f.span.start.line, f.rule) for f in report.findings}


SETUP_GO = """    'actions/setup-go@v5.6.0':
        ref: 'v5.6.0'
        commit: 'sha1-40f1582b2485089dde7abd97c1529aa768e1baff'
        owner_id: 44036562
        repo_id: 192624594
"""


def test_a_valid_lock_pins_the_uses_it_covers(tmp_path: Path) -> None:
    root = _project(tmp_path, _reference_example() + SETUP_GO)
    found = _findings(root)
    # Only the @v5 the lock misses is reported; the reference lists no entry it would stale.
    assert {f for f in found if f[2] == "unpinned-action"} == {
        (".github/workflows/ci.yml", 11, "unpinned-action")
    }
    assert not any(f[0].endswith("actions.lock") for f in found)


def test_a_malformed_lock_is_a_finding_and_the_rest_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _reference_example().replace("commit: 'sha1-", "commit: 'sha-", 1)
    root = _project(tmp_path, broken)
    code = main(["check", str(root), "--select", "syntax-error,unpinned-action"])
    out = capsys.readouterr().out
    assert code == 1
    assert "actions.lock:9:17: high[syntax-error] 'commit' of actions/checkout@v4.3.1" in out
    assert "GitHub ignores a lockfile it cannot parse" in out
    # GitHub ignores the lock, so every tag is unpinned again.
    assert out.count("[unpinned-action]") == 3


def test_v001_is_normalised() -> None:
    text = (
        "version: v0.0.1\n"
        "workflows:\n"
        "  .github/workflows/ci.yml:\n"
        f"    - actions/checkout@v4:sha1-{CHECKOUT}\n"
        "dependencies:\n"
        f"  Actions/Checkout@v4:sha1-{CHECKOUT}:\n"
        "    branch: main\n"
        "    tag: v4\n"
        f"    commit: sha1-{CHECKOUT}\n"
        "    owner_id: 1\n"
        "    repo_id: 2\n"
    )
    lock = build_lockfile("actions.lock", parse(text))
    assert lock.problems == []
    assert lock.workflows[".github/workflows/ci.yml"].pins == ("actions/checkout@v4",)
    assert lock.dependencies["actions/checkout@v4"].ref == "v4"


def test_pin_keys_follow_githubs_grammar() -> None:
    assert parse_uses_pin("actions/cache/save@v4") == "actions/cache@v4"
    assert parse_uses_pin("Org/Repo@release@2024") == "org/repo@release@2024"
    assert parse_uses_pin("./local") is None
    assert parse_uses_pin("org/repo/.github/workflows/x.yml@v1") is None


# Online ----------------------------------------------------------------------------------


def _entry(key: str, ref: str, commit: str, ids: tuple[int, int]) -> str:
    return (
        f"    '{key}':\n        ref: '{ref}'\n        commit: 'sha1-{commit}'\n"
        f"        owner_id: {ids[0]}\n        repo_id: {ids[1]}\n"
    )


def _online(root: Path) -> Report:
    report = Report([], 0, [])
    verify_lockfiles(report, collect([str(root)]), Config())
    return report


def test_online_verification_of_the_entries(world: World, tmp_path: Path) -> None:
    c = world.commits
    checkout = IDS["actions/checkout"]
    lock = (
        "version: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n"
        "        - 'actions/checkout@v4'\ndependencies:\n"
        + _entry("acme/docker@v1", "v1", c.d1, (1, IDS["acme/docker"][1]))
        + _entry("acme/setup@v2.0.0", "v2.0.0", c.p1, IDS["acme/setup"])
        + _entry("acme/setup@v1", "v1", c.s1, IDS["acme/setup"])
        + _entry(f"actions/checkout@{c.c1}", "v4.3.0", c.c1, checkout)
        + _entry("actions/checkout@v4", "v4", c.c1, checkout)
        + _entry("actions/checkout@v9", "v9", c.c2, checkout)
    )
    root = tmp_path / "project"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github/workflows/actions.lock").write_text(lock)
    report = _online(root)
    assert report.errors == []
    found = {(f.span.start.line, f.rule) for f in report.findings}
    assert found == {
        (6, "lock-identity"),  # acme/docker: owner id 1 is not 7001
        (11, "impostor-commit"),  # v2.0.0 was pushed onto a pull request's commit
        (26, "lock-drift"),  # v4 moved from c1 to c2
        (31, "unknown-ref"),  # no v9
    }
    messages = {f.rule: f.message for f in report.findings}
    assert "owner id 1 is now 7001" in messages["lock-identity"]
    assert f"now names commit {c.c2[:12]}, not the locked {c.c1[:12]}" in messages["lock-drift"]
    rest = [entry.path for entry in world.state.rest_requests()]
    assert sorted(rest) == sorted(f"/api/v3/repos/{slug}" for slug in IDS)  # one each


def test_fix_sees_the_lock_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, _reference_example() + SETUP_GO)
    monkeypatch.chdir(root)
    main(["fix", "--diff", "--select", "unpinned-action", "."])
    err = capsys.readouterr().err
    assert "remains: 11:15 unpinned-action" in err
    assert "remains: 7:15 unpinned-action" not in err
    assert "remains: 10:15 unpinned-action" not in err


def test_check_online_reports_a_moved_tag(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = world.commits
    lock = (
        "version: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n"
        "        - 'actions/checkout@v4'\ndependencies:\n"
        + _entry("actions/checkout@v4", "v4", c.c1, IDS["actions/checkout"])
    )
    workflows = tmp_path / "project" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "actions.lock").write_text(lock)
    (workflows / "ci.yml").write_text(WORKFLOW.replace("@v4.3.1", "@v4"))
    code = main(
        [
            "check",
            "--online",
            "--select",
            "lock-drift,impostor-commit",
            str(workflows.parent.parent),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "actions.lock:6:5: medium[lock-drift] the tag `v4` of actions/checkout now names" in out


def test_a_fifo_listed_in_the_lock_never_blocks(tmp_path: Path) -> None:
    """A listed workflow, or the lock itself, that is a FIFO is not read (subprocess with a
    generous hang guard)."""
    root = tmp_path / "project"
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    lock = _reference_example() + SETUP_GO
    (workflows / "actions.lock").write_text(lock)
    os.mkfifo(workflows / "ci.yml")
    (root / "lock-fifo" / ".github" / "workflows").mkdir(parents=True)
    os.mkfifo(root / "lock-fifo" / ".github" / "workflows" / "actions.lock")
    for arguments in (["check", "--no-config", "."], ["lock", "--offline", "lock-fifo"]):
        done = subprocess.run(
            [sys.executable, "-m", "bastion", *arguments],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "BASTION_CACHE_DIR": str(tmp_path / "cache")},
        )
        assert "Traceback" not in done.stderr
        assert done.returncode in (1, 2), done.stderr
