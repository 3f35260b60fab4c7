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
from collections.abc import Iterable, Sequence
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

    def new_findings(self, findings: Iterable[Finding]) -> tuple[list[Finding], int]:
        """The findings the baseline does not hold, and how many it did hold."""
        remaining = Counter(self.known)
        new: list[Finding] = []
        for finding in findings:
            key = fingerprint(finding, self.directory)
            if remaining[key] > 0:
                remaining[key] -= 1
            else:
                new.append(finding)
        return new, sum(self.known.values()) - sum(remaining.values())


def fingerprint(finding: Finding, directory: Path) -> str:
    route = _INDEX.sub("*", finding.route)
    key = escape_text(
        "\0".join((finding.rule, _relative(finding.path, directory), route, finding.message))
    )
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


def write(path: Path, findings: Sequence[Finding]) -> None:
    """Write the findings as a baseline: sorted, one entry per fingerprint, readable diffs."""
    directory = path.parent
    counts: Counter[str] = Counter()
    described: dict[str, dict[str, object]] = {}
    for finding in findings:
        key = fingerprint(finding, directory)
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
