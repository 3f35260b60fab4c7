"""The human report: layout, caret alignment, safe display of source text, summary."""

from __future__ import annotations

import io

from bastion.engine import Report
from bastion.findings import Confidence, Finding, Point, Severity, Span
from bastion.render import human


def _finding(
    line: int,
    column: int,
    end_line: int,
    end_column: int,
    *,
    severity: Severity = Severity.HIGH,
    confidence: Confidence = Confidence.HIGH,
    message: str = "bad",
    path: str = "w.yml",
) -> Finding:
    span = Span(Point(line, column), Point(end_line, end_column))
    return Finding("rule-id", severity, confidence, message, path, span)


def _render(report: Report, *, color: bool = False) -> str:
    out = io.StringIO()
    human.render(report, out, color=color)
    return out.getvalue()


def _excerpt(source: str, finding: Finding) -> list[str]:
    """The source and caret lines shown for a finding on ``source``."""
    report = Report([finding], 1, [], {"w.yml": {finding.span.start.line: source}})
    lines = _render(report).splitlines()
    return lines[2:4]


def test_layout() -> None:
    finding = _finding(3, 3, 3, 22, message="`pull_request_target` is banned")
    report = Report([finding], 2, [], {"w.yml": {3: "  pull_request_target:"}})
    assert _render(report) == (
        "w.yml:3:3: high[rule-id] `pull_request_target` is banned\n"
        "  |\n"
        "3 |   pull_request_target:\n"
        "  |   ^^^^^^^^^^^^^^^^^^^\n"
        "\n"
        "1 finding (1 high) in 1 file (2 files checked)\n"
    )


def test_gutter_widens_with_the_line_number() -> None:
    assert _excerpt("x: y", _finding(120, 1, 120, 2)) == ["120 | x: y", "    | ^"]


def test_caret_after_a_tab_and_wide_characters() -> None:
    source = "\tkey: 名前 ${{ x }}"
    start = source.index("$") + 1
    finding = _finding(1, start, 1, start + len("${{ x }}"))
    # The tab fills to the next stop of 4 cells; each CJK character takes two cells.
    assert _excerpt(source, finding) == [
        "1 |     key: 名前 ${{ x }}",
        "  |               ^^^^^^^^",
    ]


def test_caret_under_wide_characters() -> None:
    source = "name: 构建 and 测试"
    start = source.index("测") + 1
    assert _excerpt(source, _finding(1, start, 1, start + 2)) == [
        "1 | name: 构建 and 测试",
        "  |                ^^^^",
    ]


def test_tab_stops_depend_on_the_column() -> None:
    source = "ab\tc\t\td"
    start = source.index("d") + 1
    assert _excerpt(source, _finding(1, start, 1, start + 1)) == [
        "1 | ab  c       d",
        "  |             ^",
    ]


def test_a_span_over_a_tab_covers_its_cells() -> None:
    assert _excerpt("a\tb", _finding(1, 2, 1, 4)) == ["1 | a   b", "  |  ^^^^"]


def test_multi_line_span_is_underlined_to_the_end_of_its_first_line() -> None:
    assert _excerpt("  run: |", _finding(4, 3, 9, 1)) == ["4 |   run: |", "  |   ^^^^^^"]


def test_point_gets_one_caret_even_past_the_end_of_the_line() -> None:
    assert _excerpt("a: b", _finding(1, 3, 1, 3)) == ["1 | a: b", "  |   ^"]
    assert _excerpt("a: 'b", _finding(1, 7, 1, 7)) == ["1 | a: 'b", "  |       ^"]


def test_control_characters_cannot_reach_the_terminal() -> None:
    source = "x: \x1b[31mred \u202eevil"
    start = source.index("e", source.index("\u202e")) + 1
    lines = _excerpt(source, _finding(1, start, 1, start + 4))
    assert lines == [
        "1 | x: \u241b[31mred <U+202E>evil",
        "  |                     ^^^^",
    ]
    report = Report([_finding(1, 1, 1, 2, message="m\x07\n", path="p\x1b.yml")], 1, [])
    assert "\x1b" not in _render(report)
    assert "\x07" not in _render(report)


def test_finding_without_source_shows_only_its_header() -> None:
    report = Report([_finding(1, 1, 1, 1, message="the file is binary")], 1, [])
    assert _render(report) == (
        "w.yml:1:1: high[rule-id] the file is binary\n\n"
        "1 finding (1 high) in 1 file (1 file checked)\n"
    )


def test_confidence_is_shown_only_when_not_high() -> None:
    findings = [
        _finding(1, 1, 1, 2, confidence=Confidence.HIGH),
        _finding(2, 1, 2, 2, confidence=Confidence.MEDIUM),
        _finding(3, 1, 3, 2, confidence=Confidence.LOW, severity=Severity.LOW),
    ]
    headers = [
        line for line in _render(Report(findings, 1, [])).splitlines() if "[rule-id]" in line
    ]
    assert headers == [
        "w.yml:1:1: high[rule-id] bad",
        "w.yml:2:1: high[rule-id] bad (medium confidence)",
        "w.yml:3:1: low[rule-id] bad (low confidence)",
    ]


def _summary(findings: list[Finding], files: int) -> str:
    tally = human.Tally(files)
    tally.add(findings)
    return human.summary(tally)


def test_summary() -> None:
    assert _summary([], 0) == "No findings in 0 files"
    assert _summary([], 1) == "No findings in 1 file"
    findings = [
        _finding(1, 1, 1, 2, severity=severity)
        for severity in (Severity.INFO, Severity.HIGH, Severity.MEDIUM, Severity.HIGH)
    ]
    assert _summary(findings, 3) == (
        "4 findings (2 high, 1 medium, 1 info) in 1 file (3 files checked)"
    )
    other = findings[0]._replace(path="other.yml")
    assert _summary([*findings, other], 12) == (
        "5 findings (2 high, 1 medium, 2 info) in 2 files (12 files checked)"
    )


def test_the_summary_counts_every_group_of_a_report() -> None:
    # A held report's findings of one path may come in more than one run (not sorted).
    first, second = _finding(1, 1, 1, 2), _finding(2, 1, 2, 2)
    other = first._replace(path="other.yml")
    text = _render(Report([first, other, second], 2, []))
    assert text.endswith("3 findings (3 high) in 2 files (2 files checked)\n")


def test_color_only_when_asked() -> None:
    report = Report([_finding(1, 1, 1, 2)], 1, [], {"w.yml": {1: "a: b"}})
    assert "\x1b[" not in _render(report, color=False)
    colored = _render(report, color=True)
    assert "\x1b[1;31mhigh\x1b[0m" in colored
    assert "\x1b[1;31m^\x1b[0m" in colored
    assert colored.endswith("\x1b[0m\n")
