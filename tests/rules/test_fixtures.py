"""Rule fixtures: files whose expected findings are marked on their own lines.

``tests/rules/fixtures/<rule-id>/<case>.yml`` is checked with only ``<rule-id>`` and
``syntax-error`` enabled (so a fixture that does not parse cannot pass unnoticed).
A line that ends in ``# expect: <rule-id>`` (several ids separated by commas; ``//`` in
JSON5 files) must carry exactly those findings, and no other line may carry any: the
harness compares the exact set of (line, rule) pairs. The name gives the kind of file:
``*.action.yml`` is an action, ``*.dependabot.yml`` a Dependabot configuration,
``*.renovate.json`` or ``*.renovate.json5`` a Renovate one, ``*.pre-commit.yaml`` a
pre-commit one, and any other ``*.yml`` a workflow. ``<rule-id>@<confidence>`` (``low``,
``medium``, ``high``) also requires that confidence of the finding on that line. A first
line ``# options: {...}`` (or ``// options: {...}``, JSON) sets the rule's options for
that file.

A *directory* ``<rule-id>/<case>/`` is a small repository: it is walked the way
``bastion check <case>`` walks one (repository-level checks included), and the expected
findings are the marked lines of all its files, compared as (file, line, rule).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.engine import run
from bastion.inputs import Input, Kind, collect
from bastion.rules import RULES_BY_ID
from bastion.rules.base import OptionValue

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"(?:#|//)\s*expect:\s*([a-z0-9@, -]+?)\s*$")
_OPTIONS = re.compile(r"(?:#|//)\s*options:\s*(\{.*\})\s*$")
_KINDS = (
    (".action.yml", Kind.ACTION),
    (".dependabot.yml", Kind.DEPENDABOT),
    (".renovate.json", Kind.RENOVATE),
    (".renovate.json5", Kind.RENOVATE),
    (".pre-commit.yaml", Kind.PRE_COMMIT),
    (".yml", Kind.WORKFLOW),
)


def _kind(path: Path) -> Kind | None:
    return next((kind for suffix, kind in _KINDS if path.name.endswith(suffix)), None)


def _cases() -> list[Path]:
    return sorted(path for path in FIXTURES.glob("*/*") if path.is_dir() or _kind(path) is not None)


def _files(case: Path) -> list[Path]:
    return sorted(p for p in case.rglob("*") if p.is_file()) if case.is_dir() else [case]


def expected_in(case: Path) -> set[tuple[str, int, str]]:
    """The marked (file, line, rule) triples of a case; files relative to a tree case."""
    found: set[tuple[str, int, str]] = set()
    for path in _files(case):
        name = path.relative_to(case).as_posix() if case.is_dir() else path.name
        for line, rule in expected(path.read_text(encoding="utf-8")):
            found.add((name, line, rule))
    return found


def expected(text: str) -> set[tuple[int, str]]:
    pairs: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            pairs.update(
                (number, rule.strip().partition("@")[0]) for rule in match.group(1).split(",")
            )
    return pairs


def expected_confidences(text: str) -> dict[tuple[int, str], str]:
    """The confidences marked with ``rule@confidence``, by (line, rule)."""
    found: dict[tuple[int, str], str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        for item in match.group(1).split(",") if match else ():
            rule, _, confidence = item.strip().partition("@")
            if confidence:
                found[(number, rule)] = confidence
    return found


def _settings(path: Path) -> dict[str, OptionValue]:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    options = _OPTIONS.match(first)
    settings: dict[str, OptionValue] = json.loads(options.group(1)) if options else {}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


def run_fixture(case: Path) -> set[tuple[str, int, str]]:
    rule_id = case.parent.name
    if case.is_dir():
        inputs = collect([str(case)])
        settings: dict[str, OptionValue] = {}
    else:
        inputs = [Input(case.name, _kind(case), case)]
        settings = _settings(case)
    config = Config(select=frozenset({rule_id, "syntax-error"}), rule_settings={rule_id: settings})
    report = run(inputs, config, jobs=1)
    assert not report.errors, report.errors
    prefix = f"{case.as_posix()}/"
    return {(f.path.removeprefix(prefix), f.span.start.line, f.rule) for f in report.findings}


def test_every_rule_has_bad_and_good_fixtures() -> None:
    for rule_id, rule in RULES_BY_ID.items():
        if not rule.checks_files:
            continue
        cases = [case for case in _cases() if case.parent.name == rule_id]
        marked = [case for case in cases if expected_in(case)]
        clean = [case for case in cases if not expected_in(case)]
        assert marked, f"{rule_id} has no fixture with an expected finding"
        assert clean, f"{rule_id} has no fixture that must stay clean"


@pytest.mark.parametrize("path", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    assert run_fixture(path) == expected_in(path)


_MARKED = [p for p in _cases() if p.is_file() and expected_confidences(p.read_text("utf-8"))]


@pytest.mark.parametrize("path", _MARKED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_confidence(path: Path) -> None:
    wanted = expected_confidences(path.read_text(encoding="utf-8"))
    rule_id = path.parent.name
    config = Config(select=frozenset({rule_id}), rule_settings={rule_id: _settings(path)})
    report = run([Input(path.name, _kind(path), path)], config, jobs=1)
    got = {(f.span.start.line, f.rule): f.confidence.label for f in report.findings}
    assert {key: got.get(key) for key in wanted} == wanted
