"""Exit codes through main(): 0 clean, 1 findings, 2 usage or internal error."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bastion import engine
from bastion.model.workflow import Workflow
from bastion.rules import Hit, Rule
from bastion.rules.dangerous_trigger import DangerousTrigger
from tests.render.harness import run_cli

COMMON = ("check", "--no-config", "--jobs", "1")
CLEAN = "inputs/.github/workflows/clean.yml"
FINDINGS = "inputs/.github/workflows/ci.yml"


def test_clean_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(monkeypatch, capsys, *COMMON, CLEAN)
    assert (outcome.code, outcome.out, outcome.err) == (0, "No findings in 1 file\n", "")


@pytest.mark.parametrize("fmt", ["human", "json", "sarif", "github"])
def test_findings_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    outcome = run_cli(
        monkeypatch, capsys, *COMMON, "--select", "dangerous-trigger", "--format", fmt, FINDINGS
    )
    assert outcome.code == 1
    assert "pull_request_target" in outcome.out


@pytest.mark.parametrize(
    "arguments",
    [
        ("inputs/no-such-file.yml",),
        ("--select", "no-such-rule", CLEAN),
        ("--format", "xml", CLEAN),
    ],
)
def test_usage_error_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]
) -> None:
    outcome = run_cli(monkeypatch, capsys, *COMMON, *arguments)
    assert outcome.code == 2
    assert outcome.out == ""
    assert outcome.err.startswith("bastion: ")


class _Crashing(Rule):
    id = "crashing"
    summary = "a rule that fails"
    severity = DangerousTrigger.severity
    confidence = DangerousTrigger.confidence

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        raise RuntimeError("boom")


def test_internal_error_exits_2_and_still_reports(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(engine, "RULES", (DangerousTrigger, _Crashing))
    outcome = run_cli(monkeypatch, capsys, *COMMON, "--format", "json", FINDINGS)
    assert outcome.code == 2
    document = json.loads(outcome.out)
    assert {finding["rule"] for finding in document["findings"]} == {"dangerous-trigger"}
    assert len(document["errors"]) == 1
    assert "internal error in rule crashing" in document["errors"][0]
    assert "internal error in rule crashing" in outcome.err
