from __future__ import annotations

import itertools
import math
import time

import pytest

from bastion.findings import Point, Span
from bastion.source.yaml import (
    MAX_NESTING,
    MappingNode,
    ScalarNode,
    SequenceNode,
    YamlError,
    mapping_pairs,
    node_span,
    parse,
    scalar_value,
)


def _root(text: str) -> MappingNode:
    root = parse(text).root
    assert isinstance(root, MappingNode)
    return root


def _values(text: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in mapping_pairs(_root(text)):
        assert isinstance(key, ScalarNode)
        out[key.value] = scalar_value(value) if isinstance(value, ScalarNode) else value
    return out


def test_keys_are_read_the_way_github_reads_them() -> None:
    values = _values("on: push\nyes: no\ny: n\noff: true\n")
    assert values == {"on": "push", "yes": "no", "y": "n", "off": True}


def test_scalars_follow_the_yaml_1_2_core_schema() -> None:
    text = (
        "a: 010\nb: 0o17\nc: 0x1F\nd: 1.5e3\ne: ~\nf: null\ng: ''\nh: 'true'\n"
        "i: True\nj: .inf\nk: 1_000\nl: |\n  true\nm:\n"
    )
    assert _values(text) == {
        "a": 10,
        "b": 15,
        "c": 31,
        "d": 1500.0,
        "e": None,
        "f": None,
        "g": "",
        "h": "true",
        "i": True,
        "j": float("inf"),
        "k": "1_000",
        "l": "true\n",
        "m": None,
    }


def test_every_node_keeps_its_exact_span() -> None:
    root = _root("name: ci\njobs:\n  build:\n    runs-on: 'ubuntu-latest'\n")
    jobs = {k.value: v for k, v in root.value}["jobs"]
    assert isinstance(jobs, MappingNode)
    build_key, build = jobs.value[0]
    assert node_span(build_key) == Span(Point(3, 3), Point(3, 8))
    runs_on = build.value[0][1]
    assert node_span(runs_on) == Span(Point(4, 14), Point(4, 29))
    assert runs_on.style == "'"


def test_columns_count_characters_not_bytes() -> None:
    root = _root('x: "é€😀"\nyy: z\nw: [ü, v]\n')
    sequence = root.value[2][1]
    assert isinstance(sequence, SequenceNode)
    assert node_span(sequence.value[1]).start == Point(3, 8)


def test_merge_keys_expand_and_own_keys_win() -> None:
    text = "base: &base {a: 1, b: 2}\nother: &o {c: 3}\nuse:\n  <<: [*base, *o]\n  b: 9\n"
    use = {k.value: v for k, v in _root(text).value}["use"]
    assert isinstance(use, MappingNode)
    pairs = {k.value: v.value for k, v in mapping_pairs(use)}
    assert pairs == {"b": "9", "a": "1", "c": "3"}


def test_duplicate_keys_are_reported_with_both_places() -> None:
    document = parse("a: 1\nb: 2\na: 3\n")
    [duplicate] = document.duplicates
    assert duplicate.key == "a"
    assert node_span(duplicate.first).start == Point(1, 1)
    assert node_span(duplicate.second).start == Point(3, 1)


def test_billion_laughs_is_refused_fast() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    names = "abcdefghij"
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    started = time.perf_counter()
    with pytest.raises(YamlError, match="billion laughs"):
        parse("\n".join(lines) + "\n")
    # Generous: the bound makes this milliseconds; without it, it would never finish.
    assert time.perf_counter() - started < 5


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlError, match="contains it"):
        parse("a: &a\n  b: *a\n")


def test_deep_nesting_is_refused() -> None:
    depth = MAX_NESTING + 10
    with pytest.raises(YamlError):
        parse("a: " + "[" * depth + "]" * depth + "\n")


@pytest.mark.parametrize(
    ("text", "point", "fragment"),
    [
        ("a: b\n c: d\n", Point(2, 3), "mapping values are not allowed"),
        ("a: [1, 2\n", Point(2, 1), "expected ',' or ']'"),
        ("a:\n\t- b\n", Point(2, 1), "tab"),
        ("---\na: 1\n---\nb: 2\n", Point(3, 1), "single document"),
    ],
)
def test_invalid_yaml_names_the_place(text: str, point: Point, fragment: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse(text)
    assert caught.value.point == point
    assert fragment in caught.value.message


def test_empty_document_is_an_error() -> None:
    with pytest.raises(YamlError, match="no YAML document"):
        parse("# only a comment\n")


@pytest.mark.parametrize(
    ("text", "column", "digits"),
    [
        ("a: " + "9" * 1001, 4, "1,001"),
        ("a: -" + "9" * 5000, 4, "5,000"),
        ("a: 0x" + "f" * 4400, 4, "4,400"),
        ("a: [1, " + "7" * 2000 + "]", 8, "2,000"),
    ],
)
def test_integers_of_more_than_1000_digits_are_refused_at_their_place(
    text: str, column: int, digits: str
) -> None:
    with pytest.raises(YamlError) as raised:
        parse(text)
    assert raised.value.point == Point(1, column)
    assert raised.value.message == (
        f"a number of {digits} digits; bastion reads numbers of at most 1,000 digits "
        "(quote it if it is meant as text)"
    )


def test_long_digit_runs_that_are_not_integers_are_read() -> None:
    document = parse(f"a: '{'9' * 5000}'\nb: x{'9' * 5000}\nc: {'9' * 5000}.5\nd: {'9' * 1000}\n")
    assert isinstance(document.root, MappingNode)
    values = [scalar_value(value) for _, value in document.root.value]
    assert values[:2] == ["9" * 5000, "x" + "9" * 5000]
    assert values[2] == math.inf
    assert values[3] == int("9" * 1000)


def test_many_duplicate_keys_are_found_in_linear_time() -> None:
    keys = "".join(f"  k{number}: 1\n" for number in range(100_000))
    started = time.perf_counter()
    document = parse("env:\n" + keys + keys)
    # Generous: this takes about a second; finding each first key by a scan took minutes.
    assert time.perf_counter() - started < 60
    assert len(document.duplicates) == 100_000
    last = document.duplicates[-1]
    assert (last.key, node_span(last.first).start, node_span(last.second).start) == (
        "k99999",
        Point(100_001, 3),
        Point(200_001, 3),
    )
