"""Edits that add, change or remove keys of a YAML mapping in place, in the file's own style.

Every helper works on the original text and the node tree parsed from it, and returns an
:class:`Edit` (or None when the text is laid out in a way it will not guess about). New
lines take the indentation of the mapping's existing keys, the file's indentation step and
its line ending; flow mappings (``{a: 1}``) get flow-style entries.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

from bastion.fix.edits import Edit
from bastion.source.yaml import Document, MappingNode, Node, ScalarNode, SequenceNode

Value = str | tuple[tuple[str, "Value"], ...]
"""What an edit writes as a key's value: a scalar already written as YAML (``false``,
``"${{ x }}"``), or the entries of a mapping (empty: ``{}``)."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PLAIN_UNSAFE_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NOT_STRINGS = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9][0-9_.eExXoO+-]*|\.[0-9].*"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
)


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file is written: its line ending and indentation step."""

    newline: str
    step: int

    @classmethod
    def of(cls, document: Document) -> Layout:
        text = document.text
        found = _LINE_BREAK.search(text)
        newline = found.group() if found else "\n"
        return cls(newline, _indentation_step(document.root))


def _indentation_step(root: Node) -> int:
    """The most common indentation of a nested block mapping under its key (2 if none)."""
    steps: Counter[int] = Counter()
    stack = [root]
    seen: set[int] = set()
    while stack and sum(steps.values()) < 64:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if is_block_mapping(value) and value.value:
                    first = value.value[0][0]
                    if first.start_mark.line > key.start_mark.line:
                        steps[first.start_mark.column - key.start_mark.column] += 1
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    positive = [(count, step) for step, count in steps.items() if step > 0]
    return max(positive)[1] if positive else 2


def is_block_mapping(node: Node) -> bool:
    return isinstance(node, MappingNode) and not node.flow_style


def line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def next_line(text: str, offset: int) -> int:
    """The start of the line after the one holding ``offset``; ``offset`` itself when it
    already starts a line; the end of the text on the last line."""
    if offset == 0 or text[offset - 1] in "\r\n":
        return offset
    found = _LINE_BREAK.search(text, offset)
    return found.end() if found else len(text)


def starts_line(text: str, node: Node) -> bool:
    """Whether only spaces stand before ``node`` on its line."""
    index = node.start_mark.index
    return not text[line_start(text, index) : index].strip(" ")


def content_end(text: str, node: Node) -> int:
    """Where the text of ``node`` ends: the end of its last scalar or flow collection.

    Block collections end where the next token starts (after any comments); this stops at
    their last content instead. Trailing blank lines of a block scalar belong to the next
    line unless the scalar keeps them (``|+``).
    """
    if isinstance(node, ScalarNode):
        end: int = node.end_mark.index
        if node.style in ("|", ">"):
            header = text[node.start_mark.index : text.find("\n", node.start_mark.index)]
            if "+" not in header:
                stripped = len(text[:end].rstrip(" \r\n"))
                end = max(stripped, node.start_mark.index + 1)
        return end
    if not isinstance(node, MappingNode | SequenceNode) or node.flow_style or not node.value:
        return int(node.end_mark.index)
    if isinstance(node, MappingNode):
        key, value = node.value[-1]
        return max(content_end(text, key), content_end(text, value))
    return max(node.start_mark.index + 1, content_end(text, node.value[-1]))


def entry_end(text: str, key: Node, value: Node) -> int:
    """The start of the line after an entry's last line of content."""
    return next_line(text, max(content_end(text, key), content_end(text, value)))


def key_column(mapping: MappingNode) -> int:
    return int(mapping.value[0][0].start_mark.column)


def plain_safe(text: str, *, flow: bool = False) -> bool:
    """Whether ``text`` can be written as a plain scalar and read back as the same string."""
    if not text or text != text.strip() or text[0] in _PLAIN_UNSAFE_START:
        return False
    if ": " in text or " #" in text or text.endswith(":") or _NOT_STRINGS.fullmatch(text):
        return False
    if any(char in text for char in "\r\n\t\x85\u2028\u2029"):
        return False
    return not (flow and any(char in text for char in ",[]{}"))


def scalar(text: str, *, flow: bool = False) -> str:
    """``text`` written as a YAML string: plain when that reads back unchanged, else quoted."""
    return text if plain_safe(text, flow=flow) else json.dumps(text, ensure_ascii=False)


def render_block(entries: tuple[tuple[str, Value], ...], column: int, layout: Layout) -> str:
    """Block-style lines for ``entries`` at ``column``, each ending with a line break."""
    lines: list[str] = []
    for key, value in entries:
        lines.append(" " * column + key + ":" + _block_value(value, column, layout))
    return "".join(line + layout.newline for line in lines)


def _block_value(value: Value, column: int, layout: Layout) -> str:
    if isinstance(value, str):
        return " " + value
    if not value:
        return " {}"
    inner = render_block(value, column + layout.step, layout)
    return layout.newline + inner.removesuffix(layout.newline)


def render_flow(value: Value) -> str:
    if isinstance(value, str):
        return value
    return "{" + ", ".join(f"{key}: {render_flow(item)}" for key, item in value) + "}"


def insert_entries(
    text: str,
    layout: Layout,
    mapping: MappingNode,
    entries: tuple[tuple[str, Value], ...],
    *,
    before: Node | None = None,
    after: Node | None = None,
) -> Edit | None:
    """Add ``entries`` to ``mapping``: before the key ``before`` (and the comment lines just
    above it), after the entry whose key is ``after``, or else at the end."""
    if mapping.flow_style:
        return _insert_flow(text, mapping, entries)
    if not mapping.value:
        return None
    column = key_column(mapping)
    if before is not None and starts_line(text, before):
        offset = _above_comments(text, line_start(text, before.start_mark.index), column)
    else:
        pairs = [(k, v) for k, v in mapping.value if after is None or k is after] or mapping.value
        key, value = pairs[-1]
        offset = entry_end(text, key, value)
    block = render_block(entries, column, layout)
    if offset == len(text) and text and text[-1] not in "\r\n":
        block = layout.newline + block.removesuffix(layout.newline)
    return Edit.insert(offset, block)


def _above_comments(text: str, offset: int, column: int) -> int:
    """Move a line-start ``offset`` up over the comment lines written at ``column`` above it."""
    while offset > 0:
        end = offset - 2 if text[offset - 2 : offset] == "\r\n" else offset - 1
        previous = line_start(text, end)
        line = text[previous:end]
        if not line.lstrip(" ").startswith("#") or len(line) - len(line.lstrip(" ")) != column:
            return offset
        offset = previous
    return offset


def _insert_flow(
    text: str, mapping: MappingNode, entries: tuple[tuple[str, Value], ...]
) -> Edit | None:
    close = mapping.end_mark.index - 1
    if text[close : close + 1] != "}":
        return None
    rendered = ", ".join(f"{key}: {render_flow(value)}" for key, value in entries)
    previous = text[:close].rstrip(" \t\r\n")
    if previous.endswith("{"):
        return Edit.insert(close, rendered)
    if previous.endswith(","):
        return Edit.insert(len(previous), " " + rendered)
    return Edit.insert(len(previous), ", " + rendered)


def set_value(
    text: str, layout: Layout, key: ScalarNode, value: Node, new: Value, *, flow: bool = False
) -> Edit | None:
    """Replace the value of an entry (the text from the end of its key to the end of its
    value's content, so comments after the value stay). ``flow`` marks an entry of a flow
    mapping, which gets a flow-style value."""
    key_end = key.end_mark.index
    colon = text.find(":", key_end)
    if colon < 0 or text[key_end:colon].strip():
        return None
    end = content_end(text, value)
    if isinstance(value, ScalarNode) and not value.value and not value.style:
        end = colon + 1  # an empty value: its marks point at whatever follows
    if end <= colon:
        return None  # an alias: the value is written elsewhere
    if flow or isinstance(new, str) or not new:
        return Edit(key_end, end, ": " + render_flow(new))
    block = render_block(new, key.start_mark.column + layout.step, layout)
    return Edit(key_end, end, ":" + layout.newline + block.removesuffix(layout.newline))


def remove_entry(text: str, mapping: MappingNode, key: Node, value: Node) -> Edit | None:
    """Delete an entry of a block mapping, whole lines from its key to its last content.

    None for flow mappings, for the only entry (a mapping cannot be left empty) and for an
    entry whose key shares its line with something else (``- key: value``)."""
    if mapping.flow_style or len(mapping.value) < 2 or not starts_line(text, key):
        return None
    start = line_start(text, key.start_mark.index)
    return Edit(start, entry_end(text, key, value), "")
