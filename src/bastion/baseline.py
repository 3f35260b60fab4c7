"""Baselines: record today's findings so that a later run reports only new ones.

A finding is known by its rule, its file (relative to the baseline's directory), its route
with list indices left out, and its message; never by its line, so edits that only move code
(a new step above it, a comment block, a reindented file) keep it known. Identical findings
in one file are counted: a baseline holding two and a run finding three reports one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bastion import __version__
from bastion.errors import UsageError
from bastion.findings import Finding, escape_text
from bastion.source.files import FileAccessError, read_file, write_atomic

MAX_BASELINE_BYTES = 64 * 1024 * 1024

FORMAT_VERSION = 1
_INDEX = re.compile(r"(?<=/)\d+(?=/|$)")


@dataclass(frozen=True, slots=True)
class Baseline:
    known: Counter[str]
    """How many findings of each fingerprint the baseline holds."""
    directory: Path
    """Paths in the baseline are relative to this directory (the file's own)."""


class Known:
    """A baseline being matched against a run's findings, given in report order a group
    at a time: each fingerprint matches as many findings as the baseline counts."""

    __slots__ = ("_prints", "_remaining", "held")

    def __init__(self, baseline: Baseline) -> None:
        self._remaining = Counter(baseline.known)
        self._prints = Fingerprints(baseline.directory)
        self.held = 0
        """How many findings the baseline held so far."""

    def new(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings the baseline does not hold (the others are counted in ``held``)."""
        new: list[Finding] = []
        remaining = self._remaining
        for finding in findings:
            key = self._prints.of(finding)
            if remaining[key] > 0:
                remaining[key] -= 1
                self.held += 1
            else:
                new.append(finding)
        return new


class Fingerprints:
    """The fingerprints of findings as seen from a baseline's directory (each path is
    resolved once)."""

    __slots__ = ("_directory", "_relative")

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._relative: dict[str, str] = {}

    def of(self, finding: Finding) -> str:
        path = self._relative.get(finding.path)
        if path is None:
            path = self._relative[finding.path] = _relative(finding.path, self._directory)
        route = _INDEX.sub("*", finding.route)
        key = escape_text("\0".join((finding.rule, path, route, finding.message)))
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _relative(path: str, directory: Path) -> str:
    """The path as seen from ``directory``, so that runs from anywhere agree."""
    if path.startswith("<"):  # <stdin>
        return path
    try:
        real = os.path.realpath(path)  # never raises, even on a symlink loop
        return Path(os.path.relpath(real, os.path.realpath(directory))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()


def write(path: Path, findings: Iterable[Finding]) -> int:
    """Write the findings as a baseline: sorted, one entry per fingerprint, readable diffs;
    return how many findings it holds."""
    directory = path.parent
    prints = Fingerprints(directory)
    counts: Counter[str] = Counter()
    described: dict[str, dict[str, object]] = {}
    for finding in findings:
        key = prints.of(finding)
        counts[key] += 1
        described.setdefault(
            key,
            {
                "fingerprint": key,
                "rule": finding.rule,
                "path": escape_text(_relative(finding.path, directory)),
                "message": escape_text(finding.message),
            },
        )
    entries = [{**described[key], "count": counts[key]} for key in counts]
    entries.sort(key=lambda entry: (str(entry["path"]), str(entry["rule"]), str(entry["message"])))
    document = {"version": FORMAT_VERSION, "tool": f"bastion {__version__}", "findings": entries}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomic(path, text.encode("utf-8"))
    except FileAccessError as error:
        raise UsageError(f"cannot write the baseline {path}: {error.reason}") from None
    return counts.total()


def read(path: Path) -> Baseline:
    if not os.path.lexists(path):
        raise UsageError(f"baseline {path} does not exist (create it with --write-baseline {path})")
    try:
        text = read_file(path, None, MAX_BASELINE_BYTES).decode("utf-8")
    except FileAccessError as error:
        raise UsageError(f"cannot read the baseline {path}: {error.reason}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"cannot read the baseline {path}: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"baseline {path} is not valid JSON (line {error.lineno}, column {error.colno}): "
            f"{error.msg}"
        ) from None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise UsageError(
            f"baseline {path} is not a version {FORMAT_VERSION} bastion baseline; "
            "write it again with --write-baseline"
        )
    known: Counter[str] = Counter()
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise UsageError(f"baseline {path}: `findings` must be a list")
    for number, entry in enumerate(entries):
        key = entry.get("fingerprint") if isinstance(entry, dict) else None
        count = entry.get("count", 1) if isinstance(entry, dict) else None
        if not isinstance(key, str) or not isinstance(count, int) or count < 1:
            raise UsageError(
                f"baseline {path}: entry {number} needs a string `fingerprint` "
                "and a positive integer `count`"
            )
        known[key] += count
    return Baseline(known, path.parent)
