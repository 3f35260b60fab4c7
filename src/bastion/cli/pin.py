"""`bastion pin` and `bastion update`: pin every action to a commit, and move pins forward."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Commands,
    add_github_arguments,
)
from bastion.errors import UsageError
from bastion.inputs import MAX_INPUT_BYTES, Kind, collect
from bastion.pinning.plan import UpdatePlan, plan_pin, plan_update
from bastion.pinning.resolver import Resolver, default_resolver
from bastion.pinning.rewrite import Edit, Parsed, Site, YamlError, apply_edits, read_sites
from bastion.source.files import (
    LEFTOVER_NOTE,
    FileAccessError,
    OutsideRepository,
    read_file,
    repository_root,
    write_atomic,
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(commands: Commands) -> None:
    pin = commands.add_parser(
        "pin",
        help="pin every action and reusable workflow to a full commit SHA",
        description=(
            "Rewrite each `uses: owner/repo@ref` under PATH to `@<commit SHA> # <version>`, "
            "changing nothing else in the file."
        ),
    )
    _common(pin)
    pin.add_argument(
        "--branches",
        action="store_true",
        help="also pin refs that are branches (@main) to their current commit",
    )
    pin.set_defaults(run=_pin)
    update = commands.add_parser(
        "update",
        help="move SHA pins to the newest release that is old enough",
        description=(
            "Move each SHA pin under PATH to the newest release of the same major version "
            "that is at least the cooldown old, and print what moved."
        ),
    )
    _common(update)
    update.add_argument(
        "--cooldown",
        type=_duration,
        default=7 * 86400.0,
        metavar="AGE",
        help="minimum age of a release, e.g. 7d, 36h, 0 (default: 7d)",
    )
    update.add_argument("--major", action="store_true", help="also move to a new major version")
    update.set_defaults(run=_update)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="directories or files (default: .)"
    )
    parser.add_argument("--diff", action="store_true", help="show the changes, write nothing")
    parser.add_argument(
        "--offline", action="store_true", help="answer from the cache only, send no request"
    )
    parser.add_argument(
        "--refresh", action="store_true", help="list every repository again, ignoring the cache"
    )
    add_github_arguments(parser)


def _duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 7d, 36h or 0")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(slots=True)
class _File:
    display: str
    path: Path
    root: Path
    """The repository the file lies in: it is written only inside it."""
    data: bytes
    """The bytes read, which the file must still hold when it is written."""
    parsed: Parsed
    bom: bool


def _load(arguments: argparse.Namespace) -> tuple[list[_File], int]:
    """The files to rewrite, and how many were skipped (each said why on stderr)."""
    paths = arguments.paths or ["."]
    if "-" in paths:
        raise UsageError("pin and update rewrite files; standard input ('-') is not supported")
    files: list[_File] = []
    skipped = refused = 0
    for item in collect(paths):
        if item.path is None or item.kind not in (None, Kind.WORKFLOW, Kind.ACTION):
            continue
        root = item.boundary or repository_root(item.path)
        try:
            data = read_file(item.path, root, MAX_INPUT_BYTES)
            text = data.decode("utf-8")
        except OutsideRepository as error:  # refused, said, and no failure of the run
            print(f"bastion: note: {item.display}: skipped: {error.reason}", file=sys.stderr)
            refused += 1
            continue
        except FileAccessError as error:
            skipped += _skip(item.display, error.reason)
            continue
        except UnicodeDecodeError:
            skipped += _skip(item.display, "the file is not UTF-8")
            continue
        bom = text.startswith("\ufeff")
        try:
            parsed = read_sites(text.removeprefix("\ufeff"), item.kind)
        except YamlError as error:
            skipped += _skip(f"{item.display}:{error.point.line}", error.message)
            continue
        files.append(_File(item.display, item.path, root, data, parsed, bom))
    if not files and not skipped and not refused:
        print(f"bastion: no workflows or actions found under {', '.join(paths)}", file=sys.stderr)
    return files, skipped


def _skip(where: str, reason: str) -> int:
    print(f"bastion: {where}: skipped: {reason}", file=sys.stderr)
    return 1


def _resolver(arguments: argparse.Namespace) -> Resolver:
    return default_resolver(
        arguments.github_url, offline=arguments.offline, refresh=arguments.refresh
    )


def _apply(file: _File, edits: list[Edit], show_diff: bool) -> str | None:
    """Write (or, with ``show_diff``, print) the file with ``edits``; return an error."""
    if not edits:
        return None
    before = file.parsed.text
    after = apply_edits(before, edits)
    if show_diff:
        sys.stdout.writelines(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{file.display}",
                f"b/{file.display}",
            )
        )
        return None
    data = (("\ufeff" if file.bom else "") + after).encode("utf-8")
    try:
        for leftover in write_atomic(file.path, data, root=file.root, expected=file.data):
            print(f"bastion: note: removed {leftover}, {LEFTOVER_NOTE}", file=sys.stderr)
    except FileAccessError as error:
        return str(error)
    return None


def _pin(arguments: argparse.Namespace) -> int:
    files, skipped = _load(arguments)
    errors: list[str] = []
    resolver = _resolver(arguments)
    resolver.prefetch(site.owner_repo for f in files for site in f.parsed.sites)
    pinned = unpinned = changed_files = 0
    for file in files:
        plans = [
            plan_pin(site, resolver, allow_branches=arguments.branches)
            for site in file.parsed.sites
        ]
        edits = [edit for plan in plans for edit in plan.edits]
        for plan in plans:
            if plan.problem:
                unpinned += 1
                _report(file, plan.site, plan.problem)
            if plan.note:
                _report(file, plan.site, plan.note)
        error = _apply(file, edits, arguments.diff)
        if error:
            errors.append(error)
        elif edits:
            changed_files += 1
            pinned += sum(1 for plan in plans if plan.edits and not plan.problem)
    verb = "would pin" if arguments.diff else "pinned"
    print(
        f"bastion: {verb} {pinned} uses in {changed_files} file{'s' if changed_files != 1 else ''}"
        + (f"; {unpinned} left as they were (see above)" if unpinned else "")
        + _skipped(skipped),
        file=sys.stderr,
    )
    return _exit(errors, unpinned + skipped)


def _skipped(count: int) -> str:
    return f"; {count} file{'s' if count != 1 else ''} skipped (see above)" if count else ""


def _update(arguments: argparse.Namespace) -> int:
    files, skipped = _load(arguments)
    errors: list[str] = []
    resolver = _resolver(arguments)
    resolver.prefetch(site.owner_repo for f in files for site in f.parsed.sites)
    now = time.time()
    moved: list[tuple[_File, UpdatePlan]] = []
    problems = 0
    for file in files:
        plans = [
            plan_update(
                site, resolver, cooldown=arguments.cooldown, now=now, allow_major=arguments.major
            )
            for site in file.parsed.sites
        ]
        for plan in plans:
            if plan.problem:
                problems += 1
                _report(file, plan.site, plan.problem)
            elif plan.edits:
                moved.append((file, plan))
        error = _apply(file, [e for plan in plans for e in plan.edits], arguments.diff)
        if error:
            errors.append(error)
            moved = [(f, plan) for f, plan in moved if f is not file]
    _table(moved)
    verb = "would move" if arguments.diff else "moved"
    count = len(moved)
    print(
        f"bastion: {verb} {count} pin{'s' if count != 1 else ''}" + _skipped(skipped),
        file=sys.stderr,
    )
    return _exit(errors, problems + skipped)


def _table(moved: Sequence[tuple[_File, UpdatePlan]]) -> None:
    if not moved:
        return
    rows = [("file", "line", "action", "from", "to")]
    rows.extend(
        (f.display, str(p.site.line), p.site.uses.slug, p.current or "?", p.target or "?")
        for f, p in moved
    )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [
            cell.rjust(width) if index == 1 else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        sys.stdout.write("  ".join(cells).rstrip() + "\n")


def _report(file: _File, site: Site, problem: str) -> None:
    print(f"{file.display}:{site.line}: {site.uses.text}: {problem}", file=sys.stderr)


def _exit(errors: list[str], problems: int) -> int:
    for error in errors:
        print(f"bastion: {error}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if problems else EXIT_CLEAN
