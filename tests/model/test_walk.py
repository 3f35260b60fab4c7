from __future__ import annotations

import pytest

from bastion.findings import Point, Span
from bastion.model.walk import value_span
from bastion.source.text import LineIndex
from bastion.source.yaml import MappingNode, ScalarNode, parse


def _run(text: str) -> tuple[LineIndex, ScalarNode]:
    document = parse(text)
    assert isinstance(document.root, MappingNode)
    node = document.root.value[0][1]
    assert isinstance(node, ScalarNode)
    return LineIndex(text), node


@pytest.mark.parametrize(
    ("text", "piece", "occurrence", "where"),
    [
        ("run: |\n  echo a\n  echo b\n", "echo b", 0, Span(Point(3, 3), Point(3, 9))),
        ("run: | # note\n\n\n    x\n      echo b\n", "echo b", 0, Span(Point(5, 7), Point(5, 13))),
        ("run: |2\n     indented\n   echo\n", "echo", 0, Span(Point(3, 4), Point(3, 8))),
        ("run: |\n  a a\n  a\n", "a", 2, Span(Point(3, 3), Point(3, 4))),
        # Not a literal block: placed by searching the node's text.
        ("run: >\n  echo a\n  echo b\n", "echo b", 0, Span(Point(3, 3), Point(3, 9))),
        ('run: "echo \\u0061 b"\n', "a b", 0, Span(Point(1, 6), Point(1, 21))),
    ],
)
def test_value_span(text: str, piece: str, occurrence: int, where: Span) -> None:
    lines, node = _run(text)
    start = -1
    for _ in range(occurrence + 1):
        start = node.value.index(piece, start + 1)
    assert value_span(lines, node, start, start + len(piece)) == where
