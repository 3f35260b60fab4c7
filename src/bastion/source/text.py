"""Source text: where each line starts, and offsets turned into points."""

from __future__ import annotations

import bisect
import itertools
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
        starts = self._line_starts
        if starts is None:
            starts = self._line_starts = _line_starts(self.text)
        return starts

    def point(self, offset: int) -> Point:
        starts = self._starts
        line = bisect.bisect_right(starts, offset) - 1
        return Point(line + 1, offset - starts[line] + 1)

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based line and column (-1 past the last line)."""
        starts = self._starts
        if not 1 <= line <= len(starts):
            return -1
        return starts[line - 1] + column - 1

    def span(self, start: int, end: int) -> Span:
        return Span(self.point(start), self.point(end))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break (kept: many findings may ask
        for one long line)."""
        found = self._line_texts.get(line)
        if found is not None:
            return found
        starts = self._starts
        if not 1 <= line <= len(starts):
            return ""
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
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


# Besides YAML's line breaks, str.splitlines also breaks at these; without any of them in a
# text, its pieces are YAML's lines.
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e")
_YAML_BREAKS = frozenset("\r\n\x85\u2028\u2029")


def _line_starts(text: str) -> list[int]:
    """The offset of each line's first character: 0, then one after each line break."""
    if any(other in text for other in _OTHER_BREAKS):
        return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
    starts = [0, *itertools.accumulate(map(len, text.splitlines(keepends=True)))]
    if text and text[-1] not in _YAML_BREAKS:
        starts.pop()  # the end of a last line without a break starts no line
    return starts
