"""`bastion check`: audit workflows and actions offline and report the findings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from bastion.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Commands,
    add_config_arguments,
    add_github_arguments,
    load_config,
    write_report,
)
from bastion.engine import Check, FileFindings, Findings
from bastion.errors import UsageError
from bastion.findings import Finding, escape_text
from bastion.inputs import collect
from bastion.render import FORMATS


def register(commands: Commands) -> None:
    check = commands.add_parser(
        "check",
        help="audit workflows and actions offline",
        description=(
            "Audit the workflows (.github/workflows/*.yml) and actions (action.yml) under each "
            "PATH, or single files, or standard input ('-')."
        ),
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="directories or files (default: .)")
    check.add_argument("--format", choices=FORMATS, default="human", help="output format")
    add_config_arguments(check)
    check.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: one per CPU)"
    )
    check.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    check.add_argument(
        "--online", action="store_true", help="also verify each pin against its repository"
    )
    check.add_argument(
        "--graph",
        action="store_true",
        help="also audit what the workflows call, transitively (fetches the called files)",
    )
    add_github_arguments(check)
    known = check.add_mutually_exclusive_group()
    known.add_argument(
        "--baseline",
        metavar="FILE",
        help="report only findings that the baseline FILE does not hold",
    )
    known.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record the current findings in FILE (report nothing, exit 0)",
    )
    check.set_defaults(run=_check)


def _check(arguments: argparse.Namespace) -> int:
    settings = load_config(arguments)
    paths = arguments.paths or ["."]
    stdin = sys.stdin.buffer if "-" in paths else None
    inputs = collect(paths, stdin, settings.excludes)
    if arguments.jobs is not None and arguments.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    check = Check(inputs, settings, jobs=arguments.jobs, lines=arguments.format == "human")
    found: Findings = check
    if arguments.online or arguments.graph:
        # These add findings of their own among the files': the report is held whole.
        found = report = check.report()
        if arguments.online:
            from bastion.pinning.lock_verify import verify_lockfiles
            from bastion.pinning.verify import verify_online

            verify_online(report, inputs, settings, arguments.github_url)
            verify_lockfiles(report, inputs, settings, arguments.github_url)
        if arguments.graph:
            from bastion.graph.audit import audit_paths

            for note in audit_paths(report, paths, settings, arguments.github_url):
                print(f"bastion: {escape_text(note)}", file=sys.stderr)
    if arguments.write_baseline:
        return _write_baseline(Path(arguments.write_baseline), found)
    known = None
    if arguments.baseline:
        from bastion import baseline  # only runs with a baseline read one

        known = baseline.Known(baseline.read(Path(arguments.baseline)))
        found = _Kept(found, known.new)
    shown = _Counted(found)
    write_report(shown, arguments)
    if known is not None and known.held:
        print(
            f"bastion: {known.held} finding{'s' if known.held != 1 else ''} held by the baseline "
            f"{escape_text(arguments.baseline)} not shown",
            file=sys.stderr,
        )
    for message in shown.errors:
        print(f"bastion: {escape_text(message)}", file=sys.stderr)
    if not inputs:
        print(
            f"bastion: nothing to check under {escape_text(', '.join(paths))} (looked for "
            ".github/workflows/*.yml, action.yml, .github/dependabot.yml, Renovate "
            "configuration and .pre-commit-config.yaml)",
            file=sys.stderr,
        )
    if shown.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if shown.count else EXIT_CLEAN


class _Kept:
    """Findings less those a filter drops (a baseline's), group by group."""

    def __init__(self, found: Findings, keep: Callable[[list[Finding]], list[Finding]]) -> None:
        self._found = found
        self._keep = keep
        self.files = found.files
        self.errors = found.errors

    def groups(self) -> Iterator[FileFindings]:
        for group in self._found.groups():
            kept = self._keep(group.findings)
            if kept:
                yield FileFindings(group.path, kept, group.lines)


class _Counted:
    """Findings, counted as they are written (for the exit code)."""

    def __init__(self, found: Findings) -> None:
        self._found = found
        self.files = found.files
        self.errors = found.errors
        self.count = 0

    def groups(self) -> Iterator[FileFindings]:
        for group in self._found.groups():
            self.count += len(group.findings)
            yield group


def _write_baseline(path: Path, found: Findings) -> int:
    from bastion import baseline

    count = baseline.write(path, (f for group in found.groups() for f in group.findings))
    for message in found.errors:
        print(f"bastion: {escape_text(message)}", file=sys.stderr)
    written = f"wrote {count} finding{'s' if count != 1 else ''} to {escape_text(str(path))}"
    print(f"bastion: {written}", file=sys.stderr)
    return EXIT_ERROR if found.errors else EXIT_CLEAN
