"""JSON Lines: the JSON report's findings a line each, in the same order, then a summary."""

from __future__ import annotations

import io
import json

import pytest

from bastion import __version__
from bastion.engine import Report
from bastion.findings import Confidence, Finding, Location, Severity, Span
from bastion.render import jsonl
from bastion.render.json import finding_object
from tests.render.harness import run_cli

COMMON = ("check", "--no-config", "--jobs", "1", "--select", "dangerous-trigger,syntax-error")


def test_each_finding_is_a_line_of_the_json_report_then_the_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_cli(monkeypatch, capsys, *COMMON, "--format", "jsonl", "inputs")
    whole = run_cli(monkeypatch, capsys, *COMMON, "--format", "json", "inputs")
    assert (lines.code, lines.err) == (1, "")
    document = json.loads(whole.out)
    objects = [json.loads(line) for line in lines.out.splitlines()]
    assert objects[:-1] == document["findings"]
    assert len(objects) > 2
    assert objects[-1] == {
        "version": 1,
        "tool": {"name": "bastion", "version": __version__},
        "files_checked": document["files_checked"],
        "findings": len(document["findings"]),
        "errors": [],
    }
    assert all("\n" not in line and ": " not in line[:20] for line in lines.out.splitlines())


def test_strings_are_escaped_and_the_errors_come_last() -> None:
    place = Location("o/r/a.yml@c", Span.at(2, 1), "o/r@v1", "https://x/a.yml")
    finding = Finding(
        "unpinned-action",
        Severity.HIGH,
        Confidence.MEDIUM,
        "bad \udc80 \u00e9",
        "w/\udcff.yml",
        Span.at(3, 4),
        "jobs/a",
        via=(place,),
    )
    out = io.StringIO()
    jsonl.render(Report([finding], 2, ["internal error on w/\udcff.yml"]), out)
    text = out.getvalue()
    text.encode("utf-8")  # valid UTF-8: no lone surrogate left
    first, last = text.splitlines()
    assert json.loads(first) == {
        **finding_object(finding),
        "message": "bad \\x80 \u00e9",
        "path": "w/\\xff.yml",
    }
    assert json.loads(first)["via"][0]["url"] == "https://x/a.yml"
    assert json.loads(last)["errors"] == ["internal error on w/\\xff.yml"]
    assert json.loads(last)["findings"] == 1


def test_no_findings_is_the_summary_alone() -> None:
    out = io.StringIO()
    jsonl.render(Report([], 0, []), out)
    assert json.loads(out.getvalue())["findings"] == 0
    assert out.getvalue().count("\n") == 1
