"""Walks over a node tree: every scalar value under a node, and every ``${{ }}`` in them.

Mapping keys are not visited: GitHub never evaluates expressions in keys. Merge keys are
expanded (through :func:`mapping_pairs`), and a node shared through an alias is visited once
per path that reaches it; :func:`bastion.source.yaml.parse` has already bounded how far
aliases expand, so these walks are bounded too. They use an explicit stack, never recursion.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterator

from bastion.findings import Span
from bastion.model.expressions import Embedded, find_expressions
from bastion.source.text import LineIndex
from bastion.source.yaml import (
    Document,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    mapping_pairs,
    node_span,
)

__all__ = [
    "expression_span",
    "iter_expressions",
    "iter_scalars",
    "locate",
    "mentioning",
    "scalars_containing",
    "value_offset",
    "value_span",
]


def iter_scalars(
    node: Node, route: str = "", keep: Callable[[Node], bool] | None = None
) -> Iterator[tuple[str, ScalarNode]]:
    """Every scalar value under ``node`` (itself included), in document order, with its route.

    A route extends ``route`` with mapping keys and sequence indexes: ``env/TOKEN``,
    ``steps/2/run``. With ``keep``, a node it refuses is skipped with all it holds.
    """
    if keep is not None and not keep(node):
        return
    stack: list[tuple[str, Node]] = [(route, node)]
    while stack:  # children are judged by ``keep`` before their routes are built
        where, current = stack.pop()
        if isinstance(current, ScalarNode):
            yield where, current
        elif isinstance(current, MappingNode):
            children = [
                (_join(where, key.value if isinstance(key, ScalarNode) else "?"), value)
                for key, value in mapping_pairs(current)
                if keep is None or keep(value)
            ]
            stack.extend(reversed(children))
        elif isinstance(current, SequenceNode):
            items = [
                (_join(where, str(index)), item)
                for index, item in enumerate(current.value)
                if keep is None or keep(item)
            ]
            stack.extend(reversed(items))


def scalars_containing(document: Document, needle: str) -> list[ScalarNode]:
    """Every scalar value (not key) of the document whose value holds ``needle``, once each,
    in the order :func:`iter_scalars` first reaches it.

    Subtrees whose source text lacks ``needle`` are skipped (unless aliases bring in text
    from elsewhere), and a node reached again through an alias is not walked again.
    """
    text = document.text
    if needle not in text:
        return []
    if document.aliased:
        return _scalars_containing_shared(document, needle)
    starts = [match.start() for match in re.finditer(re.escape(needle), text)]
    count = len(starts)
    merges = "<<" in text
    bisect_left = bisect.bisect_left
    found: list[ScalarNode] = []
    root = document.root
    at = bisect_left(starts, root.start_mark.index)
    stack: list[Node] = [root] if at < count and starts[at] < root.end_mark.index else []
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        if isinstance(node, ScalarNode):
            if needle in node.value:
                found.append(node)
            continue
        if isinstance(node, MappingNode):
            children = [value for _, value in (mapping_pairs(node) if merges else node.value)]
        elif isinstance(node, SequenceNode):
            children = node.value
        else:  # pragma: no cover - the composer makes no other kinds
            continue
        # Only children whose source text holds the needle (and scalars whose value does).
        extend(
            reversed(
                [
                    child
                    for child in children
                    if (type(child) is not ScalarNode or needle in child.value)
                    and (at := bisect_left(starts, child.start_mark.index)) < count
                    and starts[at] < child.end_mark.index
                ]
            )
        )
    return found


def _scalars_containing_shared(document: Document, needle: str) -> list[ScalarNode]:
    """:func:`scalars_containing` for a document with aliases, whose text says nothing."""
    found: list[ScalarNode] = []
    seen: set[int] = set()
    stack: list[Node] = [document.root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if needle in node.value:
                found.append(node)
        elif isinstance(node, MappingNode):
            stack.extend(reversed([value for _, value in mapping_pairs(node)]))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))
    return found


def mentioning(document: Document, needle: str) -> Callable[[Node], bool] | None:
    """A ``keep`` for :func:`iter_scalars`: whether a node's source text holds ``needle``
    (in any case), found with one scan of the file. None (keep everything) when aliases
    bring in text from elsewhere."""
    if document.aliased:
        return None
    text = document.text
    lowered = text.lower()
    if len(lowered) == len(text):  # each character lowered to one: offsets are the text's
        starts = [found.start() for found in re.finditer(re.escape(needle.lower()), lowered)]
    else:
        starts = [found.start() for found in re.finditer(re.escape(needle), text, re.I)]

    def keep(node: Node) -> bool:
        at = bisect.bisect_left(starts, node.start_mark.index)
        return at < len(starts) and starts[at] < node.end_mark.index

    return keep


def iter_expressions(node: Node) -> Iterator[tuple[ScalarNode, Embedded]]:
    """Each ``${{ }}`` occurrence in every scalar value under ``node``, in document order.

    ``Embedded`` offsets index the scalar's *value* (``scalar.value``); turn one into a place
    in the file with :func:`expression_span`.
    """
    for _, scalar in iter_scalars(node):
        if "${{" in scalar.value:
            for embedded in find_expressions(scalar.value):
                yield scalar, embedded


def expression_span(lines: LineIndex, scalar: ScalarNode, embedded: Embedded) -> Span:
    """Where ``embedded`` (found in ``scalar.value``) is written in the file.

    Falls back to the scalar's own span when the expression is not written verbatim (a
    folded line break or an escape inside it).
    """
    return value_span(lines, scalar, embedded.start, embedded.end)


def value_span(lines: LineIndex, node: ScalarNode, start: int, end: int) -> Span:
    """Where ``node.value[start:end]`` is written; the node's own span when it is not
    written verbatim."""
    written = value_offset(lines, node, start, end)
    return lines.span(written, written + end - start) if written >= 0 else node_span(node)


@functools.lru_cache(maxsize=256)
def _starts(value: str, needle: str) -> list[int]:
    """Every offset of ``needle`` in ``value``, overlapping ones too (as :func:`locate` counts
    them); kept, so that placing each of many equal expressions costs one scan."""
    found: list[int] = []
    at = value.find(needle)
    while at >= 0:
        found.append(at)
        at = value.find(needle, at + 1)
    return found


def value_offset(lines: LineIndex, node: ScalarNode, start: int, end: int) -> int:
    """The file offset where ``node.value[start:end]`` is written, or -1 when it is not
    written verbatim (folded, escaped, or broken over indented lines)."""
    written = _literal_offset(lines, node, start, end)
    if written >= 0:
        return written
    needle = node.value[start:end]
    occurrence = bisect.bisect_left(_starts(node.value, needle), start)
    return lines.occurrence(node.start_mark.index, node.end_mark.index, needle, occurrence)


def _literal_offset(lines: LineIndex, node: ScalarNode, start: int, end: int) -> int:
    """For a literal block scalar (``run: |``), where ``value[start:end]`` is written,
    computed from its line and column: the value's lines are the file's lines after the
    header, less a fixed indentation. -1 for other scalars, for a piece that spans lines,
    or when the file's text there is not the piece."""
    piece = node.value[start:end]
    if node.style != "|" or "\n" in piece:
        return -1
    value_lines = _block_lines(node.value)
    if value_lines is None:
        return -1
    first_line = node.start_mark.line + 2  # the line after the header, 1-based
    blank = len(node.value) - len(node.value.lstrip("\n"))  # leading empty lines
    sample = value_lines.line_text(blank + 1)
    raw = lines.line_text(first_line + blank)
    indent = (len(raw) - len(raw.lstrip(" "))) - (len(sample) - len(sample.lstrip(" ")))
    point = value_lines.point(start)
    written = lines.offset(first_line + point.line - 1, indent + point.column)
    if indent < 0 or written < 0 or lines.text[written : written + len(piece)] != piece:
        return -1
    return written


@functools.lru_cache(maxsize=64)
def _block_lines(value: str) -> LineIndex | None:
    """The lines of a block scalar's value; None when it holds a line break other than
    ``\n`` (its lines might not be the file's)."""
    if "\r" in value or "\x85" in value or "\u2028" in value or "\u2029" in value:
        return None
    return LineIndex(value)


def locate(lines: LineIndex, node: Node, needle: str, occurrence: int = 0) -> Span:
    """The span of ``needle`` as written inside ``node``'s source text.

    Scalars lose their quoting, escapes and indentation when parsed, so the place of a piece
    of their *value* is found by searching the node's raw text. When the text is not there
    verbatim (it was folded or escaped), the node's own span is the answer.
    """
    found = lines.occurrence(node.start_mark.index, node.end_mark.index, needle, occurrence)
    if found < 0:
        return node_span(node)
    return lines.span(found, found + len(needle))


def _join(route: str, part: str) -> str:
    return f"{route}/{part}" if route else part
