"""Line starts agree with the line breaks YAML recognises, whatever else the text holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.findings import Point
from bastion.source.text import LineIndex

_BREAKS = ("\r\n", "\r", "\n", "\x85", "\u2028", "\u2029")


def _reference_starts(text: str) -> list[int]:
    starts = [0]
    offset = 0
    while offset < len(text):
        width = next((len(b) for b in _BREAKS if text.startswith(b, offset)), 0)
        offset += width or 1
        if width:
            starts.append(offset)
    return starts


_TEXT = st.lists(
    st.sampled_from(["a", "é", " ", "\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x85", "\u2028"])
).map("".join)


@settings(max_examples=500)
@given(st.one_of(_TEXT, st.text()))
def test_lines_start_after_each_yaml_line_break(text: str) -> None:
    lines = LineIndex(text)
    starts = _reference_starts(text)
    assert lines.line_count == len(starts)
    for number, start in enumerate(starts, 1):
        assert lines.offset(number, 1) == start
        assert lines.point(start) == Point(number, 1)


def test_a_text_without_a_final_break() -> None:
    lines = LineIndex("on: push\njobs: {}")
    assert lines.line_count == 2
    assert lines.line_text(2) == "jobs: {}"
    assert lines.point(len(lines.text)) == Point(2, 9)
    assert LineIndex("").line_count == 1
    assert LineIndex("x\n").line_count == 2
