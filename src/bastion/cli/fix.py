"""`bastion fix`: apply the fixes of findings to the files, or show them as a diff."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from bastion.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Commands,
    add_config_arguments,
    add_github_arguments,
    load_config,
)
from bastion.engine import MAX_FILE_BYTES
from bastion.errors import UsageError
from bastion.fix.diff import unified_diff
from bastion.fix.engine import BOM, FileFix, FixEngine
from bastion.fix.registry import FIXERS
from bastion.fix.unpinned_action import PinAction
from bastion.inputs import Input, collect
from bastion.pinning.resolver import default_resolver
from bastion.source.files import (
    LEFTOVER_NOTE,
    FileAccessError,
    OutsideRepository,
    WriteError,
    read_file,
    repository_root,
    write_atomic,
)


def register(commands: Commands) -> None:
    fix = commands.add_parser(
        "fix",
        help="fix findings in workflows, actions and Dependabot files",
        description=(
            "Fix the findings in the workflows, actions and Dependabot files under each PATH, "
            "editing the files in place (comments, quoting and layout are kept). Safe fixes "
            "only, unless --unsafe; see docs/fixes.md. Exit status: 0 when no finding "
            "remains, 1 when some do, 2 on an error; with --diff, 1 when the diff is not "
            "empty and 0 when it is."
        ),
    )
    fix.add_argument("paths", nargs="*", metavar="PATH", help="directories or files (default: .)")
    fix.add_argument(
        "--unsafe",
        action="store_true",
        help="also apply fixes that can change what a workflow does (review them)",
    )
    fix.add_argument(
        "--diff",
        action="store_true",
        help=(
            "print the changes as a unified diff and write nothing; exit 1 when there are "
            "changes, 0 when there are none (whatever findings remain)"
        ),
    )
    fix.add_argument(
        "--pin",
        action="store_true",
        help="also pin unpinned actions to the commit their ref names (asks the network)",
    )
    fix.add_argument(
        "--offline",
        action="store_true",
        help="with --pin: answer from the cache only, never the network",
    )
    add_github_arguments(fix)
    add_config_arguments(fix)
    fix.set_defaults(run=_fix)


def _fix(arguments: argparse.Namespace) -> int:
    settings = load_config(arguments)
    paths: list[str] = arguments.paths or ["."]
    if "-" in paths:
        raise UsageError("fix edits files and cannot read standard input")
    plan: list[tuple[Input, Path]] = []
    seen: set[Path] = set()
    for argument in paths:
        root = repository_root(Path(argument))
        for item in collect([argument], None, settings.excludes):
            assert item.path is not None
            key = Path(os.path.realpath(item.path))
            if key not in seen:
                seen.add(key)
                plan.append((item, root))
    if not plan:
        print(
            f"bastion: nothing to fix under {', '.join(paths)} (looked for workflows, actions "
            "and Dependabot files)",
            file=sys.stderr,
        )
    fixers = dict(FIXERS)
    if arguments.pin:
        resolver = default_resolver(arguments.github_url, offline=arguments.offline)
        fixers[PinAction.rule] = PinAction(resolver)
    engine = FixEngine(settings, unsafe=arguments.unsafe, fixers=fixers)
    report = sys.stderr if arguments.diff else sys.stdout
    errors = 0
    totals: Counter[str] = Counter()
    remaining = unsafe_left = changed = 0
    for item, root in plan:
        assert item.path is not None
        data: bytes | None
        try:
            data = read_file(item.path, root, MAX_FILE_BYTES)
        except OutsideRepository as error:
            print(f"bastion: note: {item.display}: skipped: {error.reason}", file=sys.stderr)
            continue
        except FileAccessError:
            data = None  # the check says why, as a finding
        result = _fix_file(engine, item, data)
        if result.changed:
            assert data is not None
            changed += 1
            new = _encode(result.text, data)
            if arguments.diff:
                sys.stdout.write(_diff(result))
            else:
                try:
                    for leftover in write_atomic(item.path, new, root=root, expected=data):
                        note = f"bastion: note: removed {leftover}, {LEFTOVER_NOTE}"
                        print(note, file=sys.stderr)
                except (WriteError, FileAccessError) as error:
                    print(f"bastion: {error}", file=sys.stderr)
                    errors += 1
                    continue
        for message in result.errors:
            print(f"bastion: {message}", file=sys.stderr)
        errors += len(result.errors)
        _report(result, report, would=arguments.diff)
        totals.update(result.fixed)
        remaining += len(result.remaining)
        unsafe_left += sum(
            1 for reason in result.reasons.values() if reason.startswith("fixable with --unsafe")
        )
    _summary(report, totals, changed, remaining, unsafe_left, would=arguments.diff)
    if errors:
        return EXIT_ERROR
    if arguments.diff:
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _fix_file(engine: FixEngine, item: Input, data: bytes | None) -> FileFix:
    try:
        text: str | None = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        text = None
    if data is None or text is None or "\x00" in text or len(data) > MAX_FILE_BYTES:
        # Not text we can edit: report what a check finds, fix nothing.
        findings = engine.checker.check(item).findings
        result = FileFix(item.display, "", "", findings, remaining=findings)
        result.reasons = dict.fromkeys(findings, "no fix available")
        return result
    return engine.fix_text(text.removeprefix(BOM), item.display, item.kind)


def _encode(text: str, original: bytes) -> bytes:
    bom = BOM.encode("utf-8") if original.startswith(BOM.encode("utf-8")) else b""
    return bom + text.encode("utf-8")


def _diff(result: FileFix) -> str:
    return unified_diff(result.original, result.text, result.changes, result.display)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _by_rule(counts: Counter[str]) -> str:
    return ", ".join(f"{rule} ×{count}" for rule, count in sorted(counts.items()))  # noqa: RUF001


def _report(result: FileFix, out: TextIO, *, would: bool) -> None:
    fixed = result.fixed
    if not fixed and not result.remaining and not result.applied:
        return
    verb = "would fix" if would else "fixed"
    count = sum(fixed.values())
    if count:
        print(f"{result.display}: {verb} {_plural(count, 'finding')} ({_by_rule(fixed)})", file=out)
    else:
        print(f"{result.display}: nothing fixed", file=out)
    for note in dict.fromkeys(applied.note for applied in result.applied if applied.note):
        print(f"  note: {note}", file=out)
    for finding in result.remaining:
        where = f"{finding.span.start.line}:{finding.span.start.column}"
        reason = result.reasons.get(finding, "no fix available")
        print(f"  remains: {where} {finding.rule}: {reason}", file=out)


def _summary(
    out: TextIO, totals: Counter[str], changed: int, remaining: int, unsafe: int, *, would: bool
) -> None:
    count = sum(totals.values())
    verb = "Would fix" if would else "Fixed"
    line = f"{verb} {_plural(count, 'finding')} in {_plural(changed, 'file')}"
    if remaining:
        line += f"; {remaining} remain"
        if unsafe:
            line += f" ({unsafe} fixable with --unsafe)"
    print(line + ".", file=out)
