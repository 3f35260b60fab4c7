from __future__ import annotations

import pytest

from bastion.findings import Point, Span
from bastion.model.walk import iter_scalars, mentioning, scalars_containing, value_span
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


def _reference_scalars(text: str, needle: str) -> list[int]:
    """What the expression check found before scalars_containing: iter_scalars kept by
    mentioning, each scalar once (start offsets, to compare)."""
    document = parse(text)
    seen: list[int] = []
    for _, scalar in iter_scalars(document.root, keep=mentioning(document, needle)):
        if needle in scalar.value and scalar.start_mark.index not in seen:
            seen.append(scalar.start_mark.index)
    return seen


@pytest.mark.parametrize(
    "text",
    [
        "a: ${{ x }}\nb: [1, '${{ y }}', {c: '${{ z }}'}]\n'${{ key }}': no\n",
        "# ${{ only in a comment }}\na: 1\n",
        "base: &base {run: '${{ a }}', name: b}\njob: {<<: *base, run: '${{ c }}'}\nagain: *base\n",
        "job: {<<: {run: '${{ merged }}'}, own: '${{ own }}'}\n",
        'escaped: "$\\x7b{ not written }}"\nwritten: ${{ yes }}\n',
        "${{ root }}\n",
        "list:\n  - ${{ a }}\n  - - ${{ b }}\n    - c\n",
    ],
)
def test_scalars_containing_finds_what_the_generic_walk_found(text: str) -> None:
    found = scalars_containing(parse(text), "${{")
    assert [scalar.start_mark.index for scalar in found] == _reference_scalars(text, "${{")
