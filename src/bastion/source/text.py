"""Source text: where each line starts, and offsets turned into points."""

from __future__ import annotations

import bisect
import re

from bastion.findings import Point, Span

# The line breaks YAML itself recognises, so that our lines agree with the parser's marks.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


class LineIndex:
    """Maps character offsets of a text to 1-based line and column; built on first use."""

    __slots__ = ("_line_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts: list[int] | None = None

    @property
    def _starts(self) -> list[int]:
        if self._line_starts is None:
            text = self.text
            if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
                ends = [match.end() for match in _LINE_BREAK.finditer(text)]
            else:
                ends = []
                found = text.find("\n")
                while found >= 0:
                    ends.append(found + 1)
                    found = text.find("\n", found + 1)
            self._line_starts = [0, *ends]
        return self._line_starts

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
