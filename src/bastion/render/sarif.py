"""SARIF 2.1.0, shaped for GitHub code scanning (upload with github/codeql-action/upload-sarif).

Every rule of the registry is described in ``tool.driver.rules``, whatever the run selected,
so that code scanning can show the documentation of any alert. Columns count characters
(``columnKind: unicodeCodePoints``), as bastion's do.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import TextIO
from urllib.parse import quote

from bastion import __version__
from bastion.engine import Findings
from bastion.findings import Confidence, Finding, Location, Severity, Span, escape_text
from bastion.render import Writer, write_json
from bastion.rules import RULES, Rule

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SOURCE_ROOT = "%SRCROOT%"
FINGERPRINT_KEY = "bastion/v1"

LEVELS = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
"""GitHub ranks alerts by this score: 7.0 and above is high, 4.0 to 6.9 medium, below low."""
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}


def render(report: Findings, out: TextIO) -> None:
    writer = Writer(out)
    write_json(document(report, stream=True), writer)
    writer.flush()


def document(report: Findings, *, stream: bool = False) -> dict[str, object]:
    """The SARIF log; with ``stream``, its results are an iterator, made as they are
    written. The findings are gathered first: the log says whether the run succeeded
    before its results."""
    findings = [finding for group in report.groups() for finding in group.findings]
    index = {rule.id: number for number, rule in enumerate(RULES)}
    fingerprints = _fingerprints(findings)
    results = (
        _result(finding, index.get(finding.rule), fingerprint)
        for finding, fingerprint in zip(findings, fingerprints, strict=True)
    )
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "bastion",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [rule_descriptor(rule) for rule in RULES],
            }
        },
        "invocations": [_invocation(report)],
        "columnKind": "unicodeCodePoints",
        "results": results if stream else list(results),
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: type[Rule]) -> dict[str, object]:
    documentation = rule.documentation()
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": documentation.split("\n\n", 1)[0].replace("\n", " ")},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", rule.area.value],
            "precision": PRECISION[rule.confidence],
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }


def _invocation(report: Findings) -> dict[str, object]:
    invocation: dict[str, object] = {"executionSuccessful": not report.errors}
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": message}} for message in report.errors
        ]
    return invocation


def _result(finding: Finding, rule_index: int | None, fingerprint: str) -> dict[str, object]:
    result: dict[str, object] = {"ruleId": finding.rule}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    if finding.status is not None:
        # SARIF's "open": the tool could not tell whether the check passes.
        result["kind"] = "fail" if finding.status == "fail" else "open"
    result.update(
        {
            "level": LEVELS[finding.severity],
            "message": {"text": finding.message},
            "locations": [{"physicalLocation": _physical_location(finding)}],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            "properties": {
                "severity": finding.severity.label,
                "confidence": finding.confidence.label,
            },
        }
    )
    if finding.status is not None:
        properties = result["properties"]
        assert isinstance(properties, dict)
        properties["status"] = finding.status
    if finding.via:
        related = [
            {"id": number, "physicalLocation": _place(place), "message": {"text": place.label}}
            for number, place in enumerate(finding.via, start=1)
        ]
        result["relatedLocations"] = related
        start = {"location": {"physicalLocation": _physical_location(finding)}}
        steps = [{"location": {k: v for k, v in place.items() if k != "id"}} for place in related]
        result["codeFlows"] = [{"threadFlows": [{"locations": [start, *steps]}]}]
    return result


def _place(place: Location) -> dict[str, object]:
    """A step of a finding's chain: in a called file, linked by its URL when it has one."""
    artifact = {"uri": place.uri} if place.uri else artifact_location(place.path)
    return {"artifactLocation": artifact, "region": _region(place.span)}


def _physical_location(finding: Finding) -> dict[str, object]:
    return {"artifactLocation": artifact_location(finding.path), "region": _region(finding.span)}


def _region(span: Span) -> dict[str, int]:
    start, end = span.start, span.end
    end_column = end.column
    if end.line < start.line or (end.line == start.line and end.column <= start.column):
        # A point (a parse error): GitHub wants a region at least one character wide.
        end_line, end_column = start.line, start.column + 1
    else:
        end_line = end.line
    return {
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def artifact_location(path: str) -> dict[str, str]:
    """A URI for a displayed path: relative ones resolve against the checkout (%SRCROOT%).

    A URI names bytes, so the bytes of a file name that is not UTF-8 are percent-encoded as
    they are (``%FF``), and the URI still names the file.
    """
    pure: PurePath = PureWindowsPath(path) if PureWindowsPath(path).drive else PurePosixPath(path)
    if pure.is_absolute():
        prefix = "file:///" if pure.drive else "file://"
        return {"uri": prefix + quote(_name_bytes(pure.as_posix()), safe="/:")}
    return {"uri": quote(_name_bytes(pure.as_posix()), safe="/"), "uriBaseId": SOURCE_ROOT}


def _name_bytes(name: str) -> bytes:
    """The bytes of a file name (a lone surrogate not made from a byte is escaped)."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return escape_text(name).encode("utf-8")


def _fingerprints(findings: list[Finding]) -> list[str]:
    """Stable identities: rule, path, route and message, not the line, so moving code keeps
    an alert's history. Identical findings in one file are told apart by their order."""
    seen: Counter[str] = Counter()
    prints = []
    for finding in findings:
        key = escape_text("\0".join((finding.rule, finding.path, finding.route, finding.message)))
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        seen[digest] += 1
        prints.append(f"{digest}:{seen[digest]}")
    return prints
