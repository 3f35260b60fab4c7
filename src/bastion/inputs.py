"""Which files a run reads: the workflows and actions under the paths a user names, and the
dependency-updater (Dependabot, Renovate) and pre-commit configurations of each directory
walked as a repository.

A path inside a ``.github`` directory (``.github``, ``.github/workflows``) stands for what
GitHub runs from there: the repository holding that ``.github`` is collected, limited to the
files under the path. Each input carries the repository its reads may not leave.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import BinaryIO, NamedTuple

from bastion.errors import UsageError
from bastion.source.files import (
    FileAccessError,
    Resolved,
    TooLarge,
    is_directory,
    is_inside,
    read_file,
    read_stream,
    repository_root,
    resolve,
)
from bastion.source.gitignore import Gitignore, ignored

SKIPPED_DIRECTORIES = frozenset({".git", "node_modules", "vendor", "third_party"})
ACTION_NAMES = frozenset({"action.yml", "action.yaml"})
YAML_SUFFIXES = (".yml", ".yaml")
DEPENDABOT_PATHS = (".github/dependabot.yml", ".github/dependabot.yaml")
RENOVATE_PATHS = (
    "renovate.json",
    "renovate.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
)
"""Where Renovate looks for its configuration, in its own order of preference."""
PRE_COMMIT_PATHS = (".pre-commit-config.yaml", ".pre-commit-config.yml")
PACKAGE_JSON = "package.json"
"""Renovate also reads the ``renovate`` key of the root package.json."""
MAX_PACKAGE_JSON_BYTES = 1024 * 1024
LOCKFILE_NAME = "actions.lock"
"""GitHub's Actions lockfile, beside the workflows it locks."""
MAX_INPUT_BYTES = 10 * 1024 * 1024
"""No workflow, action or configuration is larger; standard input is read up to this."""


class Kind(Enum):
    WORKFLOW = "workflow"
    ACTION = "action"
    DEPENDABOT = "dependabot"
    RENOVATE = "renovate"
    """A Renovate file, or a package.json (whose ``renovate`` key holds the configuration)."""
    PRE_COMMIT = "pre-commit"
    LOCKFILE = "lockfile"
    """GitHub's Actions lockfile, ``.github/workflows/actions.lock``."""


class Input(NamedTuple):
    """One file to check. ``kind`` is None when only its content can tell."""

    display: str
    kind: Kind | None
    path: Path | None = None
    data: bytes | None = None
    """The content, for standard input; files are read when checked."""
    root: str | None = None
    """The directory argument this file was found under (as the user wrote it), for the
    repository-level checks; None for files named on the command line and standard input."""
    boundary: Path | None = None
    """The repository (resolved) no read of this file may leave; None: the one
    ``repository_root`` finds for its path."""
    problem: str | None = None
    """Why the input could not be read (standard input too large), reported as a finding."""
    resolved: Resolved | None = None
    """Where ``path`` led when it was collected, for the read to open that very file."""


def collect(
    arguments: list[str],
    stdin: bytes | BinaryIO | None = None,
    exclude: Callable[[Path], bool] | None = None,
) -> list[Input]:
    """Expand the command-line paths into inputs, in a stable order, without duplicates.

    ``stdin`` is read (at most ``MAX_INPUT_BYTES``) for the argument ``-``. ``exclude``
    skips files and directories found while walking a directory; a file named on the
    command line is always read.
    """
    inputs: list[Input] = []
    seen: set[str] = set()
    for argument in arguments:
        if argument == "-":
            inputs.append(_standard_input(stdin))
            continue
        path = Path(argument)
        boundary = repository_root(path)
        if is_directory(path):
            repository = _repository_of_github_path(path)
            if repository is None:
                found = _collect_directory(path, exclude or _nothing, boundary)
            else:
                found = _collect_under(repository, path, exclude or _nothing, boundary)
        elif os.path.lexists(path):
            _refuse_special(argument, path)
            found = [Input(_display(path), _kind_of_file(path), path, boundary=boundary)]
        else:
            raise UsageError(f"{argument} does not exist")
        for item in found:
            assert item.path is not None
            resolved = resolve(item.path)
            key = resolved.real if resolved is not None else os.path.realpath(item.path)
            if not is_inside(key, boundary):
                key = os.path.abspath(item.path)  # refused when read: report each such link
            if key not in seen:
                seen.add(key)
                inputs.append(item._replace(resolved=resolved) if resolved is not None else item)
    return inputs


def _standard_input(stdin: bytes | BinaryIO | None) -> Input:
    if stdin is None or isinstance(stdin, bytes):
        return Input("<stdin>", None, data=stdin or b"")
    try:
        return Input("<stdin>", None, data=read_stream(stdin, MAX_INPUT_BYTES))
    except TooLarge as error:
        return Input("<stdin>", None, data=b"", problem=error.reason)
    except OSError as error:
        reason = f"standard input cannot be read: {error.strerror or error}"
        return Input("<stdin>", None, data=b"", problem=reason)


def _refuse_special(argument: str, path: Path) -> None:
    """A FIFO, device or socket named on the command line is a usage error: reading it could
    block forever or never end."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # a dangling symlink or a loop: the read reports it
    if not stat.S_ISREG(mode):
        raise UsageError(
            f"{argument} is not a regular file; bastion reads regular files, directories and "
            "standard input ('-')"
        )


def _present(path: Path) -> bool:
    """Whether something that is not a directory is at ``path`` (a file, or a symlink, FIFO
    or the like that reading will report)."""
    return os.path.lexists(path) and not is_directory(path)


def _repository_of_github_path(path: Path) -> Path | None:
    """The directory holding the ``.github`` that ``path`` is (or lies in), if any."""
    parts = Path(os.path.normpath(path)).parts
    if ".github" not in parts:
        return None
    last = len(parts) - 1 - parts[::-1].index(".github")
    return Path(*parts[:last]) if last else Path()


def _collect_under(
    repository: Path, path: Path, exclude: Callable[[Path], bool], boundary: Path
) -> list[Input]:
    """What collecting ``repository`` finds under ``path``, as files named on their own (so
    that repository-level checks do not judge a repository from a part of it)."""
    under = Path(os.path.normpath(path))
    found = []
    for item in _collect_directory(repository, exclude, boundary):
        assert item.path is not None
        if Path(os.path.normpath(item.path)).is_relative_to(under):
            found.append(Input(item.display, item.kind, item.path, boundary=boundary))
    return found


def _nothing(path: Path) -> bool:
    return False


def _display(path: Path) -> str:
    return path.as_posix().removeprefix("./") if not path.is_absolute() else str(path)


def lockfile_beside(workflow: Path) -> Path | None:
    """The lockfile that governs a workflow file of ``.github/workflows/``."""
    if workflow.parent.name == "workflows" and workflow.parent.parent.name == ".github":
        return workflow.parent / LOCKFILE_NAME
    return None


def _kind_of_file(path: Path) -> Kind | None:
    if path.parent.name == "workflows" and path.parent.parent.name == ".github":
        return Kind.LOCKFILE if path.name == LOCKFILE_NAME else Kind.WORKFLOW
    if path.name in ACTION_NAMES:
        return Kind.ACTION
    if path.name in ("dependabot.yml", "dependabot.yaml"):
        return Kind.DEPENDABOT
    if path.name in _RENOVATE_NAMES or path.name == PACKAGE_JSON:
        return Kind.RENOVATE
    if path.name in PRE_COMMIT_PATHS:
        return Kind.PRE_COMMIT
    return None


_RENOVATE_NAMES = frozenset(name.rsplit("/", 1)[-1] for name in RENOVATE_PATHS)


def _collect_directory(root: Path, exclude: Callable[[Path], bool], boundary: Path) -> list[Input]:
    inputs: list[Input] = []
    where = _display(root)

    def found(path: Path, kind: Kind) -> Input:
        return Input(_display(path), kind, path, root=where, boundary=boundary)

    top = _Listing(root)
    github = top.subdirectory(".github")
    workflows = github.subdirectory("workflows") if github is not None else None
    if workflows is not None:
        # GitHub runs only the files directly inside .github/workflows. Symlinks, FIFOs and
        # the like are collected too, for the read to report them.
        for name in sorted(workflows.names()):
            # a name with a YAML suffix (what Path.suffix says: ".yml" alone has none)
            if not name.endswith(YAML_SUFFIXES) or name in YAML_SUFFIXES:
                continue
            path = workflows.directory / name
            if workflows.has_file(name) and not exclude(path):
                inputs.append(found(path, Kind.WORKFLOW))
        lockfile = workflows.directory / LOCKFILE_NAME
        if workflows.has_file(LOCKFILE_NAME) and not exclude(lockfile):
            inputs.append(found(lockfile, Kind.LOCKFILE))
    listings = {"": top, ".github": github}
    for paths, kind in (
        (DEPENDABOT_PATHS, Kind.DEPENDABOT),
        (RENOVATE_PATHS, Kind.RENOVATE),
        (PRE_COMMIT_PATHS, Kind.PRE_COMMIT),
    ):
        for relative in paths:
            folder, _, name = relative.rpartition("/")
            if folder not in listings:
                listings[folder] = top.subdirectory(folder)
            listing = listings[folder]
            if listing is not None and listing.has_file(name):
                path = root / relative
                if not exclude(path):
                    inputs.append(found(path, kind))
    package = root / PACKAGE_JSON
    if top.has_file(PACKAGE_JSON) and not exclude(package) and _has_renovate_key(package, boundary):
        inputs.append(found(package, Kind.RENOVATE))
    for directory, names in _walk(root, exclude, boundary):
        for name in sorted(names):
            if name not in ACTION_NAMES:
                continue
            path = directory / name
            if _kind_of_file(path) is Kind.ACTION and _present(path):
                inputs.append(found(path, Kind.ACTION))
    return inputs


class _Listing:
    """What one directory holds, listed once, answering what ``_present`` and
    ``is_directory`` answer for a name in it.

    A name missing from the listing is looked up on its own when a case variant of it is
    listed (a case-insensitive file system finds ``Renovate.json`` for ``renovate.json``)
    or when the directory cannot be listed (it may still be searchable).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            with os.scandir(directory) as entries:
                self._entries: dict[str, os.DirEntry[str]] | None = {
                    entry.name: entry for entry in entries
                }
        except OSError:
            self._entries = None
        self._folded: frozenset[str] | None = None

    def names(self) -> list[str]:
        return list(self._entries) if self._entries is not None else []

    def has_file(self, name: str) -> bool:
        """Whether something that is not a directory is at ``name`` (see ``_present``)."""
        entry = self._entry(name)
        if entry is None:
            return self._look_up(name) and _present(self.directory / name)
        return not _entry_is_directory(entry)

    def subdirectory(self, name: str) -> _Listing | None:
        """The listing of the directory (or symlink to one) at ``name``, if there is one."""
        path = self.directory / name
        entry = self._entry(name)
        if entry is None:
            return _Listing(path) if self._look_up(name) and is_directory(path) else None
        return _Listing(path) if _entry_is_directory(entry) else None

    def _entry(self, name: str) -> os.DirEntry[str] | None:
        return self._entries.get(name) if self._entries is not None else None

    def _look_up(self, name: str) -> bool:
        """Whether a name absent from the listing must be looked up on its own."""
        if self._entries is None:
            return True
        if self._folded is None:
            self._folded = frozenset(listed.casefold() for listed in self._entries)
        return name.casefold() in self._folded


def _entry_is_directory(entry: os.DirEntry[str]) -> bool:
    """``is_directory`` for a listed entry: symlinks followed, False on any error."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError:
        return []


def _has_renovate_key(path: Path, boundary: Path) -> bool:
    """Whether a package.json holds a Renovate configuration (a top-level ``renovate`` key).

    A package.json that cannot be read or parsed is not ours to report: npm reports it.
    """
    from bastion.source.json5 import Json5Error, JsonObject
    from bastion.source.json5 import parse as parse_json5

    try:
        data = read_file(path, boundary, MAX_PACKAGE_JSON_BYTES)
        if b"renovate" not in data:
            return False
        root = parse_json5(data.decode("utf-8").removeprefix("\ufeff"))
    except (FileAccessError, UnicodeDecodeError, Json5Error):
        return False
    return isinstance(root, JsonObject) and root.member("renovate") is not None


def _walk(
    root: Path, exclude: Callable[[Path], bool], boundary: Path
) -> list[tuple[Path, list[str]]]:
    """Directories under ``root`` with the names of what is in them that is not a directory,
    honouring .gitignore files. Symlinked directories are not entered."""
    found: list[tuple[Path, list[str]]] = []
    stack: list[tuple[Path, tuple[Gitignore, ...]]] = [(root, ())]
    while stack:
        directory, ignores = stack.pop()
        entries = _entries(directory)
        for entry in entries:
            if entry.name == ".gitignore" and _is_regular(entry):
                ignores = (*ignores, Gitignore.read(directory / entry.name, boundary))
        files: list[str] = []
        subdirectories: list[Path] = []
        for entry in entries:
            path = directory / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if ignored(ignores, path, is_dir=is_dir) or exclude(path):
                continue
            if is_dir:
                if entry.name not in SKIPPED_DIRECTORIES:
                    subdirectories.append(path)
            else:
                files.append(entry.name)
        found.append((directory, files))
        stack.extend((sub, ignores) for sub in sorted(subdirectories, reverse=True))
    return found


def _is_regular(entry: os.DirEntry[str]) -> bool:
    """A regular file, not a symlink (git does not follow a symlinked .gitignore) and not a
    FIFO (which would block)."""
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False
