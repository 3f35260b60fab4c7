"""JSON and JSON5 read with the exact span of every value and every key.

Renovate reads ``.json5`` configurations as JSON5, a superset of JSON, so one reader serves
every Renovate file: comments (``//`` and ``/* */``), trailing commas,
unquoted (identifier) keys, single-quoted strings, line continuations inside strings, hex
numbers, ``Infinity`` and ``NaN``, leading ``+`` and leading or trailing decimal points.

Every node keeps its character offsets and its span (1-based line and column, counted the
way :class:`~bastion.source.text.LineIndex` counts them, so findings and snippets agree).
Input that is not JSON5 raises :class:`Json5Error` with the point of the problem. Nesting
deeper than :data:`MAX_DEPTH` and documents of more than :data:`MAX_NODES` values are
refused, so hostile input can exhaust neither the stack nor memory.

When an object repeats a key, the last value wins, as in every JSON5 implementation.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from bastion.findings import Point, Span
from bastion.source.text import LineIndex

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "Json5Error",
    "JsonArray",
    "JsonMember",
    "JsonNode",
    "JsonObject",
    "JsonScalar",
    "parse",
]

MAX_DEPTH = 256
"""Objects and arrays nested deeper are refused."""

MAX_NODES = 200_000
"""Documents with more values than this are refused."""

MAX_NUMBER_DIGITS = 1000
"""Integers with more digits are refused: nothing legitimate comes close, and Python will
not convert one of more than 4,300 digits to or from text."""

_EXACT_INTEGERS = 2**53
"""Past this, a JavaScript number (a double) no longer holds every integer: larger integers
are read as floats, as Renovate reads them."""

JsonValue = str | int | float | bool | None


class Json5Error(Exception):
    """The text is not a JSON5 document."""

    def __init__(self, message: str, point: Point) -> None:
        super().__init__(message)
        self.message = message
        self.point = point


class JsonScalar(NamedTuple):
    """A string, number, boolean or null."""

    value: JsonValue
    start: int
    end: int
    span: Span


class JsonMember(NamedTuple):
    """One ``key: value`` of an object; ``key_start``/``key_end`` are offsets of the key."""

    key: str
    key_start: int
    key_end: int
    key_span: Span
    value: JsonNode


class JsonObject(NamedTuple):
    members: tuple[JsonMember, ...]
    start: int
    end: int
    span: Span

    def member(self, key: str) -> JsonMember | None:
        """The member named ``key``; when the key is repeated, the last one (which wins)."""
        found = None
        for member in self.members:
            if member.key == key:
                found = member
        return found

    def get(self, key: str) -> JsonNode | None:
        member = self.member(key)
        return member.value if member is not None else None

    def effective_members(self) -> Iterator[JsonMember]:
        """Members in source order, skipping those a later repetition of their key overrides."""
        last = {member.key: index for index, member in enumerate(self.members)}
        for index, member in enumerate(self.members):
            if last[member.key] == index:
                yield member


class JsonArray(NamedTuple):
    items: tuple[JsonNode, ...]
    start: int
    end: int
    span: Span


JsonNode = JsonObject | JsonArray | JsonScalar


def parse(text: str) -> JsonNode:
    """The root value of ``text``; raises :class:`Json5Error` for anything JSON5 refuses."""
    return _Parser(text).document()


_WHITESPACE = frozenset("\t\n\v\f\r \u00a0\u2028\u2029\ufeff")
_LINE_TERMINATORS = frozenset("\n\r\u2028\u2029")
_NUMBER = re.compile(
    r"[+-]?(?:Infinity|NaN|0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)
_SIMPLE_ESCAPES = {
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "'": "'",
    '"': '"',
    "\\": "\\",
    "/": "/",
}
_LITERALS: dict[str, JsonValue] = {"true": True, "false": False, "null": None}


def _describe(char: str) -> str:
    if not char:
        return "the end of the file"
    if char in _LINE_TERMINATORS:
        return "a line break"
    if char.isprintable():
        return repr(char)
    return f"U+{ord(char):04X}"


def _is_identifier_start(char: str) -> bool:
    if char in "$_":
        return True
    return unicodedata.category(char) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nl")


def _is_identifier_part(char: str) -> bool:
    if _is_identifier_start(char) or char in "\u200c\u200d":
        return True
    return unicodedata.category(char) in ("Mn", "Mc", "Nd", "Pc")


class _Parser:
    __slots__ = ("lines", "nodes", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.nodes = 0
        self.lines = LineIndex(text)

    # -- helpers

    def error(self, message: str, offset: int | None = None) -> Json5Error:
        where = self.pos if offset is None else offset
        return Json5Error(f"invalid JSON5: {message}", self.lines.point(where))

    def span(self, start: int, end: int) -> Span:
        return self.lines.span(start, end)

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def count_node(self, start: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(f"the document holds more than {MAX_NODES:,} values", start)

    def skip_space(self) -> None:
        text = self.text
        length = len(text)
        while self.pos < length:
            char = text[self.pos]
            if char in _WHITESPACE or (char > "\x7f" and unicodedata.category(char) == "Zs"):
                self.pos += 1
            elif text.startswith("//", self.pos):
                while self.pos < length and text[self.pos] not in _LINE_TERMINATORS:
                    self.pos += 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("a /* comment is never closed")
                self.pos = end + 2
            else:
                return

    # -- grammar

    def document(self) -> JsonNode:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.error("the file holds no value (it is empty or only comments)")
        root = self.value(0)
        self.skip_space()
        if self.pos < len(self.text):
            raise self.error(f"unexpected {_describe(self.peek())} after the end of the value")
        return root

    def value(self, depth: int) -> JsonNode:
        char = self.peek()
        if char == "{":
            return self.object(depth + 1)
        if char == "[":
            return self.array(depth + 1)
        start = self.pos
        self.count_node(start)
        if char in ("'", '"'):
            text = self.string()
            return JsonScalar(text, start, self.pos, self.span(start, self.pos))
        match = _NUMBER.match(self.text, self.pos)
        if match:
            number = self.number(match.group())
            self.pos = match.end()
            if self.pos < len(self.text) and _is_identifier_part(self.text[self.pos]):
                raise self.error(f"unexpected {_describe(self.peek())} in a number")
            return JsonScalar(number, start, self.pos, self.span(start, self.pos))
        word = self.identifier_run()
        if word in _LITERALS:
            return JsonScalar(_LITERALS[word], start, self.pos, self.span(start, self.pos))
        if word:
            raise self.error(f"unexpected word {word!r} where a value should be", start)
        raise self.error(f"unexpected {_describe(char)} where a value should be")

    def nested(self, depth: int, start: int) -> None:
        if depth > MAX_DEPTH:
            raise self.error(f"the document nests deeper than {MAX_DEPTH} levels", start)
        self.count_node(start)

    def object(self, depth: int) -> JsonObject:
        start = self.pos
        self.nested(depth, start)
        self.pos += 1
        members: list[JsonMember] = []
        while True:
            self.skip_space()
            if self.peek() == "}":
                break
            if not self.peek():
                raise self.error("the object opened here is never closed", start)
            key_start = self.pos
            key = self.key()
            key_end = self.pos
            self.skip_space()
            if self.peek() != ":":
                found = _describe(self.peek())
                raise self.error(f"expected ':' after the key {key!r}, found {found}")
            self.pos += 1
            self.skip_space()
            if not self.peek():
                raise self.error(f"the value of {key!r} is missing at the end of the file")
            value = self.value(depth)
            members.append(
                JsonMember(key, key_start, key_end, self.span(key_start, key_end), value)
            )
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char == "}":
                break
            if not char:
                raise self.error("the object opened here is never closed", start)
            found = _describe(char)
            raise self.error(f"expected ',' or '}}' after the value of {key!r}, found {found}")
        self.pos += 1
        return JsonObject(tuple(members), start, self.pos, self.span(start, self.pos))

    def array(self, depth: int) -> JsonArray:
        start = self.pos
        self.nested(depth, start)
        self.pos += 1
        items: list[JsonNode] = []
        while True:
            self.skip_space()
            char = self.peek()
            if char == "]":
                break
            if not char:
                raise self.error("the array opened here is never closed", start)
            items.append(self.value(depth))
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char == "]":
                break
            if not char:
                raise self.error("the array opened here is never closed", start)
            raise self.error(f"expected ',' or ']' after an array item, found {_describe(char)}")
        self.pos += 1
        return JsonArray(tuple(items), start, self.pos, self.span(start, self.pos))

    def key(self) -> str:
        char = self.peek()
        if char in ("'", '"'):
            return self.string()
        name = self.identifier_run()
        if not name:
            raise self.error(f"expected a key (a string or a name), found {_describe(char)}")
        return name

    def identifier_run(self) -> str:
        """An ECMAScript identifier name at the current position ('' when there is none)."""
        text = self.text
        parts: list[str] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\" and text.startswith("\\u", self.pos):
                parts.append(self.unicode_escape(self.pos + 2))
                self.pos += 6
            elif _is_identifier_start(char) if not parts else _is_identifier_part(char):
                parts.append(char)
                self.pos += 1
            else:
                break
        return "".join(parts)

    def unicode_escape(self, offset: int) -> str:
        digits = self.text[offset : offset + 4]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise self.error("\\u must be followed by four hexadecimal digits", offset - 2)
        return chr(int(digits, 16))

    def string(self) -> str:
        text = self.text
        quote = text[self.pos]
        start = self.pos
        self.pos += 1
        parts: list[str] = []
        while True:
            end = self.pos
            while end < len(text) and text[end] not in (quote, "\\", "\n", "\r"):
                end += 1
            parts.append(text[self.pos : end])
            self.pos = end
            if end >= len(text):
                raise self.error("a string is never closed", start)
            char = text[end]
            if char == quote:
                self.pos += 1
                return "".join(parts)
            if char != "\\":
                raise self.error("a line break inside a string (escape it with '\\')")
            parts.append(self.escape())

    def escape(self) -> str:
        text = self.text
        backslash = self.pos
        char = text[self.pos + 1 : self.pos + 2]
        self.pos += 2
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        if char == "0":
            if self.peek().isdigit():
                raise self.error("a digit after \\0 in a string", backslash)
            return "\0"
        if char == "x":
            digits = text[self.pos : self.pos + 2]
            if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.error("\\x must be followed by two hexadecimal digits", backslash)
            self.pos += 2
            return chr(int(digits, 16))
        if char == "u":
            value = self.unicode_escape(self.pos)
            self.pos += 4
            if "\ud800" <= value <= "\udbff" and text.startswith("\\u", self.pos):
                low = self.unicode_escape(self.pos + 2)
                if "\udc00" <= low <= "\udfff":  # a surrogate pair is one character
                    self.pos += 6
                    return chr(0x10000 + ((ord(value) - 0xD800) << 10) + ord(low) - 0xDC00)
            return value
        if char in _LINE_TERMINATORS:  # a line continuation
            if char == "\r" and self.peek() == "\n":
                self.pos += 1
            return ""
        if not char:
            raise self.error("a string is never closed", backslash)
        if char.isdigit():
            raise self.error(f"\\{char} is not a valid escape in a string", backslash)
        return char

    def number(self, source: str) -> int | float:
        sign = -1 if source.startswith("-") else 1
        body = source.lstrip("+-")
        if body == "Infinity":
            return sign * float("inf")
        if body == "NaN":
            return float("nan")
        if len(body) > 1 and body[0] == "0" and body[1].isdigit():
            raise self.error(f"the number {source} has a leading zero")
        if any(c in body for c in ".eE") and body[:2] not in ("0x", "0X"):
            return sign * float(body)
        digits = body[2:] if body[:2] in ("0x", "0X") else body
        if len(digits) > MAX_NUMBER_DIGITS:
            raise Json5Error(
                f"a number of {len(digits):,} digits; bastion reads numbers of at most "
                f"{MAX_NUMBER_DIGITS:,} digits",
                self.lines.point(self.pos),
            )
        value = int(digits, 16 if digits is not body else 10)
        if value <= _EXACT_INTEGERS:
            return sign * value
        try:
            return sign * float(value)
        except OverflowError:  # past the largest double: JavaScript reads Infinity
            return sign * math.inf
