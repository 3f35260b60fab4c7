from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.findings import Point, Span
from bastion.source.json5 import (
    MAX_DEPTH,
    MAX_NODES,
    Json5Error,
    JsonArray,
    JsonNode,
    JsonObject,
    JsonScalar,
    parse,
)


def _plain(node: JsonNode) -> object:
    """The Python value of a node, the way json.loads would build it."""
    if isinstance(node, JsonObject):
        return {member.key: _plain(member.value) for member in node.members}
    if isinstance(node, JsonArray):
        return [_plain(item) for item in node.items]
    return node.value


def _object(text: str) -> JsonObject:
    root = parse(text)
    assert isinstance(root, JsonObject)
    return root


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "d\\n\\u00e9\\"\\/"}}',
        "[]",
        '"just a string"',
        "  0  ",
        '{"nested": [[[{}]]], "empty": ""}',
    ],
)
def test_plain_json_reads_as_the_json_module_reads_it(text: str) -> None:
    assert _plain(parse(text)) == json.loads(text)


def test_json5_syntax() -> None:
    text = """// a line comment
{
  unquoted: 'single',        /* a block comment */
  $dollar_1: "double",
  'quoted key': [1, 2, 3,],
  hex: 0x1F, plus: +1, leading: .5, trailing: 5., exponent: 1E3,
  inf: -Infinity, nan: NaN,
  escapes: '\\x41\\u0042\\'\\"\\0\\t',
  continued: 'one \\
two',
  unicode: "\u2028 inside",
}
"""
    values = _plain(_object(text))
    assert isinstance(values, dict)
    assert values["unquoted"] == "single"
    assert values["$dollar_1"] == "double"
    assert values["quoted key"] == [1, 2, 3]
    assert (values["hex"], values["plus"], values["leading"]) == (31, 1, 0.5)
    assert (values["trailing"], values["exponent"], values["inf"]) == (5.0, 1000.0, -math.inf)
    assert isinstance(values["nan"], float)
    assert math.isnan(values["nan"])
    assert values["escapes"] == "AB'\"\0\t"
    assert values["continued"] == "one two"
    assert values["unicode"] == "\u2028 inside"


def test_spans_of_keys_and_values() -> None:
    text = '{\n  "extends": ["config:recommended"],\n  minimumReleaseAge: "3 days"\n}\n'
    root = _object(text)
    assert root.span == Span(Point(1, 1), Point(4, 2))
    extends = root.member("extends")
    assert extends is not None
    assert extends.key_span == Span(Point(2, 3), Point(2, 12))
    assert isinstance(extends.value, JsonArray)
    assert extends.value.span == Span(Point(2, 14), Point(2, 36))
    preset = extends.value.items[0]
    assert isinstance(preset, JsonScalar)
    assert preset.span == Span(Point(2, 15), Point(2, 35))
    assert text[preset.start : preset.end] == '"config:recommended"'
    age = root.get("minimumReleaseAge")
    assert isinstance(age, JsonScalar)
    assert age.value == "3 days"
    assert age.span == Span(Point(3, 22), Point(3, 30))


def test_columns_count_characters_and_crlf_lines() -> None:
    root = _object('{\r\n  "é": "ü",\r\n  b: 1\r\n}')
    member = root.member("b")
    assert member is not None
    assert member.key_span.start == Point(3, 3)
    value = root.get("é")
    assert isinstance(value, JsonScalar)
    assert value.span == Span(Point(2, 8), Point(2, 11))


def test_a_repeated_key_the_last_wins() -> None:
    root = _object('{"a": 1, "b": 2, "a": 3}')
    value = root.get("a")
    assert isinstance(value, JsonScalar)
    assert value.value == 3
    assert [member.key for member in root.effective_members()] == ["b", "a"]


@pytest.mark.parametrize(
    ("text", "point", "message"),
    [
        ("", Point(1, 1), "the file holds no value (it is empty or only comments)"),
        ("// only a comment\n", Point(2, 1), "the file holds no value"),
        ('{"a": 1', Point(1, 1), "the object opened here is never closed"),
        ("[1, 2", Point(1, 1), "the array opened here is never closed"),
        ('{"a" 1}', Point(1, 6), "expected ':' after the key 'a', found '1'"),
        ('{\n  "a": 1\n  "b": 2\n}', Point(3, 3), "expected ',' or '}' after the value of 'a'"),
        ("[1,,2]", Point(1, 4), "unexpected ',' where a value should be"),
        ("{a: tru}", Point(1, 5), "unexpected word 'tru' where a value should be"),
        ("{a: 01}", Point(1, 5), "the number 01 has a leading zero"),
        ("{a: 1x}", Point(1, 6), "unexpected 'x' in a number"),
        ("{'a': 'b\nc'}", Point(1, 9), "a line break inside a string"),
        ('{"a": "b', Point(1, 7), "a string is never closed"),
        ('"\\1"', Point(1, 2), "\\1 is not a valid escape"),
        ('"\\x4"', Point(1, 2), "\\x must be followed by two hexadecimal digits"),
        ('"\\u12"', Point(1, 2), "\\u must be followed by four hexadecimal digits"),
        ("{} {}", Point(1, 4), "unexpected '{' after the end of the value"),
        ("/* never closed", Point(1, 1), "a /* comment is never closed"),
        ("{1: 2}", Point(1, 2), "expected a key (a string or a name), found '1'"),
    ],
)
def test_errors_say_what_and_where(text: str, point: Point, message: str) -> None:
    with pytest.raises(Json5Error) as raised:
        parse(text)
    assert raised.value.point == point
    assert raised.value.message.startswith("invalid JSON5: ")
    assert message in raised.value.message


def test_deep_nesting_is_refused_quickly() -> None:
    parse("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    started = time.perf_counter()
    with pytest.raises(Json5Error, match=f"nests deeper than {MAX_DEPTH} levels") as raised:
        parse("[" * 1_000_000)
    assert raised.value.point == Point(1, MAX_DEPTH + 1)
    assert time.perf_counter() - started < 1


def test_too_many_values_are_refused() -> None:
    with pytest.raises(Json5Error, match=f"more than {MAX_NODES:,} values"):
        parse("[" + "0," * (MAX_NODES + 1) + "]")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_json_document_reads_back_as_written(value: object) -> None:
    assert _plain(parse(json.dumps(value))) == value
    assert _plain(parse(json.dumps(value, indent=2, ensure_ascii=False))) == value


@given(st.text(alphabet=st.sampled_from(list("{}[]:,'\"/*\\ \n\tax01.e+-Infty")), max_size=40))
def test_any_text_is_read_or_refused_with_a_position(text: str) -> None:
    refused: Json5Error | None = None
    try:
        parse(text)
    except Json5Error as error:
        refused = error
    if refused is not None:
        assert refused.point.line >= 1
        assert refused.point.column >= 1


@pytest.mark.parametrize(
    ("text", "column", "digits"),
    [("[" + "9" * 1001 + "]", 2, "1,001"), ("{a: -0x" + "f" * 5000 + "}", 5, "5,000")],
)
def test_integers_of_more_than_1000_digits_are_refused_at_their_place(
    text: str, column: int, digits: str
) -> None:
    with pytest.raises(Json5Error) as raised:
        parse(text)
    assert raised.value.point == Point(1, column)
    assert raised.value.message == (
        f"a number of {digits} digits; bastion reads numbers of at most 1,000 digits"
    )


def test_integers_past_2_to_the_53_are_doubles_as_in_javascript() -> None:
    root = parse(f"[9007199254740992, 9007199254740993, {'9' * 400}, -0x{'f' * 300}, 0x10]")
    assert isinstance(root, JsonArray)
    values = [item.value for item in root.items if isinstance(item, JsonScalar)]
    assert values == [2**53, float(2**53), math.inf, -math.inf, 16]
    assert isinstance(values[0], int)
    assert isinstance(values[1], float)
