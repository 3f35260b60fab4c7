"""The JSON report: a documented, versioned contract (docs/json-output.md), not a dump."""

from __future__ import annotations

from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import TextIO

from bastion import __version__
from bastion.engine import Findings
from bastion.findings import Finding, escape_text
from bastion.render import Writer, Written, write_json

SCHEMA_VERSION = 1


def finding_object(finding: Finding) -> dict[str, object]:
    found: dict[str, object] = {
        "rule": finding.rule,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "message": finding.message,
        "path": finding.path,
        "line": finding.span.start.line,
        "column": finding.span.start.column,
        "end_line": finding.span.end.line,
        "end_column": finding.span.end.column,
        "route": finding.route,
    }
    if finding.status is not None:
        found["status"] = finding.status
    if finding.via:
        found["via"] = [
            {
                "path": place.path,
                "line": place.span.start.line,
                "column": place.span.start.column,
                "end_line": place.span.end.line,
                "end_column": place.span.end.column,
                "label": place.label,
                "url": place.uri,
            }
            for place in finding.via
        ]
    return found


def render(report: Findings, out: TextIO) -> None:
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "bastion", "version": __version__},
        "files_checked": report.files,
        "findings": _finding_objects(report),
        "errors": _errors(report),
    }
    writer = Writer(out)
    write_json(document, writer)
    writer.flush()


def _finding_objects(report: Findings) -> Iterator[object]:
    for group in report.groups():
        for finding in group.findings:
            if finding.status is None and not finding.via:
                yield _finding_text(finding)
            else:
                yield finding_object(finding)


def _finding_text(finding: Finding) -> Written:
    """What :func:`~bastion.render.write_json` writes for ``finding_object(finding)`` in the
    list of findings (of a finding in a file: no ``status``, no ``via``), made in one step:
    most of a large report's time was spent writing these a field at a time."""
    start, end = finding.span.start, finding.span.end
    return Written(
        '{\n      "rule": '
        f"{encode_basestring(escape_text(finding.rule))},\n"
        f'      "severity": "{finding.severity.label}",\n'
        f'      "confidence": "{finding.confidence.label}",\n'
        f'      "message": {encode_basestring(escape_text(finding.message))},\n'
        f'      "path": {encode_basestring(escape_text(finding.path))},\n'
        f'      "line": {start.line},\n      "column": {start.column},\n'
        f'      "end_line": {end.line},\n      "end_column": {end.column},\n'
        f'      "route": {encode_basestring(escape_text(finding.route))}\n    }}'
    )


def _errors(report: Findings) -> Iterator[str]:
    """The errors, read when they are written: after the findings, so all of them."""
    yield from report.errors
