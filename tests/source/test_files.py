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
    resolve,
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


@pytest.mark.parametrize("name", _NAMES)
def test_reading_gives_the_same_outcome_with_the_path_resolved_beforehand(
    tree: Path, name: str
) -> None:
    root = tree.resolve()
    path = tree / name
    earlier: object
    try:
        earlier = read_file(path, root, 1000, resolve(path))
    except files.FileAccessError as error:
        earlier = (type(error).__name__, str(error))
    assert earlier == _outcome(path, root)


def test_a_file_resolved_beforehand_must_still_be_the_file_read(tree: Path) -> None:
    root = tree.resolve()
    path = tree / "sub" / "file.yml"
    resolved = resolve(path)
    assert resolved is not None
    replacement = tree / "sub" / "other.yml"
    replacement.write_text("on: pull_request_target\n")
    os.replace(replacement, path)
    with pytest.raises(files.ReadFailed, match="replaced while it was being read"):
        read_file(path, root, 1000, resolved)
    resolved = resolve(path)
    path.unlink()
    path.symlink_to(tree.parent / "outside" / "secret")
    with pytest.raises(NotRegularFile, match="changed into a symlink"):
        read_file(path, root, 1000, resolved)


def test_what_was_resolved_beforehand_is_judged_like_a_fresh_resolution(tree: Path) -> None:
    root = tree.resolve()
    outside = resolve(tree / "escape" / "secret")
    with pytest.raises(OutsideRepository):
        read_file(tree / "escape" / "secret", root, 1000, outside)
    fifo = tree / "pipe.yml"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match="FIFO"):
        read_file(fifo, root, 1000, resolve(fifo))  # refused unopened: never blocks
    with pytest.raises(files.TooLarge):
        read_file(tree / "sub" / "file.yml", root, 4, resolve(tree / "sub" / "file.yml"))


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
