"""`bastion fix --pin`: unpinned-action findings pinned by the fix engine, on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.cli import main
from tests.pinning.conftest import World
from tests.pinning.test_pin_cli import write_workflow

WORKFLOW = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: "acme/tool@v1.0.0"   # keep this note
      - uses: acme/other@v3.0.0
      - uses: acme/tool@main
"""


def test_fix_pin_pins_through_the_fix_engine(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workflow(tmp_path, WORKFLOW)
    arguments = ["fix", "--pin", "--no-config", "--select", "unpinned-action", str(tmp_path)]
    assert main(arguments) == 1  # the branch ref remains
    c = fresh.commits
    assert path.read_text() == WORKFLOW.replace(
        '"acme/tool@v1.0.0"   # keep this note', f'"acme/tool@{c.c1}" # v1.0.0   # keep this note'
    ).replace("acme/other@v3.0.0", f"acme/other@{c.other} # v3.0.0")
    out = capsys.readouterr().out
    assert "fixed 2 findings (unpinned-action ×2)" in out  # noqa: RUF001
    assert "remains: 9:15 unpinned-action: `main` is a branch" in out
    # A second run changes nothing and, from the cache, asks nothing.
    before = len(fresh.state.log)
    assert main(arguments) == 1
    assert len(fresh.state.log) == before


def test_without_pin_fix_says_how_and_asks_nothing(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workflow(tmp_path, WORKFLOW)
    assert main(["fix", "--no-config", "--select", "unpinned-action", str(tmp_path)]) == 1
    assert path.read_text() == WORKFLOW
    assert "run `bastion fix --pin`, or `bastion pin`" in capsys.readouterr().out
    assert fresh.state.log == []
