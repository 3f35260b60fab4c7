"""Text edits: replace ``text[start:end]`` with new text, leaving every other byte alone."""

from __future__ import annotations

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


def conflict(edits: Sequence[Edit], taken: Iterable[Edit]) -> bool:
    """Whether any of ``edits`` touches any of ``taken``."""
    return any(edit.touches(other) for other in taken for edit in edits)


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
