"""Rule fixtures: YAML files whose expected findings are marked on their own lines.

``tests/rules/fixtures/<rule-id>/<case>.yml`` is checked with only ``<rule-id>`` and
``syntax-error`` enabled (so a fixture that does not parse cannot pass unnoticed).
A line that ends in ``# expect: <rule-id>`` (several ids separated by commas) must carry
exactly those findings, and no other line may carry any: the harness compares the exact
set of (line, rule) pairs. Files named ``*.action.yml`` are read as actions, the others as
workflows. A first line ``# options: {...}`` (JSON) sets the rule's options for that file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.engine import Checker
from bastion.inputs import Input, Kind
from bastion.rules import RULES_BY_ID

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9, -]+?)\s*$")
_OPTIONS = re.compile(r"#\s*options:\s*(\{.*\})\s*$")


def _cases() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yml"))


def expected(text: str) -> set[tuple[int, str]]:
    pairs: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            pairs.update((number, rule.strip()) for rule in match.group(1).split(","))
    return pairs


def run_fixture(path: Path) -> set[tuple[int, str]]:
    rule_id = path.parent.name
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    options = _OPTIONS.match(first)
    settings = json.loads(options.group(1)) if options else {}
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    config = Config(select=frozenset({rule_id, "syntax-error"}), rule_settings={rule_id: settings})
    kind = Kind.ACTION if path.name.endswith(".action.yml") else Kind.WORKFLOW
    result = Checker(config).check(Input(path.name, kind, path))
    assert not result.errors, result.errors
    return {(f.span.start.line, f.rule) for f in result.findings}


def test_every_rule_has_bad_and_good_fixtures() -> None:
    for rule_id in RULES_BY_ID:
        cases = list((FIXTURES / rule_id).glob("*.yml"))
        marked = [case for case in cases if expected(case.read_text(encoding="utf-8"))]
        clean = [case for case in cases if not expected(case.read_text(encoding="utf-8"))]
        assert marked, f"{rule_id} has no fixture with an expected finding"
        assert clean, f"{rule_id} has no fixture that must stay clean"


@pytest.mark.parametrize("path", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert run_fixture(path) == expected(text)
