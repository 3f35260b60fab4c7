"""`bastion rules` and `bastion explain RULE`: the rules' list and documentation."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from bastion.cli.common import EXIT_CLEAN, Commands
from bastion.errors import UsageError
from bastion.rules import RULES, RULES_BY_ID
from bastion.rules.base import OptionValue
from bastion.rules.sources import SOURCES


def register(commands: Commands) -> None:
    rules = commands.add_parser("rules", help="list the rules")
    rules.set_defaults(run=lambda _arguments: list_rules(sys.stdout))
    explain = commands.add_parser("explain", help="show the documentation of a rule")
    explain.add_argument("rule", metavar="RULE")
    explain.set_defaults(run=_run_explain)


def _run_explain(arguments: argparse.Namespace) -> int:
    return explain(arguments.rule, sys.stdout)


def list_rules(out: TextIO) -> int:
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


def explain(rule_id: str, out: TextIO) -> int:
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
    sources = SOURCES.get(rule.id, ())
    if sources:
        out.write("\n## Sources\n")
    for title, address in sources:
        out.write(f"- {title}: {address}\n" if address else f"- {title}\n")
    return EXIT_CLEAN
