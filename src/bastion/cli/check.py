"""`bastion check`: audit workflows and actions offline and report the findings."""

from __future__ import annotations

import argparse
import sys

from bastion.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Commands,
    add_config_arguments,
    load_config,
    use_color,
)
from bastion.engine import Report, run
from bastion.errors import UsageError
from bastion.inputs import collect
from bastion.render import FORMATS, render


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
    check.set_defaults(run=_check)


def _check(arguments: argparse.Namespace) -> int:
    settings = load_config(arguments)
    paths = arguments.paths or ["."]
    stdin = sys.stdin.buffer.read() if "-" in paths else None
    inputs = collect(paths, stdin, settings.excludes)
    if arguments.jobs is not None and arguments.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    report = run(inputs, settings, jobs=arguments.jobs)
    if arguments.output:
        try:
            with open(arguments.output, "w", encoding="utf-8") as out:
                render(report, arguments.format, out, color=False)
        except OSError as error:
            raise UsageError(f"cannot write {arguments.output}: {error.strerror}") from None
    else:
        render(report, arguments.format, sys.stdout, color=use_color(sys.stdout))
    for message in report.errors:
        print(f"bastion: {message}", file=sys.stderr)
    if not inputs:
        print(
            "bastion: no workflows or actions found under "
            f"{', '.join(paths)} (looked for .github/workflows/*.yml and action.yml)",
            file=sys.stderr,
        )
    return _exit_code(report)


def _exit_code(report: Report) -> int:
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN
