"""What several commands share: the parser class, exit codes, configuration and colour."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bastion import config
from bastion.engine import Findings, Report
from bastion.errors import UsageError
from bastion.findings import Confidence, Severity, escape_text
from bastion.render import render
from bastion.source import files

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

Commands = Any
"""The object ``add_subparsers`` returns (argparse keeps its class private)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def level(kind: type[Severity] | type[Confidence]) -> Callable[[str], Severity | Confidence]:
    """An argparse converter for a severity or confidence name."""

    def convert(text: str) -> Severity | Confidence:
        try:
            return kind.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = kind.__name__.lower()
    return convert


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose and adjust the configuration, shared by check and fix."""
    parser.add_argument(
        "--select", metavar="RULES", help="comma-separated rule ids to run (only these)"
    )
    parser.add_argument("--ignore", metavar="RULES", help="comma-separated rule ids to skip")
    parser.add_argument(
        "--min-severity",
        metavar="LEVEL",
        type=level(Severity),
        help="report only findings at or above LEVEL (info, low, medium, high)",
    )
    parser.add_argument(
        "--min-confidence",
        metavar="LEVEL",
        type=level(Confidence),
        help="report only findings at or above this confidence (low, medium, high)",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file to use")
    parser.add_argument("--no-config", action="store_true", help="ignore configuration files")


def load_config(arguments: argparse.Namespace) -> config.Config:
    """The configuration file's settings, overridden by the command line."""
    if arguments.no_config:
        settings = config.Config()
    elif arguments.config:
        path = Path(arguments.config)
        if not path.is_file():
            raise UsageError(f"configuration file {escape_text(str(path))} does not exist")
        settings = config.load(path)
    else:
        paths = [p for p in arguments.paths if p != "-"]
        found = config.discover(Path(paths[0]) if paths else Path.cwd())
        settings = config.load(found) if found else config.Config()
    if arguments.select:
        settings = settings.overridden(
            select=frozenset(config.rule_ids(arguments.select, "--select"))
        )
    if arguments.ignore:
        extra = config.rule_ids(arguments.ignore, "--ignore")
        settings = settings.overridden(ignore=settings.ignore | frozenset(extra))
    if arguments.min_severity is not None:
        settings = settings.overridden(min_severity=arguments.min_severity)
    if arguments.min_confidence is not None:
        settings = settings.overridden(min_confidence=arguments.min_confidence)
    return settings


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def add_github_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of commands that talk to GitHub."""
    parser.add_argument(
        "--github-url",
        metavar="URL",
        help="web address of the GitHub to use, for Enterprise Server "
        "(default: $BASTION_GITHUB_URL, else https://github.com)",
    )


def write_report(report: Findings, arguments: argparse.Namespace) -> None:
    """Render the report in ``--format`` to ``--output``, or to standard output."""
    if arguments.output:
        text = io.StringIO()
        render(report, arguments.format, text, color=False)
        write_output(text.getvalue(), arguments.output)
    else:
        render(report, arguments.format, sys.stdout, color=use_color(sys.stdout))


def write_output(text: str, output: str) -> None:
    """Write ``text`` to the file ``--output`` names, replacing a symlink found there rather
    than writing through it."""
    try:
        files.write_report(Path(output), text.encode("utf-8"))
    except files.FileAccessError as error:
        raise UsageError(f"cannot write {output}: {error.reason}") from None


def exit_code(report: Report) -> int:
    """2 when something went wrong, 1 when there are findings, else 0."""
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN
