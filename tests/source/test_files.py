"""Reading a repository's files: the kernel's one-lookup resolution agrees with realpath."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.source import files
from bastion.source.files import (
    NotRegularFile,
    OutsideRepository,
    is_inside,
    read_file,
    real_path,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repository with a file, symlinks inside and out, a dangling link and a loop."""
    repository = tmp_path / "repository"
    outside = tmp_path / "outside"
    (repository / "sub").mkdir(parents=True)
    outside.mkdir()
    (repository / "sub" / "file.yml").write_text("on: push\n")
    (outside / "secret").write_text("token\n")
    (repository / "linked").symlink_to(repository / "sub")
    (repository / "escape").symlink_to(outside)
    (repository / "to-file").symlink_to(repository / "sub" / "file.yml")
    (repository / "to-secret").symlink_to(outside / "secret")
    (repository / "dangling").symlink_to(repository / "missing")
    (repository / "loop").symlink_to(repository / "loop")
    return repository


_NAMES = [
    "sub/file.yml",
    "linked/file.yml",
    "escape/secret",
    "to-file",
    "to-secret",
    "dangling",
    "loop",
    "missing/file",
    "sub",
    "linked",
    "sub/../sub/./file.yml",
]


@pytest.mark.parametrize("name", _NAMES)
def test_real_path_is_what_realpath_says(tree: Path, name: str) -> None:
    assert real_path(tree / name) == os.path.realpath(tree / name)


def test_real_path_of_a_relative_path(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    assert real_path("linked/file.yml") == str(tree.resolve() / "sub" / "file.yml")


def _outcome(path: Path, root: Path) -> object:
    try:
        return read_file(path, root, 1000)
    except files.FileAccessError as error:
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("name", _NAMES)
def test_reading_gives_the_same_outcome_without_the_kernel_lookup(
    tree: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree.resolve()
    fast = _outcome(tree / name, root)
    monkeypatch.setattr(files, "_OPEN_PATH_ONLY", 0)
    assert _outcome(tree / name, root) == fast


def test_a_file_reached_through_a_directory_symlinked_out_is_refused(tree: Path) -> None:
    with pytest.raises(OutsideRepository):
        read_file(tree / "escape" / "secret", tree.resolve(), 1000)


def test_files_inside_are_read_through_symlinks(tree: Path) -> None:
    root = tree.resolve()
    assert read_file(tree / "linked" / "file.yml", root, 1000) == b"on: push\n"
    assert read_file(tree / "to-file", root, 1000) == b"on: push\n"


def test_a_directory_is_not_read(tree: Path) -> None:
    with pytest.raises(NotRegularFile, match="a directory"):
        read_file(tree / "linked", tree.resolve(), 1000)


@pytest.mark.parametrize(
    ("real", "root", "inside"),
    [
        ("/a/b", "/a", True),
        ("/a", "/a", True),
        ("/ab", "/a", False),
        ("/a", "/a/b", False),
        ("/anything", "/", True),
        ("/", "/", True),
    ],
)
def test_is_inside_compares_whole_components(real: str, root: str, inside: bool) -> None:
    assert is_inside(real, Path(root)) is inside
    assert Path(real).is_relative_to(root) is inside
