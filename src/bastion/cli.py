"""The command line: parse arguments, load configuration, run, render, choose the exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bastion import __version__, config
from bastion.engine import Report, run
from bastion.errors import BastionError, UsageError
from bastion.findings import Confidence, Severity
from bastion.inputs import collect
from bastion.render import FORMATS, render
from bastion.rules import RULES, RULES_BY_ID
from bastion.rules.base import OptionValue

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `bastion {self.prog.split()[-1]} --help`)")


def _level(kind: type[Severity] | type[Confidence]) -> Callable[[str], Severity | Confidence]:
    def convert(text: str) -> Severity | Confidence:
        try:
            return kind.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = kind.__name__.lower()
    return convert


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bastion",
        description="Audit, fix and enforce a supply-chain security playbook for GitHub.",
    )
    parser.add_argument("--version", action="version", version=f"bastion {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    check.add_argument(
        "--select", metavar="RULES", help="comma-separated rule ids to run (only these)"
    )
    check.add_argument("--ignore", metavar="RULES", help="comma-separated rule ids to skip")
    check.add_argument(
        "--min-severity",
        metavar="LEVEL",
        type=_level(Severity),
        help="report only findings at or above LEVEL (info, low, medium, high)",
    )
    check.add_argument(
        "--min-confidence",
        metavar="LEVEL",
        type=_level(Confidence),
        help="report only findings at or above this confidence (low, medium, high)",
    )
    check.add_argument("--config", metavar="FILE", help="configuration file to use")
    check.add_argument("--no-config", action="store_true", help="ignore configuration files")
    check.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: one per CPU)"
    )
    check.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )

    commands.add_parser("rules", help="list the rules")
    explain = commands.add_parser("explain", help="show the documentation of a rule")
    explain.add_argument("rule", metavar="RULE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = _parser().parse_args(argv)
        if arguments.command == "rules":
            return _list_rules(sys.stdout)
        if arguments.command == "explain":
            return _explain(arguments.rule, sys.stdout)
        return _check(arguments)
    except UsageError as error:
        print(f"bastion: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BastionError as error:
        print(f"bastion: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("bastion: interrupted", file=sys.stderr)
        return 130


def _load_config(arguments: argparse.Namespace) -> config.Config:
    if arguments.no_config:
        settings = config.Config()
    elif arguments.config:
        path = Path(arguments.config)
        if not path.is_file():
            raise UsageError(f"configuration file {path} does not exist")
        settings = config.load(path)
    else:
        paths = [p for p in arguments.paths if p != "-"]
        found = config.discover(Path(paths[0]) if paths else Path.cwd())
        settings = config.load(found) if found else config.Config()
    if arguments.select:
        settings = replace(
            settings, select=frozenset(config.rule_ids(arguments.select, "--select"))
        )
    if arguments.ignore:
        extra = config.rule_ids(arguments.ignore, "--ignore")
        settings = replace(settings, ignore=settings.ignore | frozenset(extra))
    if arguments.min_severity is not None:
        settings = replace(settings, min_severity=arguments.min_severity)
    if arguments.min_confidence is not None:
        settings = replace(settings, min_confidence=arguments.min_confidence)
    return settings


def _check(arguments: argparse.Namespace) -> int:
    settings = _load_config(arguments)
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
        render(report, arguments.format, sys.stdout, color=_use_color(sys.stdout))
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


def _use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def _list_rules(out: TextIO) -> int:
    width = max(len(rule.id) for rule in RULES)
    for rule in RULES:
        out.write(f"{rule.id:<{width}}  {rule.severity.label:<6}  {rule.summary}\n")
    return EXIT_CLEAN


def _toml(value: OptionValue) -> str:
    """A default written as it would be in the configuration file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return json.dumps(value)


def _explain(rule_id: str, out: TextIO) -> int:
    rule = RULES_BY_ID.get(rule_id)
    if rule is None:
        raise UsageError(f"unknown rule {rule_id!r} (run `bastion rules` for the list)")
    out.write(f"# {rule.id}\n\n")
    out.write(f"{rule.summary}. Default severity {rule.severity.label}, ")
    out.write(f"confidence {rule.confidence.label}; playbook area {rule.area.value}.\n\n")
    out.write(rule.documentation() + "\n")
    if rule.options:
        out.write("\n## Options\n")
        out.write(f"Set them in `[tool.bastion.rules.{rule.id}]`.\n")
        for option in rule.options:
            out.write(f"- `{option.name}` (default `{_toml(option.default)}`): {option.help}\n")
    return EXIT_CLEAN
