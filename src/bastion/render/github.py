"""GitHub Actions workflow commands: each finding becomes an annotation on the run and the PR.

``::error file=F,line=L,col=C,endLine=L,endColumn=C,title=bastion RULE::MESSAGE``
"""

from __future__ import annotations

from typing import TextIO

from bastion.engine import Findings
from bastion.findings import Finding, Severity, escape_text
from bastion.render import Writer

COMMANDS = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def render(report: Findings, out: TextIO) -> None:
    writer = Writer(out)
    for group in report.groups():
        writer.pieces.extend(command(finding) + "\n" for finding in group.findings)
        writer.spill()
    writer.flush()


def command(finding: Finding) -> str:
    start, end = finding.span.start, finding.span.end
    end_line, end_column = end.line, end.column
    if end_line < start.line or (end_line == start.line and end_column <= start.column):
        end_line, end_column = start.line, start.column + 1
    properties = {
        "file": escape_text(finding.path),
        "line": str(start.line),
        "col": str(start.column),
        "endLine": str(end_line),
        "endColumn": str(end_column),
        "title": f"bastion {finding.rule}",
    }
    listed = ",".join(f"{name}={escape_property(value)}" for name, value in properties.items())
    return f"::{COMMANDS[finding.severity]} {listed}::{escape_data(escape_text(finding.message))}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
