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
