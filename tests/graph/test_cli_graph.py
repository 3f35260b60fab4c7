"""`bastion graph` end to end against the loopback git server."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bastion.cli import main
from bastion.cli.graph import _Progress
from bastion.graph.resolve import Progress
from tests.graph.conftest import World
from tests.graph.test_resolve import checkout, steps


@pytest.fixture
def online(fresh: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("BASTION_GITHUB_URL", fresh.url)
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `gh` to ask for a token
    return fresh


def test_tree_with_audit_marks_and_exit_1(
    online: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout(tmp_path, steps("montudor/action-zip@v1.0.0"))
    assert main(["graph", str(root)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[:3] == [
        ".github/workflows/ci.yml",
        "└── job build",
        "    └── montudor/action-zip@v1.0.0 · docker · mutable (tag v1.0.0 -> "
        + lines[2].rsplit("-> ", 1)[1],
    ]
    assert lines[3].startswith("        gap [nested-unverified-download]: Dockerfile:12: ")  # apk
    assert lines[4].startswith("        gap [mutable-docker-image]: Dockerfile:1: ")
    assert lines[-1] == "1 called, 1 uses: 1 mutable, 2 gaps"
    assert err == ""  # no progress line: stderr is not a terminal


def test_a_clean_graph_exits_0_and_a_warm_offline_run_sends_nothing(
    online: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout(tmp_path, steps("actions/checkout@v4"))
    assert main(["graph", str(root), "--no-audit", "--format", "json"]) == 0
    cold = json.loads(capsys.readouterr().out)
    assert cold["summary"]["mutable"] == 1
    online.reset()
    assert main(["graph", str(root), "--no-audit", "--format", "json", "--offline"]) == 0
    assert json.loads(capsys.readouterr().out) == cold
    assert online.state.git_requests() == []


@pytest.mark.parametrize(
    ("form", "start"), [("dot", "digraph actions {"), ("mermaid", "flowchart LR")]
)
def test_dot_and_mermaid_to_a_file(
    online: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, start: str
) -> None:
    root = checkout(tmp_path, steps("nobody/nothing@v1"))
    target = tmp_path / f"graph.{form}"
    assert main(["graph", str(root), "--format", form, "--output", str(target)]) == 1
    assert target.read_text().startswith(start + "\n")
    assert capsys.readouterr().out == ""


def test_no_workflows_and_a_missing_path(
    online: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["graph", str(tmp_path / "empty")]) == 0
    assert "no workflows or actions found" in capsys.readouterr().err
    assert main(["graph", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_on_a_terminal_and_erased() -> None:
    stream = _Terminal()
    progress = _Progress(stream)
    progress(Progress(1, 1, 2, "actions/checkout"))
    progress(Progress(1, 2, 2, "actions/cache"))
    progress.clear()
    assert stream.getvalue() == (
        "\r\x1b[2Klevel 1: 1/2 repositories (actions/checkout)"
        "\r\x1b[2Klevel 1: 2/2 repositories (actions/cache)"
        "\r\x1b[2K"
    )
    quiet = io.StringIO()
    _Progress(quiet)(Progress(1, 1, 1, "x/y"))
    assert quiet.getvalue() == ""
