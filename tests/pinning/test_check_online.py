"""`bastion check --online`: the three online rules on the loopback fork-network scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli import main
from tests.pinning.conftest import World

ONLINE = "impostor-commit,version-comment-mismatch,unknown-ref"


def workflow(world: World) -> str:
    c = world.commits
    return f"""\
on: push
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tool@{c.c3} # v1.2.0
      - uses: acme/tool@{c.r1} # v1.3.0
      - uses: acme/tool@{c.p1} # v1.2.1
      - uses: acme/tool@{c.c2} # v1.1.0
      - uses: acme/tool@{c.c1} # v1.0.1
      - uses: acme/tool@v9
      - uses: acme/tool@v1
      - uses: acme/tool@{"0123456789" * 4}
      - uses: acme/gone@v1
      - uses: acme/tool@{c.c4} # v1
      - uses: acme/tool@{c.p1} # bastion: ignore[impostor-commit]
"""


def run_check(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    main(["check", "--no-config", "--format", "json", *args])
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def findings(report: dict[str, object]) -> set[tuple[int, str]]:
    items = report["findings"]
    assert isinstance(items, list)
    return {(item["line"], item["rule"]) for item in items}


def test_online_rules_on_the_fork_network(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(workflow(fresh))
    report = run_check(["--online", "--select", ONLINE, str(tmp_path)], capsys)
    assert findings(report) == {
        (9, "impostor-commit"),  # only refs/pull/1/head and the tag v1.2.1 reach it
        (10, "version-comment-mismatch"),  # v1.1.0 was moved to another commit
        (11, "version-comment-mismatch"),  # no tag v1.0.1
        (12, "unknown-ref"),  # no tag or branch v9
        (14, "unknown-ref"),  # no such commit
        (15, "unknown-ref"),  # no such repository (or private)
        (16, "version-comment-mismatch"),  # v1 floats to another commit now
    }
    items = report["findings"]
    assert isinstance(items, list)
    messages = {(item["line"], item["rule"]): item["message"] for item in items}
    assert "only the tag v1.2.1 points at it" in messages[(9, "impostor-commit")]
    assert "does not exist, or is private" in messages[(15, "unknown-ref")]
    assert "pinned commit is tagged v1.0.0" in messages[(11, "version-comment-mismatch")]
    assert report["errors"] == []


def test_online_request_bound(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two repositories listed once each; then at most three requests per distinct pin."""
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(workflow(fresh))
    run_check(["--online", "--select", ONLINE, str(tmp_path)], capsys)
    listings = [e for e in fresh.state.git_requests() if b"command=ls-refs" in e.body]
    fetches = [e for e in fresh.state.git_requests() if b"command=fetch" in e.body]
    assert len(listings) == 2
    distinct_pins = 7  # c3, r1, p1, c2, c1, 0123..., c4
    assert len(fetches) <= 3 * distinct_pins
    # c3, c2, c1, c4: one fetch each; r1: two; p1 and the missing commit: three each.
    assert len(fetches) == 4 + 2 + 3 + 3
    # A second run asks again only about what was not proven: the missing repository, the
    # impostor and the missing commit.
    fresh.state.log.clear()
    run_check(["--online", "--select", ONLINE, str(tmp_path)], capsys)
    again = fresh.state.git_requests()
    assert [e.path for e in again if b"command=ls-refs" in e.body] == [
        "/acme/gone.git/git-upload-pack"
    ]
    assert len(again) == 1 + 3 + 3


def test_offline_check_reports_none_of_the_online_rules(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ci.yml"
    path.write_text(workflow(fresh))
    report = run_check(["--select", ONLINE, str(path)], capsys)
    assert findings(report) == set()
    assert fresh.state.log == []


def test_online_findings_respect_min_severity(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ci.yml"
    path.write_text(workflow(fresh))
    arguments = ["--online", "--select", ONLINE, "--min-severity", "high", str(path)]
    report = run_check(arguments, capsys)
    assert findings(report) == {(9, "impostor-commit")}


def test_unreachable_server_is_an_error_not_a_finding(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ci.yml"
    path.write_text(workflow(fresh))
    status = main(
        [
            "check",
            "--no-config",
            "--format",
            "json",
            "--online",
            "--github-url",
            "http://127.0.0.1:9",
            "--select",
            ONLINE,
            str(path),
        ]
    )
    captured = capsys.readouterr()
    assert status == 2
    assert json.loads(captured.out)["findings"] == []
    assert "cannot reach http://127.0.0.1:9 for acme/tool" in captured.err
