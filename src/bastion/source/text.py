"""Source text: where each line starts, and offsets turned into points."""

from __future__ import annotations

import bisect
import re

from bastion.findings import Point, Span

# The line breaks YAML itself recognises, so that our lines agree with the parser's marks.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


class LineIndex:
    """Maps character offsets of a text to 1-based line and column."""

    __slots__ = ("_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def point(self, offset: int) -> Point:
        line = bisect.bisect_right(self._starts, offset) - 1
        return Point(line + 1, offset - self._starts[line] + 1)

    def span(self, start: int, end: int) -> Span:
        return Span(self.point(start), self.point(end))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if not 1 <= line <= len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self.text)
        return _LINE_BREAK.sub("", self.text[start:end])

    @property
    def line_count(self) -> int:
        return len(self._starts)
