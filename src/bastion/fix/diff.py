"""A unified diff of a fixed file, built from the changes the fix made.

The fix engine knows where the text changed (:class:`~bastion.fix.edits.Change`), so the
diff does not have to search for it: each change is widened to whole lines, only those
lines are compared (with :mod:`difflib`, to keep the hunks as small as it makes them), and
the equal text between changes is context. The cost follows the size of the changes, not
the square of the file's.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterator, Sequence

from bastion.fix.edits import Change

CONTEXT = 3

Op = tuple[int, int, int, int]
"""Original lines ``[i1, i2)`` became result lines ``[j1, j2)``."""


def unified_diff(original: str, result: str, changes: Sequence[Change], name: str) -> str:
    """``git apply``-able text turning ``original`` into ``result`` (empty when equal)."""
    if original == result:
        return ""
    old, new = _lines(original), _lines(result)
    old_starts, new_starts = _starts(old), _starts(new)
    ops: list[Op] = []
    for start, end, new_start, new_end in _line_blocks(original, result, changes):
        i1, i2 = _line(old_starts, start), _line(old_starts, end)
        j1, j2 = _line(new_starts, new_start), _line(new_starts, new_end)
        matcher = difflib.SequenceMatcher(None, old[i1:i2], new[j1:j2], autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            if tag != "equal":
                ops.append((i1 + a1, i1 + a2, j1 + b1, j1 + b2))
    out = [f"--- a/{name}\n", f"+++ b/{name}\n"]
    for hunk in _hunks(ops):
        out.extend(_hunk(hunk, old, new))
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines as git sees them: ended by a line feed (a carriage return stays in the line)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _line(starts: list[int], offset: int) -> int:
    """The number of the line that starts at ``offset`` (a line boundary)."""
    return bisect.bisect_left(starts, offset)


def _at_line_start(text: str, offset: int) -> bool:
    return offset in (0, len(text)) or text[offset - 1] == "\n"


def _line_blocks(original: str, result: str, changes: Sequence[Change]) -> Iterator[Op]:
    """The changes widened to whole lines on both sides, merged where they meet. Offsets:
    ``(start, end, new_start, new_end)`` of text, each at a line boundary."""
    block: list[int] | None = None
    for change in changes:
        before = change.start - _line_begin(original, change.start)
        start, new_start = change.start - before, change.new_start - before
        after = 0
        if not (_at_line_start(original, change.end) and _at_line_start(result, change.new_end)):
            line_end = original.find("\n", change.end)
            after = (len(original) if line_end < 0 else line_end + 1) - change.end
        end, new_end = change.end + after, change.new_end + after
        if block is not None and start <= block[1]:
            block[1], block[3] = end, new_end  # it meets the one before: one block
            continue
        if block is not None:
            yield (block[0], block[1], block[2], block[3])
        block = [start, end, new_start, new_end]
    if block is not None:
        yield (block[0], block[1], block[2], block[3])


def _line_begin(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _hunks(ops: list[Op]) -> Iterator[list[Op]]:
    """The changed line ranges, grouped: two closer than twice the context share a hunk."""
    group: list[Op] = []
    for op in ops:
        if group and op[0] - group[-1][1] > 2 * CONTEXT:
            yield group
            group = []
        group.append(op)
    if group:
        yield group


def _hunk(ops: list[Op], old: list[str], new: list[str]) -> Iterator[str]:
    first, last = ops[0], ops[-1]
    old_start = max(0, first[0] - CONTEXT)
    old_end = min(len(old), last[1] + CONTEXT)
    new_start = first[2] - (first[0] - old_start)
    new_end = last[3] + (old_end - last[1])
    yield f"@@ -{_range(old_start, old_end)} +{_range(new_start, new_end)} @@\n"
    position = old_start
    for i1, i2, j1, j2 in ops:
        yield from _marked(" ", old[position:i1])
        yield from _marked("-", old[i1:i2])
        yield from _marked("+", new[j1:j2])
        position = i2
    yield from _marked(" ", old[position:old_end])


def _range(start: int, end: int) -> str:
    """A hunk header's range: 1-based first line and count (an empty range names the line
    before it)."""
    count = end - start
    if count == 1:
        return str(start + 1)
    return f"{start + 1 if count else start},{count}"


def _marked(mark: str, lines: list[str]) -> Iterator[str]:
    for line in lines:
        yield mark + line
        if not line.endswith("\n"):
            yield "\n\\ No newline at end of file\n"
