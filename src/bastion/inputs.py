"""Which files a run reads: the workflows and actions under the paths a user names, and the
dependency-updater (Dependabot, Renovate) and pre-commit configurations of each directory
walked as a repository."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bastion.errors import UsageError
from bastion.source.json5 import Json5Error, JsonObject
from bastion.source.json5 import parse as parse_json5

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
LOCKFILE_NAME = "actions.lock"
"""GitHub's Actions lockfile, beside the workflows."""
PACKAGE_JSON = "package.json"
"""Renovate also reads the ``renovate`` key of the root package.json."""
MAX_PACKAGE_JSON_BYTES = 1024 * 1024


class Kind(Enum):
    WORKFLOW = "workflow"
    ACTION = "action"
    DEPENDABOT = "dependabot"
    RENOVATE = "renovate"
    """A Renovate file, or a package.json (whose ``renovate`` key holds the configuration)."""
    PRE_COMMIT = "pre-commit"
    LOCKFILE = "lockfile"
    """GitHub's Actions lockfile, ``.github/workflows/actions.lock``."""


@dataclass(frozen=True, slots=True)
class Input:
    """One file to check. ``kind`` is None when only its content can tell."""

    display: str
    kind: Kind | None
    path: Path | None = None
    data: bytes | None = None
    """The content, for standard input; files are read when checked."""
    root: str | None = None
    """The directory argument this file was found under (as the user wrote it), for the
    repository-level checks; None for files named on the command line and standard input."""


def collect(
    arguments: list[str],
    stdin: bytes | None = None,
    exclude: Callable[[Path], bool] | None = None,
) -> list[Input]:
    """Expand the command-line paths into inputs, in a stable order, without duplicates.

    ``exclude`` skips files and directories found while walking a directory; a file named
    on the command line is always read.
    """
    inputs: list[Input] = []
    seen: set[Path] = set()
    for argument in arguments:
        if argument == "-":
            inputs.append(Input("<stdin>", None, data=stdin or b""))
            continue
        path = Path(argument)
        if path.is_dir():
            found = _collect_directory(path, exclude or _nothing)
        elif path.is_file():
            found = [Input(_display(path), _kind_of_file(path), path)]
        elif path.exists():
            raise UsageError(f"{argument} is neither a file nor a directory")
        else:
            raise UsageError(f"{argument} does not exist")
        for item in found:
            assert item.path is not None
            key = item.path.resolve()
            if key not in seen:
                seen.add(key)
                inputs.append(item)
    return inputs


def _nothing(path: Path) -> bool:
    return False


def _display(path: Path) -> str:
    return path.as_posix().removeprefix("./") if not path.is_absolute() else str(path)


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


def _collect_directory(root: Path, exclude: Callable[[Path], bool]) -> list[Input]:
    inputs: list[Input] = []
    where = _display(root)
    workflows = root / ".github" / "workflows"
    if workflows.is_dir():
        # GitHub runs only the files directly inside .github/workflows.
        for entry in sorted(workflows.iterdir()):
            if entry.suffix in YAML_SUFFIXES and entry.is_file() and not exclude(entry):
                inputs.append(Input(_display(entry), Kind.WORKFLOW, entry, root=where))
        lockfile = workflows / LOCKFILE_NAME
        if lockfile.is_file() and not exclude(lockfile):
            inputs.append(Input(_display(lockfile), Kind.LOCKFILE, lockfile, root=where))
    for paths, kind in (
        (DEPENDABOT_PATHS, Kind.DEPENDABOT),
        (RENOVATE_PATHS, Kind.RENOVATE),
        (PRE_COMMIT_PATHS, Kind.PRE_COMMIT),
    ):
        for relative in paths:
            path = root / relative
            if path.is_file() and not exclude(path):
                inputs.append(Input(_display(path), kind, path, root=where))
    package = root / PACKAGE_JSON
    if package.is_file() and not exclude(package) and _has_renovate_key(package):
        inputs.append(Input(_display(package), Kind.RENOVATE, package, root=where))
    for directory, names in _walk(root, exclude):
        for name in sorted(names):
            path = directory / name
            if name in ACTION_NAMES and _kind_of_file(path) is Kind.ACTION:
                inputs.append(Input(_display(path), Kind.ACTION, path, root=where))
    return inputs


def _has_renovate_key(path: Path) -> bool:
    """Whether a package.json holds a Renovate configuration (a top-level ``renovate`` key).

    A package.json that cannot be read or parsed is not ours to report: npm reports it.
    """
    try:
        if path.stat().st_size > MAX_PACKAGE_JSON_BYTES:
            return False
        data = path.read_bytes()
        if b"renovate" not in data:
            return False
        root = parse_json5(data.decode("utf-8").removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError, Json5Error):
        return False
    return isinstance(root, JsonObject) and root.member("renovate") is not None


def _walk(root: Path, exclude: Callable[[Path], bool]) -> list[tuple[Path, list[str]]]:
    """Directories under ``root`` with their file names, honouring .gitignore files."""
    found: list[tuple[Path, list[str]]] = []
    stack: list[tuple[Path, tuple[Gitignore, ...]]] = [(root, ())]
    while stack:
        directory, ignores = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        names = {entry.name for entry in entries}
        if ".gitignore" in names:
            ignores = (*ignores, Gitignore.read(directory / ".gitignore"))
        files: list[str] = []
        subdirectories: list[Path] = []
        for entry in entries:
            path = directory / entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if any(ignore.ignores(path, is_dir=is_dir) for ignore in ignores) or exclude(path):
                continue
            if is_dir:
                if entry.name not in SKIPPED_DIRECTORIES:
                    subdirectories.append(path)
            elif entry.is_file():
                files.append(entry.name)
        found.append((directory, files))
        stack.extend((sub, ignores) for sub in sorted(subdirectories, reverse=True))
    return found


class Gitignore:
    """The patterns of one .gitignore file, matched the way git matches them."""

    __slots__ = ("base", "patterns")

    def __init__(self, base: Path, lines: list[str]) -> None:
        self.base = base
        self.patterns: list[tuple[re.Pattern[str], bool, bool]] = []
        for line in lines:
            parsed = _parse_gitignore_line(line)
            if parsed is not None:
                self.patterns.append(parsed)

    @classmethod
    def read(cls, path: Path) -> Gitignore:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        return cls(path.parent, text.splitlines())

    def ignores(self, path: Path, *, is_dir: bool) -> bool:
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        ignored = False
        for regex, negated, directory_only in self.patterns:
            if directory_only and not is_dir:
                continue
            if regex.fullmatch(relative):
                ignored = not negated
        return ignored


def _parse_gitignore_line(line: str) -> tuple[re.Pattern[str], bool, bool] | None:
    line = line.rstrip("\n")
    if not line.strip() or line.startswith("#"):
        return None
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    negated = line.startswith("!")
    if negated or line.startswith("\\"):
        line = line[1:]
    directory_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _glob_to_regex(line)
    regex = body if anchored else f"(?:.*/)?{body}"
    return re.compile(regex), negated, directory_only


def _glob_to_regex(glob: str) -> str:
    parts: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if glob.startswith("/**", index) and index + 3 == len(glob):
            parts.append("/.*")
            index += 3
            continue
        if glob.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            end = glob.find("]", index + 1)
            if end < 0:
                parts.append(re.escape(char))
            else:
                inner = glob[index + 1 : end].replace("\\", "\\\\")
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                parts.append(f"[{inner}]")
                index = end
        elif char == "\\" and index + 1 < len(glob):
            index += 1
            parts.append(re.escape(glob[index]))
        else:
            parts.append(re.escape(char))
        index += 1
    return "".join(parts)
