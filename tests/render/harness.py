"""Snapshots of whole reports, and a way to run the CLI in-process the way a user does.

Set ``BASTION_UPDATE_SNAPSHOTS=1`` to rewrite the files under ``snapshots/`` from the current
output; otherwise each snapshot is compared with the output exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastion.cli import main

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int
    out: str
    err: str


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
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"output differs from snapshots/{name}"


def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *arguments: str,
    color: bool = False,
) -> Outcome:
    """Run ``bastion ARGUMENTS`` from tests/render, so reported paths are relative."""
    monkeypatch.chdir(HERE)
    if color:
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("FORCE_COLOR", "1")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    code = main(list(arguments))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
