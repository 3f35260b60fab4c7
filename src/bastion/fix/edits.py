"""Text edits: replace ``text[start:end]`` with new text, leaving every other byte alone."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Edit:
    start: int
    end: int
    text: str

    @classmethod
    def insert(cls, offset: int, text: str) -> Edit:
        return cls(offset, offset, text)

    def touches(self, other: Edit) -> bool:
        """Whether the two edits cannot both apply: their ranges overlap, or they insert at
        the same offset (their order would be a guess)."""
        if self.start == self.end or other.start == other.end:
            return self.start <= other.end and other.start <= self.end
        return self.start < other.end and other.start < self.end


class Taken:
    """Edits already chosen, sorted, so that whether a new one touches any of them is a
    binary search rather than a pass over all."""

    def __init__(self) -> None:
        self._edits: list[Edit] = []

    def touches(self, edits: Sequence[Edit]) -> bool:
        """Whether any of ``edits`` touches any edit taken."""
        for edit in edits:
            # An edit taken can touch this one only if it starts at or before its end; the
            # ones taken do not touch one another, so their ends rise with their starts and
            # the walk back stops at the first that ends before this one starts.
            at = bisect.bisect_right(self._edits, (edit.end, _AFTER), key=_bounds)
            while at > 0 and self._edits[at - 1].end >= edit.start:
                at -= 1
                if edit.touches(self._edits[at]):
                    return True
        return False

    def add(self, edits: Sequence[Edit]) -> None:
        for edit in edits:
            bisect.insort(self._edits, edit)


_AFTER = float("inf")


def _bounds(edit: Edit) -> tuple[int, float]:
    return (edit.start, edit.end)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with every edit applied; the edits must not touch one another."""
    ordered = sorted(edits)
    for before, after in itertools.pairwise(ordered):
        if before.touches(after):
            raise ValueError(f"edits overlap: {before} and {after}")
    parts: list[str] = []
    position = 0
    for edit in ordered:
        if not 0 <= edit.start <= edit.end <= len(text) or edit.start < position:
            raise ValueError(f"edit out of range: {edit}")
        parts.append(text[position : edit.start])
        parts.append(edit.text)
        position = edit.end
    parts.append(text[position:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Change:
    """A stretch ``original[start:end]`` that became ``result[new_start:new_end]``; the text
    between changes is the same in both."""

    start: int
    end: int
    new_start: int
    new_end: int


class History:
    """The edits of successive rounds, composed into changes of the original text.

    The current text is kept as pieces: a stretch of the original (``(start, end)``) or
    new text (a string). Applying a round walks the pieces once, so tracking costs time in
    proportion to the pieces and edits, not to the text.
    """

    def __init__(self, original: str) -> None:
        self._pieces: list[tuple[int, int] | str] = [(0, len(original))] if original else []
        self._length = len(original)

    def apply(self, edits: Iterable[Edit]) -> None:
        """Record a round: ``edits`` are in the coordinates of the text before it."""
        pieces: list[tuple[int, int] | str] = []
        queue = list(reversed(self._pieces))
        position = 0  # where the next piece in ``queue`` starts in the current text

        def take(upto: int, *, keep: bool) -> None:
            nonlocal position
            while position < upto and queue:
                piece = queue.pop()
                size = piece[1] - piece[0] if isinstance(piece, tuple) else len(piece)
                cut = upto - position
                if size > cut:  # split it: the rest waits for the next call
                    head: tuple[int, int] | str
                    rest: tuple[int, int] | str
                    if isinstance(piece, tuple):
                        head, rest = (piece[0], piece[0] + cut), (piece[0] + cut, piece[1])
                    else:
                        head, rest = piece[:cut], piece[cut:]
                    queue.append(rest)
                    piece, size = head, cut
                if keep:
                    pieces.append(piece)
                position += size

        for edit in sorted(edits):
            take(edit.start, keep=True)
            take(edit.end, keep=False)
            if edit.text:
                pieces.append(edit.text)
        take(self._length, keep=True)
        self._pieces = pieces
        self._length = sum(p[1] - p[0] if isinstance(p, tuple) else len(p) for p in pieces)

    def changes(self, original_length: int) -> list[Change]:
        """Every change of the original, in order."""
        found: list[Change] = []
        source = result = 0  # the original and result offsets reached
        pending: tuple[int, int] | None = None  # where an open change began
        for piece in self._pieces:
            if isinstance(piece, str):
                pending = pending or (source, result)
                result += len(piece)
                continue
            start, end = piece
            if start > source:
                pending = pending or (source, result)
            if pending is not None:
                found.append(Change(pending[0], start, pending[1], result))
                pending = None
            result += end - start
            source = end
        if pending is not None or source < original_length:
            begun = pending or (source, result)
            found.append(Change(begun[0], original_length, begun[1], result))
        return found
