from __future__ import annotations

import math
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bastion.model.expressions as expressions_module
from bastion.model.expressions import (
    MAX_DEPTH,
    Binary,
    Call,
    Context,
    ContextPath,
    Embedded,
    Expr,
    ExpressionError,
    Index,
    Literal,
    LiteralValue,
    Property,
    Star,
    Unary,
    context_path,
    context_paths,
    find_expressions,
    first_embedding_error,
    is_literal_only,
    parse_expression,
    walk,
)


def paths(source: str) -> list[tuple[str, int, int]]:
    return [(p.dotted(), p.start, p.end) for p in context_paths(parse_expression(source))]


def error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_expression(source)
    return info.value


# --- Literals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("null", None),
        ("true", True),
        ("false", False),
        ("0", 0),
        ("42", 42),
        ("0xff", 255),
        ("0XFF", 255),
        ("0o17", 15),
        ("0b101", 5),
        ("-1.5e3", -1500.0),
        ("+2", 2),
        ("-7", -7),
        ("1.", 1.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("2E-2", 0.02),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("'it''s'", "it's"),
        ("''''", "'"),
        ("''", ""),
        ("'a''b''c'", "a'b'c"),
        ("'}}'", "}}"),
        ("'say \"hi\"'", 'say "hi"'),
    ],
)
def test_literals(source: str, value: LiteralValue) -> None:
    expr = parse_expression(source)
    assert expr == Literal(value, 0, len(source))
    assert isinstance(expr, Literal)
    assert type(expr.value) is type(value)


def test_nan_keyword() -> None:
    expr = parse_expression("NaN")
    assert isinstance(expr, Literal)
    assert isinstance(expr.value, float)
    assert math.isnan(expr.value)


def test_keywords_are_case_sensitive() -> None:
    assert parse_expression("True") == Context("True", 0, 4)


def test_surrounding_whitespace_kept_in_offsets() -> None:
    assert parse_expression("  github.sha \n") == Property(Context("github", 2, 8), "sha", 2, 12)


# --- Precedence ------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    a, b, c = Context("a", 0, 1), Context("b", 5, 6), Context("c", 10, 11)
    assert parse_expression("a || b && c") == Binary("||", a, Binary("&&", b, c, 5, 11), 0, 11)


def test_not_binds_tighter_than_equality() -> None:
    assert parse_expression("!a == b") == Binary(
        "==", Unary("!", Context("a", 1, 2), 0, 2), Context("b", 6, 7), 0, 7
    )


def test_comparison_binds_tighter_than_equality() -> None:
    expr = parse_expression("a == b < c")
    assert expr == Binary(
        "==",
        Context("a", 0, 1),
        Binary("<", Context("b", 5, 6), Context("c", 9, 10), 5, 10),
        0,
        10,
    )


def test_equality_binds_tighter_than_and() -> None:
    expr = parse_expression("a && b != c")
    assert isinstance(expr, Binary)
    assert expr.op == "&&"
    assert isinstance(expr.right, Binary)
    assert expr.right.op == "!="


def test_left_associative() -> None:
    expr = parse_expression("a || b || c")
    assert expr == Binary(
        "||",
        Binary("||", Context("a", 0, 1), Context("b", 5, 6), 0, 6),
        Context("c", 10, 11),
        0,
        11,
    )


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">=", "&&", "||"])
def test_every_binary_operator(op: str) -> None:
    source = f"a {op} 1"
    assert parse_expression(source) == Binary(
        op, Context("a", 0, 1), Literal(1, len(source) - 1, len(source)), 0, len(source)
    )


def test_operators_without_spaces() -> None:
    assert parse_expression("a<=-1") == Binary("<=", Context("a", 0, 1), Literal(-1, 3, 5), 0, 5)


def test_parentheses_override_precedence_and_extend_parent_span() -> None:
    expr = parse_expression("(a || b) && c")
    assert expr == Binary(
        "&&",
        Binary("||", Context("a", 1, 2), Context("b", 6, 7), 1, 7),
        Context("c", 12, 13),
        0,
        13,
    )


def test_double_negation() -> None:
    assert parse_expression("!!a") == Unary("!", Unary("!", Context("a", 2, 3), 1, 3), 0, 3)


def test_negated_group_spans_parenthesis() -> None:
    expr = parse_expression("!(a)")
    assert expr == Unary("!", Context("a", 2, 3), 0, 4)


# --- Access ----------------------------------------------------------------------------------


def test_property_names_with_dashes_and_underscores() -> None:
    expr = parse_expression("steps.my-step.outputs.some_value")
    assert context_path(expr) == ContextPath(("steps", "my-step", "outputs", "some_value"), 0, 32)


def test_keywords_are_property_names_after_dot() -> None:
    expr = parse_expression("inputs.true")
    assert expr == Property(Context("inputs", 0, 6), "true", 0, 11)


def test_index_forms() -> None:
    github = Context("github", 0, 6)
    assert parse_expression("github['event']") == Index(github, Literal("event", 7, 14), 0, 15)
    assert parse_expression("github[0]") == Index(github, Literal(0, 7, 8), 0, 9)
    assert parse_expression("github[matrix.k]") == Index(
        github, Property(Context("matrix", 7, 13), "k", 7, 15), 0, 16
    )


def test_index_paths() -> None:
    assert paths("secrets['MY_TOKEN']") == [("secrets.my_token", 0, 19)]
    assert paths("needs.build.outputs[0]") == [("needs.build.outputs.0", 0, 22)]
    assert paths("a[1.0]") == [("a.1", 0, 6)]
    assert paths("a[1.5]") == [("a.*", 0, 6)]
    assert paths("a[true]") == [("a.*", 0, 7)]
    assert paths("env[format('{0}', matrix.name)]") == [
        ("env.*", 0, 31),
        ("matrix.name", 18, 29),
    ]


def test_star_filters() -> None:
    expr = parse_expression("github.event.commits.*.message")
    github = Context("github", 0, 6)
    commits = Property(Property(github, "event", 0, 12), "commits", 0, 20)
    assert expr == Property(Star(commits, 0, 22), "message", 0, 30)
    assert paths("github.event.commits.*.message") == [("github.event.commits.*.message", 0, 30)]


def test_bracket_star() -> None:
    assert parse_expression("a[*]") == Star(Context("a", 0, 1), 0, 4)
    assert paths("a[ * ].b") == [("a.*.b", 0, 8)]


def test_paths_are_lowercased_and_text_kept() -> None:
    expr = parse_expression("GitHub.Event.Pull_Request.TITLE")
    assert isinstance(expr, Property)
    assert expr.name == "TITLE"
    assert paths("GitHub.Event.Pull_Request.TITLE") == [("github.event.pull_request.title", 0, 31)]


def test_dereference_of_group_and_call() -> None:
    assert paths("(github).event") == [("github.event", 0, 14)]
    expr = parse_expression("fromJSON(steps.s.outputs.json).items[0]")
    assert isinstance(expr, Index)
    assert paths("fromJSON(steps.s.outputs.json).items[0]") == [("steps.s.outputs.json", 9, 29)]


def test_spaces_around_dot() -> None:
    assert paths("github . sha") == [("github.sha", 0, 12)]


# --- Calls -----------------------------------------------------------------------------------


def test_calls_with_nested_args() -> None:
    source = "contains(toJSON(github.event), format('{0}', 'x'))"
    expr = parse_expression(source)
    assert expr == Call(
        "contains",
        (
            Call("toJSON", (Property(Context("github", 16, 22), "event", 16, 28),), 9, 29),
            Call("format", (Literal("{0}", 38, 43), Literal("x", 45, 48)), 31, 49),
        ),
        0,
        50,
    )
    assert paths(source) == [("github.event", 16, 28)]


def test_call_without_arguments_and_case() -> None:
    expr = parse_expression("Success()")
    assert expr == Call("Success", (), 0, 9)
    assert isinstance(expr, Call)
    assert expr.lower_name == "success"


def test_space_before_call_parenthesis() -> None:
    assert parse_expression("always ()") == Call("always", (), 0, 9)


def test_hashfiles_many_args() -> None:
    expr = parse_expression("hashFiles('**/a', '**/b', '**/c')")
    assert isinstance(expr, Call)
    assert [arg.value for arg in expr.args if isinstance(arg, Literal)] == ["**/a", "**/b", "**/c"]


# --- context_paths on compound expressions ---------------------------------------------------


def test_context_paths_compound() -> None:
    source = "contains(github.event.pull_request.labels.*.name, 'x') && github.head_ref"
    assert paths(source) == [
        ("github.event.pull_request.labels.*.name", 9, 48),
        ("github.head_ref", 58, 73),
    ]
    found = context_paths(parse_expression(source))
    assert found[0].parts == ("github", "event", "pull_request", "labels", "*", "name")
    assert source[found[1].start : found[1].end] == "github.head_ref"


def test_context_paths_bare_roots_and_order() -> None:
    assert paths("inputs || (env && !vars.X)") == [
        ("inputs", 0, 6),
        ("env", 11, 14),
        ("vars.x", 19, 25),
    ]


def test_context_paths_literal_only() -> None:
    assert paths("format('{0}', 'x') == 'y'") == []


def test_context_path_helpers() -> None:
    path = ContextPath(("github", "event", "issue", "title"), 0, 5)
    assert path.root == "github"
    assert path.startswith("github", "event")
    assert not path.startswith("github", "head_ref")
    assert context_path(parse_expression("'x'")) is None
    assert context_path(parse_expression("f().a")) is None


def test_is_literal_only() -> None:
    assert is_literal_only(parse_expression("'a' == 'b' || 1 < 2"))
    assert is_literal_only(parse_expression("format('{0}', 'x')"))
    assert is_literal_only(parse_expression("success()"))
    assert not is_literal_only(parse_expression("format('{0}', github.actor)"))
    assert not is_literal_only(parse_expression("fromJSON('[1]')[inputs.i]"))


def test_walk_order() -> None:
    nodes = list(walk(parse_expression("a && f(b)")))
    assert [type(node).__name__ for node in nodes] == ["Binary", "Context", "Call", "Context"]


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message", "offset"),
    [
        ("", "expected an expression, found end of expression", 0),
        ("   ", "expected an expression, found end of expression", 0),
        (
            "contains(github.event, 'x'",
            "expected ')' to close the call to contains, found end of expression",
            26,
        ),
        ("contains(a b)", "expected ',' or ')' in the call to contains, found 'b'", 11),
        ("f(a,)", "expected a literal, a context, a function call, '!' or '(', found ')'", 4),
        ("(a || b", "expected ')' to close the '(' opened at offset 0, found end of expression", 7),
        ("a[0", "expected ']' to close the '[' opened at offset 1, found end of expression", 3),
        ("a b", "expected an operator or the end of the expression, found 'b'", 2),
        ("a.", "expected a property name or '*' after '.', found end of expression", 2),
        ("a.5", "expected a property name or '*' after '.', found '5'", 2),
        (
            "a == ",
            "expected a literal, a context, a function call, '!' or '(', found end of expression",
            5,
        ),
        ("a = b", "unexpected '=' (did you mean '=='?)", 2),
        ("a & b", "unexpected '&' (did you mean '&&'?)", 2),
        ("a | b", "unexpected '|' (did you mean '||'?)", 2),
        ("'abc", "unterminated string literal", 0),
        (
            "x == 'it's'",
            "unexpected text right after a string literal (write '' for a quote inside a string)",
            9,
        ),
        ('"abc"', "strings must be single-quoted, found '\"'", 0),
        ("a.b()", "unexpected '(': only a bare function name can be called", 3),
        ("1.2.3", "invalid number '1.2.3'", 0),
        ("12abc", "invalid number '12abc'", 0),
        ("a - 1", "invalid number '-'", 2),
        ("$foo", "unexpected symbol '$foo'", 0),
        ("a+b", "unexpected symbol 'a+b'", 0),
        (
            "'x'.y",
            "'.' cannot follow a literal: only a context, a function call or a "
            "parenthesized expression can be dereferenced",
            3,
        ),
        (
            "1[0]",
            "'[' cannot follow a literal: only a context, a function call or a "
            "parenthesized expression can be dereferenced",
            1,
        ),
        ("a ! b", "expected an operator or the end of the expression, found '!'", 2),
    ],
)
def test_errors(source: str, message: str, offset: int) -> None:
    exc = error(source)
    assert (exc.message, exc.offset) == (message, offset)
    assert str(exc) == f"{message} at offset {offset}"


def test_error_pickles() -> None:
    exc = pickle.loads(pickle.dumps(ExpressionError("boom", 3)))
    assert (exc.message, exc.offset) == ("boom", 3)


def nested_parens(levels: int) -> str:
    return "(" * levels + "a" + ")" * levels


def test_depth_limit() -> None:
    # MAX_DEPTH counts the context itself and each pair of parentheses.
    assert parse_expression(nested_parens(MAX_DEPTH - 1)) == Context("a", MAX_DEPTH - 1, MAX_DEPTH)
    assert error(nested_parens(MAX_DEPTH)).message == "expression nested more than 100 levels deep"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("(" * 100_000, id="parens"),
        pytest.param("!" * 100_000 + "a", id="bangs"),
        pytest.param("a[" * 50_000, id="brackets"),
        pytest.param("f(" * 50_000, id="calls"),
        pytest.param(" || ".join(["a"] * 5_000), id="or-chain"),
        pytest.param("a" + ".b" * 5_000, id="property-chain"),
        pytest.param("a" + "[0]" * 5_000, id="index-chain"),
    ],
)
def test_pathological_nesting_is_an_expression_error(source: str) -> None:
    assert "levels deep" in error(source).message


# --- find_expressions ------------------------------------------------------------------------


def test_find_multiple() -> None:
    text = 'echo "${{ github.event.issue.title }}" > ${{github.workspace}}/out'
    found = find_expressions(text)
    assert found == [
        Embedded(6, 37, " github.event.issue.title "),
        Embedded(41, 62, "github.workspace"),
    ]
    first = found[0]
    assert text[first.inner_start : first.inner_end] == first.source
    path = context_paths(parse_expression(first.source))[0]
    start, end = first.inner_start + path.start, first.inner_start + path.end
    assert text[start:end] == "github.event.issue.title"


def test_find_braces_inside_string_literal() -> None:
    text = "a ${{ format('}}{0}{{', x) }} b"
    assert find_expressions(text) == [Embedded(2, 29, " format('}}{0}{{', x) ")]


def test_find_nested_format_braces() -> None:
    text = "${{ format('{0}-{1}', github.ref, matrix.os) }}"
    (found,) = find_expressions(text)
    assert found.source == " format('{0}-{1}', github.ref, matrix.os) "
    assert paths(found.source) == [("github.ref", 19, 29), ("matrix.os", 31, 40)]


def test_find_escaped_quote_in_string() -> None:
    text = "${{ 'it''s }}' }}"
    assert find_expressions(text) == [Embedded(0, 17, " 'it''s }}' ")]


def test_find_unterminated() -> None:
    assert find_expressions("echo ${{ github.sha") == []
    assert find_expressions("${{ 'x }} and more") == []
    assert find_expressions("${{") == []


def test_find_after_unterminated_occurrence() -> None:
    # The first ${{ never closes (its string swallows the rest) and is plain text.
    text = "${{ 'x }} ${{ y }}"
    assert find_expressions(text) == [Embedded(10, 18, " y ")]


def test_find_first_closing_braces_win() -> None:
    assert find_expressions("${{ a }}}") == [Embedded(0, 8, " a ")]
    assert find_expressions("${{}}") == [Embedded(0, 5, "")]


def test_find_plain_text() -> None:
    assert find_expressions("no expressions {{ here }} $ {") == []


# --- Properties ------------------------------------------------------------------------------

_EXPRESSION_ALPHABET = st.sampled_from(
    [
        *"abgx_-.*[](),!=<>&|' 019eE+$\"{}\n",
        *["github", "event", "contains(", "0x", "true", "null", "'it''s'", "${{", "}}", "&&", "||"],
    ]
)
_EXPRESSION_TEXT = st.one_of(st.text(), st.lists(_EXPRESSION_ALPHABET).map("".join))


def _check_spans(expr: Expr, source: str) -> None:
    """Every node lies inside the root and its text matches what the node says it is."""
    for node in walk(expr):
        assert expr.start <= node.start < node.end <= expr.end <= len(source)
        text = source[node.start : node.end]
        if isinstance(node, Context):
            assert text == node.name
        elif isinstance(node, Property):
            assert text.endswith(node.name)
        elif isinstance(node, Call):
            assert text.startswith(node.name)
            assert text.endswith(")")
        elif isinstance(node, Index):
            assert text.endswith("]")
        elif isinstance(node, Star):
            assert text.endswith(("*", "]"))
        elif isinstance(node, Unary):
            assert text.startswith("!")


@settings(max_examples=500)
@given(_EXPRESSION_TEXT)
def test_parse_returns_or_raises_expression_error(source: str) -> None:
    try:
        expr = parse_expression(source)
    except ExpressionError as exc:
        offset = exc.offset
    else:
        _check_spans(expr, source)
        for path in context_paths(expr):
            assert 0 <= path.start < path.end <= len(source)
            assert all(part == part.lower() for part in path.parts)
        return
    assert 0 <= offset <= len(source)


def naive_find_expressions(text: str) -> list[Embedded]:
    """Character-by-character reference for find_expressions."""
    found = []
    pos = 0
    while (open_at := text.find("${{", pos)) >= 0:
        in_string, close_at = False, -1
        for i in range(open_at + 3, len(text)):
            if text[i] == "'":
                in_string = not in_string
            elif not in_string and text.startswith("}}", i):
                close_at = i
                break
        if close_at < 0:
            pos = open_at + 1
            continue
        found.append(Embedded(open_at, close_at + 2, text[open_at + 3 : close_at]))
        pos = close_at + 2
    return found


def test_find_is_fast_on_many_unclosed_openings() -> None:
    # An odd number of quotes follows the first "${{", an even number the second.
    text = "${{ '" * 20_001 + "}}"
    assert find_expressions(text) == [Embedded(5, len(text), text[8:-2])]


@settings(max_examples=500)
@given(_EXPRESSION_TEXT)
def test_find_expressions_never_raises(text: str) -> None:
    assert find_expressions(text) == naive_find_expressions(text)
    previous_end = 0
    for found in find_expressions(text):
        assert previous_end <= found.start < found.end <= len(text)
        assert text[found.start : found.inner_start] == "${{"
        assert text[found.inner_end : found.end] == "}}"
        assert text[found.inner_start : found.inner_end] == found.source
        previous_end = found.end


_NAMES = st.sampled_from(["github", "Event", "my-step", "_x", "outputs", "TITLE"])


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Valid expression source built from the grammar."""
    if depth > 4:
        kind = draw(st.sampled_from(["literal", "path"]))
    else:
        kind = draw(st.sampled_from(["literal", "path", "call", "unary", "binary", "group"]))
    if kind == "literal":
        return draw(st.sampled_from(["null", "true", "0xff", "-1.5e3", "'it''s'", "'}}'", "3"]))
    if kind == "path":
        text = draw(_NAMES)
        for _ in range(draw(st.integers(0, 3))):
            text += draw(
                st.one_of(
                    _NAMES.map(lambda name: "." + name),
                    st.just(".*"),
                    st.just("[*]"),
                    st.sampled_from(["['Key']", "[0]"]),
                )
            )
        return text
    inner = [draw(_expressions(depth + 1)) for _ in range(draw(st.integers(1, 3)))]
    if kind == "call":
        return draw(st.sampled_from(["contains", "toJSON", "format"])) + f"({', '.join(inner)})"
    if kind == "unary":
        return "!" + inner[0]
    if kind == "group":
        return f"({inner[0]})"
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||"]))
    return f" {op} ".join(inner)


@given(_expressions())
def test_valid_expressions_parse_and_survive_embedding(source: str) -> None:
    expr = parse_expression(source)
    _check_spans(expr, source)
    for path in context_paths(expr):
        # Re-parsing the span of a path yields the same path.
        again = context_path(parse_expression(source[path.start : path.end]))
        assert again is not None
        assert again.parts == path.parts
    (found,) = find_expressions(f"run: ${{{{{source}}}}} # done")
    assert found.source == source


@pytest.mark.parametrize(
    ("text", "opens", "offset", "message"),
    [
        ("echo ${{ github.event.issue.title", 5, 5, "never closed"),
        ("${{ a }} ${{ 'b }}", 9, 9, "never closed"),
        ('${{ a }} ${{ b == "c" }}', 9, 18, "strings must be single-quoted"),
        ("${{ }}", 0, 3, "expected an expression"),
        ("${{ a. }} ${{ b", 0, 7, "expected a property name"),
    ],
)
def test_first_embedding_error(text: str, opens: int, offset: int, message: str) -> None:
    error = first_embedding_error(text)
    assert error is not None
    assert (error.opens, error.offset) == (opens, offset)
    assert message in error.message


@pytest.mark.parametrize(
    "text", ["plain", "${{ a }}${{ b }}", "${{ '}}' }}", "$ {{ x", "${ { x }}", "x ${{ a.b[*] }}"]
)
def test_no_embedding_error(text: str) -> None:
    assert first_embedding_error(text) is None


def test_integers_past_2_to_the_53_are_doubles() -> None:
    assert parse_expression("9007199254740993") == Literal(float(2**53), 0, 16)
    assert parse_expression("0x" + "f" * 5000) == Literal(math.inf, 0, 5002)
    assert parse_expression("9" * 5000) == Literal(math.inf, 0, 5000)
    assert paths("a[0x" + "f" * 5000 + "]") == [("a.*", 0, 5005)]


def _tokens_or_error(source: str) -> object:
    try:
        return expressions_module._scan_tokens(source)
    except ExpressionError as exc:
        return (exc.message, exc.offset)


@settings(max_examples=1000)
@given(_EXPRESSION_TEXT)
def test_the_common_token_path_agrees_with_the_scanner(source: str) -> None:
    """Where the one-regex tokenizer answers, it gives exactly the scanner's tokens."""
    common = expressions_module._tokenize_common(source)
    if common is not None:
        assert common == _tokens_or_error(source)


@pytest.mark.parametrize(
    "source",
    [
        "github.event.pull_request.title",
        "  contains(github.event.issue.labels.*.name, 'bug') && !cancelled() ",
        "steps.x.outputs.y == 'it''s' || matrix.os != 'ubuntu'",
        "fromJSON(needs.a.outputs.b)[0x1F] >= 1.5e3",
        "true == null",
    ],
)
def test_common_expressions_take_the_common_token_path(source: str) -> None:
    assert expressions_module._tokenize_common(source) == _tokens_or_error(source)


@pytest.mark.parametrize(
    "source",
    [
        "github.event.pull_request.title",
        "  secrets.TOKEN ",
        "matrix.python-version",
        "steps.build.outputs.true",
        "a" + ".b" * 50,
        "a" + ".b" * 51,
    ],
)
def test_a_dotted_path_is_the_tree_the_parser_builds(source: str) -> None:
    assert parse_expression(source) == expressions_module._Parser(source).parse()
    assert repr(parse_expression(source)) == repr(expressions_module._Parser(source).parse())


def test_a_keyword_cannot_start_a_dotted_path() -> None:
    assert error("true.x").message.startswith("'.' cannot follow a literal")
    assert error("a" + ".b" * 120).message == "expression nested more than 100 levels deep"
