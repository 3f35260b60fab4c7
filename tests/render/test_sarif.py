"""SARIF: valid against the 2.1.0 schema, and shaped the way GitHub code scanning reads it."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest

from bastion import __version__
from bastion.engine import Report
from bastion.findings import Confidence, Finding, Point, Severity, Span
from bastion.render import sarif
from bastion.rules import RULES
from tests.shared import SARIF_SCHEMA, require


def _finding(
    span: Span,
    *,
    rule: str = "dangerous-trigger",
    severity: Severity = Severity.HIGH,
    confidence: Confidence = Confidence.HIGH,
    path: str = ".github/workflows/ci.yml",
    route: str = "on/pull_request_target",
    message: str = "banned trigger",
) -> Finding:
    return Finding(rule, severity, confidence, message, path, span, route)


def _every_kind() -> Report:
    findings = [
        _finding(Span(Point(line, 3), Point(line, 9)), severity=severity, confidence=confidence)
        for line, (severity, confidence) in enumerate(
            [(s, c) for s in Severity for c in Confidence], start=1
        )
    ]
    findings += [
        _finding(Span.at(40, 6), rule="syntax-error", route="", message="invalid YAML"),
        _finding(Span(Point(41, 3), Point(45, 1)), route="jobs/a"),
        _finding(Span.at(1, 1), path="/abs/dir with space/action.yml", rule="unpinned-action"),
        _finding(Span.at(1, 1), path="<stdin>", rule="syntax-error"),
    ]
    return Report(findings, 3, ["internal error in rule x on y"])


def _document(report: Report) -> dict[str, Any]:
    out = io.StringIO()
    sarif.render(report, out)
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def _results(report: Report) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = _document(report)["runs"][0]["results"]
    return results


@pytest.mark.parametrize("report", [_every_kind(), Report([], 0, [])], ids=["every-kind", "empty"])
def test_validates_against_the_schema(report: Report) -> None:
    schema = json.loads(require(SARIF_SCHEMA).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = [error.message for error in validator_class(schema).iter_errors(_document(report))]
    assert errors == []


def test_driver_describes_every_rule_of_the_registry() -> None:
    driver = _document(Report([], 0, []))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bastion"
    assert driver["version"] == __version__
    assert "informationUri" not in driver  # no public home yet; never invent one
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in RULES]
    severity_score = {"high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
    for descriptor, rule in zip(driver["rules"], RULES, strict=True):
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"] == {
            "text": rule.documentation(),
            "markdown": rule.documentation(),
        }
        assert descriptor["defaultConfiguration"]["level"] == sarif.LEVELS[rule.severity]
        properties = descriptor["properties"]
        assert "security" in properties["tags"]
        assert properties["security-severity"] == severity_score[rule.severity.label]
        float(properties["security-severity"])


def test_results() -> None:
    report = _every_kind()
    document = _document(report)
    run = document["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    rules = run["tool"]["driver"]["rules"]
    levels = {"high": "error", "medium": "warning", "low": "note", "info": "note"}
    for finding, result in zip(report.findings, run["results"], strict=True):
        assert result["ruleId"] == finding.rule
        assert rules[result["ruleIndex"]]["id"] == finding.rule
        assert result["level"] == levels[finding.severity.label]
        assert result["message"]["text"] == finding.message
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (
            finding.span.start.line,
            finding.span.start.column,
        )
        if region["endLine"] == region["startLine"]:
            assert region["endColumn"] > region["startColumn"]


def test_regions() -> None:
    results = _results(
        Report([_finding(Span.at(4, 7)), _finding(Span(Point(5, 3), Point(8, 1)))], 1, [])
    )
    regions = [result["locations"][0]["physicalLocation"]["region"] for result in results]
    assert regions == [
        {"startLine": 4, "startColumn": 7, "endLine": 4, "endColumn": 8},
        {"startLine": 5, "startColumn": 3, "endLine": 8, "endColumn": 1},
    ]


def test_artifact_locations() -> None:
    assert sarif.artifact_location(".github/workflows/ci.yml") == {
        "uri": ".github/workflows/ci.yml",
        "uriBaseId": "%SRCROOT%",
    }
    assert sarif.artifact_location("sub dir/action.yml") == {
        "uri": "sub%20dir/action.yml",
        "uriBaseId": "%SRCROOT%",
    }
    assert sarif.artifact_location("/abs/action.yml") == {"uri": "file:///abs/action.yml"}
    assert sarif.artifact_location("C:\\work\\action.yml") == {"uri": "file:///C:/work/action.yml"}
    # The bytes of a name that is not UTF-8 are percent-encoded as they are.
    assert sarif.artifact_location("w/\udcff.yml") == {"uri": "w/%FF.yml", "uriBaseId": "%SRCROOT%"}
    assert sarif.artifact_location("/a/\udcfe b.yml") == {"uri": "file:///a/%FE%20b.yml"}
    assert sarif.artifact_location("w/\ud800.yml")["uri"] == "w/%5Cud800.yml"


def test_lone_surrogates_are_escaped_in_the_whole_document() -> None:
    finding = Finding(
        "rule-id", Severity.HIGH, Confidence.HIGH, "bad \ud800", "w/\udcff.yml", Span.at(1, 1)
    )
    out = io.StringIO()
    sarif.render(Report([finding], 1, ["internal error on w/\udcff.yml"]), out)
    out.getvalue().encode("utf-8")  # strict
    run = json.loads(out.getvalue())["runs"][0]
    assert run["results"][0]["message"]["text"] == "bad \\ud800"
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["message"]["text"] == "internal error on w/\\xff.yml"


def _fingerprint(finding: Finding) -> str:
    fingerprint: str = _results(Report([finding], 1, []))[0]["partialFingerprints"]["bastion/v1"]
    return fingerprint


def test_fingerprint_ignores_lines_and_columns() -> None:
    here = _finding(Span(Point(3, 3), Point(3, 22)))
    moved = _finding(Span(Point(30, 5), Point(30, 24)))
    assert _fingerprint(here) == _fingerprint(moved)
    assert _fingerprint(here) != _fingerprint(_finding(here.span, route="on/workflow_run"))
    assert _fingerprint(here) != _fingerprint(_finding(here.span, path="other.yml"))
    assert _fingerprint(here) != _fingerprint(_finding(here.span, message="other"))
    assert _fingerprint(here) != _fingerprint(_finding(here.span, rule="unpinned-action"))


def test_identical_findings_get_distinct_fingerprints() -> None:
    twins = [_finding(Span.at(1, 1), route=""), _finding(Span.at(9, 1), route="")]
    prints = [
        result["partialFingerprints"]["bastion/v1"] for result in _results(Report(twins, 1, []))
    ]
    assert len(set(prints)) == 2


def test_internal_errors_mark_the_run_unsuccessful() -> None:
    assert _document(Report([], 1, []))["runs"][0]["invocations"] == [{"executionSuccessful": True}]
    invocation = _document(Report([], 1, ["rule crashed"]))["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "rule crashed"
