"""Writing a fixed file: all or nothing, never over a file that changed meanwhile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.source.files import WriteError, outside, repository_root, write_atomic


def test_a_failed_rename_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ci.yml"
    target.write_bytes(b"old\n")

    def refuse(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(WriteError, match="No space left on device"):
        write_atomic(target, b"new\n", expected=b"old\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ci.yml"]


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "ci.yml"
    target.write_bytes(b"edited by someone else\n")
    with pytest.raises(WriteError, match="changed while bastion was working on it"):
        write_atomic(target, b"new\n", expected=b"old\n")
    assert target.read_bytes() == b"edited by someone else\n"


def test_repository_root_is_the_nearest_git_directory(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "action.yml").write_text("runs: {using: composite, steps: []}\n")
    assert repository_root(nested / "action.yml") == tmp_path.resolve()
    assert repository_root(nested) == tmp_path.resolve()
    assert outside(nested / "action.yml", tmp_path.resolve()) is None


def test_without_git_the_path_itself_is_the_root(tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    assert repository_root(lone) == lone.resolve()
    (lone / "x.yml").symlink_to(tmp_path / "y.yml")
    assert outside(lone / "x.yml", lone.resolve()) == (tmp_path / "y.yml").resolve()
