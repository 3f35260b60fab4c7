"""YAML read the way GitHub reads it, with the exact span of every node.

PyYAML's composer (the libyaml C parser where it is installed) builds a node tree that
keeps the start and end mark of every node and the quote style of every scalar. We never
construct Python objects with the YAML 1.1 resolver: ``on`` stays the string "on" and
``yes`` stays "yes". Scalars are typed on demand by :func:`scalar_value`, following the
YAML 1.2 core schema that GitHub's parser uses.

Aliases share one node object, so a "billion laughs" document costs no memory to load;
:func:`parse` measures how far aliases would expand and refuses documents that would
expand past a bound, so that no later walk can blow up either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bastion.findings import Point, Span

__all__ = [
    "Document",
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "YamlError",
    "mapping_pairs",
    "node_span",
    "parse",
    "scalar_value",
]

MAX_EXPANDED_NODES = 200_000
"""Past this many nodes (after aliases are expanded) a document is refused."""

MAX_NESTING = 1000
"""Flow collections nested deeper are refused: nothing legitimate nests this far, and the
composer's recursion would otherwise exhaust the stack."""

MAX_NUMBER_DIGITS = 1000
"""Plain integers with more digits are refused: nothing legitimate comes close, and Python
will not convert one of more than 4,300 digits to or from text."""

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class YamlError(Exception):
    """The text is not a YAML document that GitHub would accept."""

    def __init__(self, message: str, point: Point) -> None:
        super().__init__(message)
        self.message = message
        self.point = point


class _GitHubResolver:
    """Gives every untagged node the generic tag of its kind; scalar_value() types scalars."""

    def resolve(self, kind: type[Node], value: object, implicit: object) -> str:
        if kind is ScalarNode:
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, parent: object, index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


try:
    from yaml._yaml import CParser as _CParser

    class _Loader(_GitHubResolver, _CParser):
        pass

    def _compose(text: str) -> Node | None:
        loader = _Loader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()

except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _PyLoader(_GitHubResolver, yaml.BaseLoader):
        pass

    def _compose(text: str) -> Node | None:
        loader = _PyLoader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()


class Duplicate(NamedTuple):
    key: str
    first: Node
    second: Node


class Document:
    """A parsed YAML file: its text, its root node, and what the parse noticed."""

    __slots__ = ("aliased", "duplicates", "root", "text")

    def __init__(self, text: str, root: Node, duplicates: list[Duplicate], aliased: bool) -> None:
        self.text = text
        self.root = root
        self.duplicates = duplicates
        self.aliased = aliased
        """Some node is reached through an alias, so a node's own source text may not hold
        all of its content."""

    def may_contain(self, node: Node, needle: str) -> bool:
        """Whether ``needle`` (lower case) can occur anywhere in ``node``'s content.

        False only when the node's source text lacks it and no alias brings in text from
        elsewhere: a cheap way for a rule to skip subtrees that cannot match.
        """
        if self.aliased:
            return True
        return needle in self.text[node.start_mark.index : node.end_mark.index].lower()


def parse(text: str) -> Document:
    """Compose ``text`` into a node tree; raise :class:`YamlError` if GitHub would refuse it."""
    # One pass of C over the text marks what the checks before and after composing look for.
    marked = text.encode("utf-8", "surrogatepass").translate(_MARKS)
    _refuse_deep_flow_nesting(text, marked.count(b"["))
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        point = Point(mark.line + 1, mark.column + 1) if mark else Point(1, 1)
        problem = error.problem or error.context or "invalid YAML"
        if mark and text[mark.index : mark.index + 1] == "\t":
            problem = "a tab character where YAML allows only spaces for indentation"
        elif error.context and error.problem:
            problem = f"{problem} ({error.context})"
        raise YamlError(f"invalid YAML: {problem}", point) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", Point(1, 1)) from None
    except RecursionError:
        raise YamlError("the document nests too deeply to be read", Point(1, 1)) from None
    if root is None:
        raise YamlError(
            "the file holds no YAML document (it is empty or only comments)", Point(1, 1)
        )
    if _LONG_RUN in marked:  # the text holds a run of digits that long
        _refuse_long_numbers(root)
    # Without "&" there is no anchor, so no alias: no node can be shared.
    duplicates, shared = _inspect(root, track_shared="&" in text)
    if shared:
        _bound_expansion(root)
    return Document(text, root, duplicates, shared)


def _mark(byte: int) -> int:
    character = chr(byte)
    if character in "0123456789abcdefABCDEF":
        return ord("0")
    return ord("[") if character in "[{" else ord(".")


_MARKS = bytes(_mark(byte) for byte in range(256))
"""For ``bytes.translate`` of the UTF-8 text: a hex digit becomes "0", an opening bracket
"[", anything else "." (a non-ASCII character's bytes too, so they never extend a run)."""
_LONG_RUN = b"0" * (MAX_NUMBER_DIGITS + 1)


def _refuse_long_numbers(root: Node) -> None:
    """Refuse a plain integer of more than MAX_NUMBER_DIGITS digits (the text holds a run
    that long; only a walk can tell whether it is a number or part of a string)."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            digits = _integer_digits(node)
            if digits > MAX_NUMBER_DIGITS:
                raise YamlError(
                    f"a number of {digits:,} digits; bastion reads numbers of at most "
                    f"{MAX_NUMBER_DIGITS:,} digits (quote it if it is meant as text)",
                    node_span(node).start,
                )
        else:
            stack.extend(_children(node))


def _integer_digits(node: ScalarNode) -> int:
    """How many digits a plain integer scalar has (0 for any other scalar)."""
    text: str = node.value
    if node.style or node.tag != _STR or not _INT.fullmatch(text):
        return 0
    return len(text.lstrip("+-").removeprefix("0x").removeprefix("0o"))


_FLOW_BRACKET = re.compile(r"[\[\]{}]")


def _refuse_deep_flow_nesting(text: str, opening_brackets: int) -> None:
    """Refuse flow collections nested past MAX_NESTING before the composer recurses into them.

    Block collections cannot nest deeper than the file's indentation allows, but brackets
    can, and the composer would exhaust the C stack on millions of them. The count is
    approximate (brackets inside quoted strings count too), which only matters for
    documents no one writes by hand.
    """
    if opening_brackets <= MAX_NESTING:
        return
    depth = 0
    for match in _FLOW_BRACKET.finditer(text):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise YamlError(
                    f"the document nests deeper than {MAX_NESTING} levels", Point(line, column)
                )
        elif depth:
            depth -= 1


def _inspect(root: Node, *, track_shared: bool) -> tuple[list[Duplicate], bool]:
    """Find duplicate keys and, when ``track_shared``, whether any collection is shared
    (reached through an alias); without it the document must hold no alias."""
    duplicates: list[Duplicate] = []
    seen: set[int] = set()
    shared = False
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if track_shared:
            if id(node) in seen:
                shared = True
                continue
            seen.add(id(node))
        kind = type(node)
        if kind is MappingNode:
            pairs: list[tuple[Node, Node]] = node.value
            try:
                distinct = len({key.value for key, _ in pairs}) == len(pairs)
            except TypeError:  # a collection as a key: its value is a list
                distinct = False
            if distinct:  # the common case: scalar keys, all different
                stack.extend([value for _, value in pairs if type(value) is not ScalarNode])
                continue
            keys: dict[str, Node] = {}
            for key, value in pairs:
                if type(key) is ScalarNode:
                    name = key.value
                    first = keys.setdefault(name, key)
                    if first is not key and not _is_merge_key(key):
                        duplicates.append(Duplicate(name, first, key))
                else:
                    push(key)
                if type(value) is not ScalarNode:
                    push(value)
        elif kind is SequenceNode:
            stack.extend([item for item in node.value if type(item) is not ScalarNode])
    return duplicates, shared


def _bound_expansion(root: Node) -> None:
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # Post-order over the DAG, so that each shared node is sized once.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                raise YamlError("an alias refers to a node that contains it", node_span(node).start)
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_EXPANDED_NODES:
            raise YamlError(
                f"aliases expand this document past {MAX_EXPANDED_NODES:,} nodes "
                "(a 'billion laughs' structure); refusing to read it",
                node_span(node).start,
            )
        sizes[id(node)] = size


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def node_span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(Point(start.line + 1, start.column + 1), Point(end.line + 1, end.column + 1))


# YAML 1.2 core schema, which is what GitHub's workflow parser follows.
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)

ScalarValue = str | bool | int | float | None


def scalar_value(node: ScalarNode) -> ScalarValue:
    """The value GitHub sees in a scalar: quoted and block scalars are always strings."""
    text: str = node.value
    if node.style or node.tag != _STR:  # libyaml marks plain scalars "", PyYAML None
        return text
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        if _integer_digits(node) > MAX_NUMBER_DIGITS:  # parse() refuses these
            return text
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _FLOAT.fullmatch(text):
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return text


def mapping_pairs(node: MappingNode) -> Iterator[tuple[Node, Node]]:
    """Key and value nodes of a mapping, with ``<<`` merge keys expanded (own keys win)."""
    pairs: list[tuple[Node, Node]] = node.value
    for key, _ in pairs:
        if key.value == "<<" and _is_merge_key(key):
            return _merged_pairs(node)
    return iter(pairs)


def _merged_pairs(node: MappingNode) -> Iterator[tuple[Node, Node]]:
    own = [(k, v) for k, v in node.value if not _is_merge_key(k)]
    yield from own
    merges = [v for k, v in node.value if _is_merge_key(k)]
    if not merges:
        return
    taken = {k.value for k, _ in own if isinstance(k, ScalarNode)}
    for merged in merges:
        sources = merged.value if isinstance(merged, SequenceNode) else [merged]
        for source in sources:
            if not isinstance(source, MappingNode):
                continue
            for key, value in mapping_pairs(source):
                if isinstance(key, ScalarNode):
                    if key.value in taken:
                        continue
                    taken.add(key.value)
                yield key, value


def _is_merge_key(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.value == "<<" and not node.style
