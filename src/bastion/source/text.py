"""Source text: where each line starts, and offsets turned into points."""

from __future__ import annotations

import bisect
import re

from bastion.findings import Point, Span

# The line breaks YAML itself recognises, so that our lines agree with the parser's marks.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


class LineIndex:
    """Maps character offsets of a text to 1-based line and column; built on first use."""

    __slots__ = ("_found", "_line_starts", "_line_texts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts: list[int] | None = None
        self._line_texts: dict[int, str] = {}
        self._found: dict[tuple[int, int, str], list[int]] = {}

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

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based line and column (-1 past the last line)."""
        if not 1 <= line <= len(self._starts):
            return -1
        return self._starts[line - 1] + column - 1

    def span(self, start: int, end: int) -> Span:
        return Span(self.point(start), self.point(end))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break (kept: many findings may ask
        for one long line)."""
        found = self._line_texts.get(line)
        if found is not None:
            return found
        if not 1 <= line <= len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self.text)
        # A line holds one break at most, at its end ("\r\n" counts as one).
        text = self.text[start:end].rstrip("\r\n\x85\u2028\u2029")
        self._line_texts[line] = text
        return text

    def occurrence(self, start: int, end: int, needle: str, number: int) -> int:
        """The offset of the ``number``-th (0-based) ``needle`` in ``text[start:end]``, or -1.

        Offsets found are kept, so asking for each of n occurrences in turn costs one scan,
        not n.
        """
        found = self._found.setdefault((start, end, needle), [])
        while len(found) <= number:
            after = found[-1] + 1 if found else start
            at = self.text.find(needle, after, end)
            if at < 0:
                return -1
            found.append(at)
        return found[number]

    @property
    def line_count(self) -> int:
        return len(self._starts)
