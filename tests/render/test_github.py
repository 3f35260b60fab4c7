"""GitHub workflow commands: levels, positions and the escaping the runner requires."""

from __future__ import annotations

import io

import pytest

from bastion.engine import Report
from bastion.findings import Confidence, Finding, Point, Severity, Span
from bastion.render import github


def _finding(
    span: Span, *, severity: Severity = Severity.HIGH, message: str = "m", path: str = "a.yml"
) -> Finding:
    return Finding("rule-id", severity, Confidence.HIGH, message, path, span)


def test_escape_property() -> None:
    assert github.escape_property("50%\r\nof a:b,c") == "50%25%0D%0Aof a%3Ab%2Cc"


def test_escape_data_keeps_colons_and_commas() -> None:
    assert github.escape_data("50%\r\nof a:b,c ::x") == "50%25%0D%0Aof a:b,c ::x"


def test_escaping_percent_first_is_not_doubled() -> None:
    assert github.escape_data("%0A\n") == "%250A%0A"


def test_command() -> None:
    finding = _finding(
        Span(Point(3, 5), Point(4, 2)),
        message="line one\nline two: 100%",
        path=".github/workflows/a,b:c.yml",
    )
    assert github.command(finding) == (
        "::error file=.github/workflows/a%2Cb%3Ac.yml,line=3,col=5,endLine=4,endColumn=2,"
        "title=bastion rule-id::line one%0Aline two: 100%25"
    )


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "notice"),
        (Severity.INFO, "notice"),
    ],
)
def test_levels(severity: Severity, level: str) -> None:
    finding = _finding(Span(Point(1, 1), Point(1, 4)), severity=severity)
    assert github.command(finding).startswith(f"::{level} file=a.yml,")


def test_a_point_is_one_column_wide() -> None:
    command = github.command(_finding(Span.at(7, 9)))
    assert "line=7,col=9,endLine=7,endColumn=10," in command


def test_render_writes_one_line_per_finding() -> None:
    findings = [_finding(Span.at(1, 1)), _finding(Span.at(2, 1), message="a\r\nb")]
    out = io.StringIO()
    github.render(Report(findings, 1, []), out)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    assert len(lines) == 3
    assert all(line.startswith("::error ") for line in lines[:2])
