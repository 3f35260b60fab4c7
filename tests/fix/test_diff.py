"""The diff of `fix --diff`, built from the engine's changes: exact hunks, and on generated
texts and edits, applying the diff to the original gives the result."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bastion.fix.diff import unified_diff
from bastion.fix.edits import Edit, History, apply_edits

_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@\n")
_NO_NEWLINE = "\n\\ No newline at end of file\n"


def patched(original: str, diff: str) -> str:
    """``original`` with a unified diff applied, checking every context and removed line."""
    old = original.split("\n")
    old = [line + "\n" for line in old[:-1]] + ([old[-1]] if old[-1] else [])
    body = diff.split("\n", 2)[2] if diff else ""
    out: list[str] = []
    position = 0
    for header in _HEADER.finditer(body):
        start = int(header.group(1)) - (0 if header.group(2) == "0" else 1)
        out += old[position:start]
        position = start
        end = body.find("\n@@ -", header.end())
        hunk = body[header.end() : len(body) if end < 0 else end + 1]
        for line in re.findall(r"[ +-][^\n]*(?:\n\\ No newline at end of file\n|\n)", hunk):
            mark, text = line[0], line[1:].replace(_NO_NEWLINE, "")
            if mark in " -":
                assert old[position] == text, (position, old[position], text)
                position += 1
            if mark in " +":
                out.append(text)
    return "".join(out + old[position:])


def test_exact_hunks() -> None:
    original = "".join(f"line {n}\n" for n in range(1, 21))
    edits = [Edit.insert(original.index("line 3"), "new\n"), Edit(7 * 7, 7 * 7 + 6, "LINE 8")]
    history = History(original)
    history.apply(edits)
    result = apply_edits(original, edits)
    assert unified_diff(original, result, history.changes(len(original)), "f.yml") == (
        "--- a/f.yml\n+++ b/f.yml\n@@ -1,11 +1,12 @@\n line 1\n line 2\n+new\n line 3\n"
        " line 4\n line 5\n line 6\n line 7\n-line 8\n+LINE 8\n line 9\n line 10\n line 11\n"
    )


def test_no_changes_no_diff() -> None:
    assert unified_diff("a\n", "a\n", [], "f.yml") == ""


@st.composite
def rounds(draw: st.DrawFn) -> tuple[str, list[list[Edit]]]:
    alphabet = st.sampled_from(["a", "b", "\n", "\r\n", " "])
    text = "".join(draw(st.lists(alphabet, max_size=40)))
    length = len(text)
    found: list[list[Edit]] = []
    for _ in range(draw(st.integers(1, 3))):
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=6)))
        edits: list[Edit] = []
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            if edits and start <= edits[-1].end:
                continue
            edits.append(Edit(start, end, "".join(draw(st.lists(alphabet, max_size=4)))))
        found.append(edits)
        length += sum(len(e.text) - (e.end - e.start) for e in edits)
    return text, found


@given(rounds())
def test_the_diff_turns_the_original_into_the_result(case: tuple[str, list[list[Edit]]]) -> None:
    original, edit_rounds = case
    history = History(original)
    result = original
    for edits in edit_rounds:
        result = apply_edits(result, edits)
        history.apply(edits)
    diff = unified_diff(original, result, history.changes(len(original)), "f.yml")
    assert patched(original, diff) == result
