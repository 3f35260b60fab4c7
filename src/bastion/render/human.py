"""The report for people: each finding with its source line and a caret under the span.

```
path/to/file.yml:3:3: high[rule-id] message
  |
3 |   pull_request_target:
  |   ^^^^^^^^^^^^^^^^^^^
```

Source text is shown safely: tabs are expanded to fixed stops, control and bidirectional
characters are made visible (a file must not be able to drive the terminal or hide text),
and the caret line is measured in terminal cells, so wide characters keep it aligned.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import TextIO

from bastion.engine import Findings
from bastion.findings import Confidence, Finding, Severity, escape_text
from bastion.render import Writer

TAB_STOP = 4
EXCERPT_CHARACTERS = 240
"""Lines longer than this are shown cut to a window around the finding."""
EXCERPT_CONTEXT = 60
"""Characters of a cut line kept before and after the span."""

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_GUTTER = "\x1b[1;34m"
_SEVERITY_STYLE = {
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[1;33m",
    Severity.LOW: "\x1b[1;36m",
    Severity.INFO: "\x1b[1;37m",
}

# Characters that reorder the text around them ("Trojan Source"): shown by code point.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


class _Style:
    def __init__(self, *, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color and text else text


class Tally:
    """What the summary line counts, added up as the findings are written."""

    __slots__ = ("files", "paths", "severities")

    def __init__(self, files: int) -> None:
        self.files = files
        """Files checked."""
        self.severities: Counter[Severity] = Counter()
        self.paths: set[str] = set()
        """The paths that have findings."""

    def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.severities[finding.severity] += 1
            self.paths.add(finding.path)


def render(report: Findings, out: TextIO, *, color: bool) -> None:
    style = _Style(color=color)
    writer = Writer(out)
    add = writer.pieces.append
    tally = Tally(report.files)
    for group in report.groups():
        lines = group.lines
        for finding in group.findings:
            add(_header(finding, style) + "\n")
            source = lines.get(finding.span.start.line)
            if source is not None:
                add(_excerpt(finding, source, style))
            add("\n")
        tally.add(group.findings)
        writer.spill()
    writer.write(style(_BOLD, summary(tally)) + "\n")
    writer.flush()


def _header(finding: Finding, style: _Style) -> str:
    start = finding.span.start
    if finding.status is not None:
        # A setting read through the API: the place is a repository, not a line.
        place = style(_BOLD, f"{visible(finding.path)}:")
        if finding.status != "fail":
            place += " " + style(_DIM, finding.status)
    else:
        place = style(_BOLD, f"{visible(finding.path)}:{start.line}:{start.column}:")
    severity = style(_SEVERITY_STYLE[finding.severity], finding.severity.label)
    rule = style(_DIM, f"[{finding.rule}]")
    text = f"{place} {severity}{rule} {visible(finding.message)}"
    if finding.confidence < Confidence.HIGH:
        text += " " + style(_DIM, f"({finding.confidence.label} confidence)")
    return text


def _excerpt(finding: Finding, source: str, style: _Style) -> str:
    start, end = finding.span.start, finding.span.end
    first = max(0, start.column - 1)
    last = end.column - 1 if end.line == start.line else len(source)
    if len(source) > EXCERPT_CHARACTERS:
        # A long line is shown around the span only ("..." marks what is cut), so that
        # many findings on one huge line cost a window each, not the whole line each.
        begin = max(0, first - EXCERPT_CONTEXT)
        stop = min(len(source), max(last, first + 1) + EXCERPT_CONTEXT, begin + EXCERPT_CHARACTERS)
        lead = "\u2026" if begin else ""
        tail = "\u2026" if stop < len(source) else ""
        first, last = first - begin + len(lead), min(last, stop) - begin + len(lead)
        source = lead + source[begin:stop] + tail
    cells = [_cell(char) for char in source]
    # The caret may sit past the end of the line (an error at the end of the text).
    padding = max(0, first - len(cells))
    cells.extend(" " for _ in range(padding))
    line, offsets = _lay_out(cells)
    indent = offsets[min(first, len(cells))]
    width = max(1, offsets[min(max(last, first), len(cells))] - indent)
    number = str(start.line)
    bar = style(_GUTTER, " " * len(number) + " |")
    caret = style(_SEVERITY_STYLE[finding.severity], "^" * width)
    numbered = style(_GUTTER, f"{number} |")
    return f"{bar}\n{numbered} {line.rstrip()}\n{bar} {' ' * indent}{caret}\n"


def _lay_out(cells: list[str]) -> tuple[str, list[int]]:
    """The displayed line, and the terminal column where each character starts."""
    parts: list[str] = []
    offsets = [0]
    column = 0
    for cell in cells:
        text = " " * (TAB_STOP - column % TAB_STOP) if cell == "\t" else cell
        parts.append(text)
        column += _width(text)
        offsets.append(column)
    return "".join(parts), offsets


def _cell(char: str) -> str:
    """How one source character is displayed (a tab stays a tab until laid out)."""
    if char == "\t":
        return char
    if char in _BIDI_CONTROLS:
        return f"<U+{ord(char):04X}>"
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"}:
        return "\ufffd"
    return char


def visible(text: str) -> str:
    """Text with every character a terminal would act on made visible (and lone surrogates
    escaped, as everywhere: :func:`~bastion.findings.escape_text`)."""
    return "".join(" " if char == "\t" else _cell(char) for char in escape_text(text))


def _width(text: str) -> int:
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in {"Mn", "Me", "Cf"}:
            continue
        width += 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1
    return width


def summary(tally: Tally) -> str:
    """``No findings in 12 files``, or ``3 findings (2 high, 1 medium) in 2 files (12 files
    checked)``: the files that have findings, then the files read."""
    checked = _count(tally.files, "file")
    counts = tally.severities
    total = sum(counts.values())
    if not total:
        return f"No findings in {checked}"
    parts = [
        f"{counts[severity]} {severity.label}"
        for severity in sorted(Severity, reverse=True)
        if counts[severity]
    ]
    found = _count(len(tally.paths), "file")
    return f"{_count(total, 'finding')} ({', '.join(parts)}) in {found} ({checked} checked)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
