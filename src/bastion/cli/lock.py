"""`bastion lock`: write or update GitHub's Actions lockfile, .github/workflows/actions.lock."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

from bastion.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, Commands, add_github_arguments
from bastion.errors import UsageError
from bastion.graph.lockfile import LockPlan, plan_lock
from bastion.model.lockfile import (
    LOCKFILE_PATH,
    MAX_BYTES,
    MAX_WORKFLOW_BYTES,
    Lockfile,
    build_lockfile,
    dump,
)
from bastion.pinning.ids import RepositoryIds
from bastion.pinning.resolver import default_resolver
from bastion.source.files import FileAccessError, TooLarge, read_file, write_atomic
from bastion.source.yaml import YamlError, parse


def register(commands: Commands) -> None:
    lock = commands.add_parser(
        "lock",
        help="write GitHub's Actions lockfile (.github/workflows/actions.lock)",
        description=(
            "Lock every action the workflows of PATH use, directly or through composite "
            "actions, in GitHub's lockfile format (v0.0.2), which GitHub Actions enforces at "
            "run time. Pins already locked are kept; deleted workflows are pruned."
        ),
    )
    lock.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository")
    lock.add_argument(
        "--relock", action="store_true", help="resolve every pin again, not only new ones"
    )
    lock.add_argument(
        "--narrow",
        action="store_true",
        help="as gh actions-lock does by default: lock a new @v4 as its full version tag "
        "(@v4.3.1) and rewrite the workflow to say so",
    )
    lock.add_argument("--diff", action="store_true", help="show the changes, write nothing")
    lock.add_argument(
        "--offline", action="store_true", help="answer from the cache only, send no request"
    )
    add_github_arguments(lock)
    lock.set_defaults(run=_lock)


def _lock(arguments: argparse.Namespace) -> int:
    root = Path(arguments.path)
    if not (root / ".github" / "workflows").is_dir():
        raise UsageError(f"{arguments.path} has no .github/workflows directory to lock")
    target = root / LOCKFILE_PATH
    before = _read_existing(target)
    if isinstance(before, str):
        print(f"bastion: {before}", file=sys.stderr)
        return EXIT_FINDINGS
    existing_text, existing = before
    resolver = default_resolver(arguments.github_url, offline=arguments.offline)
    plan = plan_lock(
        root,
        resolver,
        RepositoryIds(resolver),
        existing,
        relock=arguments.relock,
        narrow=arguments.narrow,
    )
    _report(plan)
    for path, text in sorted(plan.rewritten.items()):
        error = _rewrite_workflow(root, path, text, show_diff=arguments.diff)
        if error:
            print(f"bastion: {error}", file=sys.stderr)
            return EXIT_ERROR
    after = dump(plan.workflows, plan.dependencies) if plan.workflows else ""
    if after == (existing_text or ""):
        state = "is up to date" if after else "not written: no workflow could be locked"
        print(f"bastion: {LOCKFILE_PATH} {state}", file=sys.stderr)
    elif arguments.diff:
        sys.stdout.writelines(
            difflib.unified_diff(
                (existing_text or "").splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{LOCKFILE_PATH}",
                f"b/{LOCKFILE_PATH}",
            )
        )
    else:
        error = _write(target, after)
        if error:
            print(f"bastion: {error}", file=sys.stderr)
            return EXIT_ERROR
        what = (
            f"wrote {LOCKFILE_PATH}: {len(plan.workflows)} workflow(s), "
            f"{len(plan.dependencies)} pin(s)"
            if after
            else f"removed {LOCKFILE_PATH}: no workflow to lock"
        )
        print(f"bastion: {what}", file=sys.stderr)
    return EXIT_FINDINGS if any(note.blocking for note in plan.notes) else EXIT_CLEAN


def _read_existing(target: Path) -> tuple[str | None, Lockfile | None] | str:
    """The existing lockfile's text and view; a message when it exists but GitHub cannot
    read it (never overwrite what cannot be read: it may hold the only record of a pin)."""
    if not os.path.lexists(target):
        return None, None
    try:
        text = read_file(target, None, MAX_BYTES).decode("utf-8")
        lock = build_lockfile(LOCKFILE_PATH, parse(text.removeprefix("\ufeff")))
    except TooLarge:
        return f"{LOCKFILE_PATH} is over 1 MiB; fix or delete it, then run again"
    except FileAccessError as error:
        return f"cannot read {LOCKFILE_PATH}: {error}"
    except UnicodeDecodeError:
        return f"{LOCKFILE_PATH} is not UTF-8; fix or delete it, then run again"
    except YamlError as error:
        return (
            f"{LOCKFILE_PATH}:{error.point.line}: {error.message}; fix or delete the file, "
            "then run again"
        )
    fatal = [problem for problem in lock.problems if problem.fatal]
    if fatal:
        first = fatal[0]
        return (
            f"{LOCKFILE_PATH}:{first.span.start.line}: {first.message}; GitHub's parser refuses "
            "the file: fix or delete it, then run again (`bastion check` lists every problem)"
        )
    return text, lock


def _rewrite_workflow(root: Path, path: str, text: str, *, show_diff: bool) -> str | None:
    target = root / path
    try:
        raw = read_file(target, None, MAX_WORKFLOW_BYTES)
        before = raw.decode("utf-8")
    except (FileAccessError, UnicodeDecodeError) as error:
        return f"cannot read {path} again: {error}"
    bom = "\ufeff" if before.startswith("\ufeff") else ""
    if show_diff:
        sys.stdout.writelines(
            difflib.unified_diff(
                before.removeprefix(bom).splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"a/{path}",
                f"b/{path}",
            )
        )
        return None
    try:
        write_atomic(target, (bom + text).encode("utf-8"), expected=raw)
    except FileAccessError as error:
        return f"cannot write {path}: {error}"
    return None


def _report(plan: LockPlan) -> None:
    for old, new in plan.narrowed:
        print(f"bastion: narrowed {old} to {new}", file=sys.stderr)
    for path in plan.pruned:
        print(f"bastion: {path}: deleted; its pins are pruned", file=sys.stderr)
    seen: set[tuple[str, str]] = set()
    for note in plan.notes:
        if (note.where, note.message) in seen:
            continue
        seen.add((note.where, note.message))
        print(f"bastion: {note.where}: {note.message}", file=sys.stderr)


def _write(target: Path, text: str) -> str | None:
    try:
        if not text:
            target.unlink(missing_ok=True)
            return None
        write_atomic(target, text.encode("utf-8"))
    except OSError as error:
        return f"cannot remove {LOCKFILE_PATH}: {error.strerror or error}"
    except FileAccessError as error:
        return f"cannot write {LOCKFILE_PATH}: {error}"
    return None
