"""Running `bastion fix` in-process, and diff snapshots.

Set ``BASTION_UPDATE_SNAPSHOTS=1`` to rewrite ``snapshots/*.diff`` from the current output;
otherwise each snapshot is compared with the output exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastion.cli import main
from bastion.config import Config
from bastion.fix.engine import FileFix, FixEngine
from bastion.inputs import Kind

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int
    out: str
    err: str


def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    directory: Path,
    *arguments: str,
) -> Outcome:
    """Run ``bastion ARGUMENTS`` from ``directory``, so reported paths are relative."""
    monkeypatch.chdir(directory)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    code = main(list(arguments))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("BASTION_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    if not path.exists():
        pytest.fail(
            f"snapshots/{name} is missing: run with BASTION_UPDATE_SNAPSHOTS=1 to create it"
        )
    assert text == path.read_bytes().decode("utf-8"), f"output differs from snapshots/{name}"


def fix(
    text: str,
    *,
    kind: Kind | None = Kind.WORKFLOW,
    select: str | None = None,
    unsafe: bool = True,
) -> FileFix:
    """Fix ``text`` in memory with every rule (or the comma-separated ``select``)."""
    config = Config(select=frozenset(select.split(",")) if select else None)
    return FixEngine(config, unsafe=unsafe).fix_text(text, "test.yml", kind)
