"""GitHub Actions ``${{ }}`` expressions, parsed into a syntax tree.

The grammar follows GitHub's expression language, lowest precedence first::

    expression := and ( "||" and )*
    and        := equality ( "&&" equality )*
    equality   := comparison ( ( "==" | "!=" ) comparison )*
    comparison := unary ( ( "<" | "<=" | ">" | ">=" ) unary )*
    unary      := "!"* postfix
    postfix    := primary ( "." NAME | "." "*" | "[" expression "]" | "[" "*" "]" )*
    primary    := LITERAL | NAME | NAME "(" [ expression ( "," expression )* ] ")"
                | "(" expression ")"

All binary operators are left-associative. As in GitHub, ``.`` and ``[]`` apply only to a context,
a function call or a parenthesised expression, and only a bare NAME can be called.

Tokens: NAME is ``[A-Za-z_][A-Za-z0-9_-]*`` (a NAME followed by ``(`` is a function call, any other
NAME a context root). LITERAL is ``null``, ``true``, ``false``, a number or a string. Numbers are
whatever JavaScript's ``Number()`` accepts (``12``, ``-1.5e3``, ``.5``, ``0xff``, ``0o17``,
``0b101``, ``Infinity``) plus the keyword ``NaN``; a leading ``-`` or ``+`` belongs to the number,
since there is no arithmetic. Strings are single-quoted, ``''`` standing for one quote. Keywords are
case-sensitive; context, property and function names are not, so ``ContextPath`` lowercases them.

Every node carries ``start``/``end`` offsets into the source it was parsed from. A node built from
a parenthesised operand spans the parentheses too; the parenthesised node itself does not.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Iterator
from enum import Enum
from typing import NamedTuple, TypeAlias, assert_never

__all__ = [
    "MAX_DEPTH",
    "Binary",
    "Call",
    "Context",
    "ContextPath",
    "Embedded",
    "EmbeddingError",
    "Expr",
    "ExpressionError",
    "Index",
    "Literal",
    "LiteralValue",
    "Property",
    "Star",
    "Unary",
    "context_path",
    "context_paths",
    "find_expressions",
    "first_embedding_error",
    "is_literal_only",
    "parse_expression",
    "walk",
]

MAX_DEPTH = 100
"""Deepest syntax tree accepted; each pair of parentheses counts as a level too."""

LiteralValue: TypeAlias = str | int | float | bool | None


class ExpressionError(Exception):
    """A syntax error; ``offset`` is a character offset into the expression source."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.message} at offset {self.offset}"


# --- Syntax tree -----------------------------------------------------------------------------


class Literal(NamedTuple):
    value: LiteralValue
    start: int
    end: int


class Context(NamedTuple):
    """A context root such as ``github``; ``name`` is the text as written."""

    name: str
    start: int
    end: int

    @property
    def lower_name(self) -> str:
        return self.name.lower()


class Property(NamedTuple):
    target: Expr
    name: str
    start: int
    end: int


class Index(NamedTuple):
    target: Expr
    subscript: Expr
    """The expression between the brackets."""
    start: int
    end: int


class Star(NamedTuple):
    """The object filter ``target.*`` (also written ``target[*]``)."""

    target: Expr
    start: int
    end: int


class Call(NamedTuple):
    """A function call; ``name`` is the text as written (GitHub ignores its case)."""

    name: str
    args: tuple[Expr, ...]
    start: int
    end: int

    @property
    def lower_name(self) -> str:
        return self.name.lower()


class Unary(NamedTuple):
    op: str
    operand: Expr
    start: int
    end: int


class Binary(NamedTuple):
    op: str
    left: Expr
    right: Expr
    start: int
    end: int


Expr: TypeAlias = Literal | Context | Property | Index | Star | Call | Unary | Binary


# --- Tokenizer -------------------------------------------------------------------------------


class _Kind(Enum):
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    DOT = "."
    STAR = "*"
    OPERATOR = "operator"
    LITERAL = "literal"
    NAME = "name"
    EOF = "end"


class _Token(NamedTuple):
    kind: _Kind
    text: str
    start: int
    end: int
    value: LiteralValue = None


_PUNCTUATION = {
    "(": _Kind.LPAREN,
    ")": _Kind.RPAREN,
    "[": _Kind.LBRACKET,
    "]": _Kind.RBRACKET,
    ",": _Kind.COMMA,
    "*": _Kind.STAR,
}
# Characters that end a name or a number (a number may contain "." though).
_BOUNDARY = frozenset("()[],.!<>=&|")
_DIGITS = frozenset("0123456789")
# After one of these a "." is a dereference, never the start of a number like ".5".
_DEREFERENCEABLE = frozenset({_Kind.NAME, _Kind.RPAREN, _Kind.RBRACKET, _Kind.STAR})
# The patterns of the rarer tokens are compiled (and kept by ``re``) on first use.
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_KEYWORDS: dict[str, LiteralValue] = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": math.nan,
    "Infinity": math.inf,
}
_DECIMAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_RADIX = r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)"
_INFINITY = r"[+-]?Infinity"
_EXACT_INTEGERS = 2**53
"""The largest integer a JavaScript number (a double) holds exactly; larger ones are floats."""


def _quoted(text: str) -> str:
    return f"'{text}'" if len(text) <= 24 else f"'{text[:21]}...'"


def _number(lexeme: str) -> int | float | None:
    """The value of a number literal as JavaScript's ``Number()`` reads it, or None."""
    if re.fullmatch(_RADIX, lexeme):
        value = int(lexeme, 0)  # a power-of-two base: no limit on the digits int() reads
        if value <= _EXACT_INTEGERS:
            return value
        try:
            return float(value)  # JavaScript has a double, so a huge integer rounds
        except OverflowError:
            return math.inf
    if re.fullmatch(_INFINITY, lexeme):
        return -math.inf if lexeme.startswith("-") else math.inf
    if not re.fullmatch(_DECIMAL, lexeme):
        return None
    if "." in lexeme or "e" in lexeme or "E" in lexeme or len(lexeme) > 16:
        return float(lexeme)
    value = int(lexeme)
    return value if abs(value) <= _EXACT_INTEGERS else float(value)


def _scan(source: str, i: int, *, allow_dot: bool) -> int:
    """End of the run of non-boundary characters starting at ``i``."""
    n = len(source)
    while i < n:
        c = source[i]
        if c.isspace() or (c in _BOUNDARY and not (allow_dot and c == ".")):
            break
        i += 1
    return i


# The tokens of well-formed expressions, in one regular expression: names that end where a
# name must, punctuation, operators, strings and numbers that start with a digit. Whatever
# it does not match (an error, a signed number, ".5", a name right after a string) is left
# to the scanner below, which tokenizes the whole expression again and says what is wrong.
_COMMON_TOKEN = re.compile(
    r"""\s*+(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_-]*+)(?![^\s()\[\],.!<>=&|])
      | (?P<punctuation>[()\[\],*])
      | (?P<dot>\.(?![0-9]))
      | (?P<operator>[=!<>]=|&&|\|\||[!<>])
      | (?P<string>'(?:[^']|'')*+')
      | (?P<number>[0-9][^\s()\[\],!<>=&|]*+)
    )""",
    re.VERBOSE,
)
_NAME_GROUP, _PUNCTUATION_GROUP, _DOT_GROUP, _OPERATOR_GROUP, _STRING_GROUP, _NUMBER_GROUP = (
    _COMMON_TOKEN.groupindex[group]
    for group in ("name", "punctuation", "dot", "operator", "string", "number")
)


def _tokenize(source: str) -> list[_Token]:
    return _tokenize_common(source) or _scan_tokens(source)


def _tokenize_common(source: str) -> list[_Token] | None:
    """The tokens of ``source`` when every one is of a common form, else None."""
    tokens: list[_Token] = []
    append = tokens.append
    match = _COMMON_TOKEN.match
    position, n = 0, len(source)
    previous: _Token | None = None
    while position < n:
        found = match(source, position)
        if found is None:
            if source[position:].isspace():
                break
            return None
        kind = found.lastindex or 0
        text = found[kind]
        position = found.end()
        start = position - len(text)  # the match starts with the blanks before the token
        if kind == _NAME_GROUP:
            if previous is not None and previous.end == start and previous.text[0] == "'":
                return None
            if text in _KEYWORDS and (previous is None or previous.kind is not _Kind.DOT):
                token = _Token(_Kind.LITERAL, text, start, position, _KEYWORDS[text])
            else:
                token = _Token(_Kind.NAME, text, start, position)
        elif kind == _PUNCTUATION_GROUP:
            token = _Token(_PUNCTUATION[text], text, start, position)
        elif kind == _DOT_GROUP:
            token = _Token(_Kind.DOT, text, start, position)
        elif kind == _OPERATOR_GROUP:
            token = _Token(_Kind.OPERATOR, text, start, position)
        elif kind == _STRING_GROUP:
            token = _Token(_Kind.LITERAL, text, start, position, text[1:-1].replace("''", "'"))
        else:  # _NUMBER_GROUP
            value = _number(text)
            if value is None:
                return None
            token = _Token(_Kind.LITERAL, text, start, position, value)
        append(token)
        previous = token
    append(_Token(_Kind.EOF, "", n, n))
    return tokens


def _scan_tokens(source: str) -> list[_Token]:
    """Tokenize character by character, raising ExpressionError at the first bad token."""
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
            continue
        previous = tokens[-1].kind if tokens else None
        if c in _PUNCTUATION:
            tokens.append(_Token(_PUNCTUATION[c], c, i, i + 1))
            i += 1
        elif c in "!<>":
            op = source[i : i + 2] if source.startswith("=", i + 1) else c
            tokens.append(_Token(_Kind.OPERATOR, op, i, i + len(op)))
            i += len(op)
        elif c in "=&|":
            op = c * 2
            if not source.startswith(op, i):
                raise ExpressionError(f"unexpected '{c}' (did you mean '{op}'?)", i)
            tokens.append(_Token(_Kind.OPERATOR, op, i, i + 2))
            i += 2
        elif c == "'":
            tokens.append(_string(source, i))
            i = tokens[-1].end
        elif (
            c in _DIGITS
            or c in "+-"
            or (c == "." and previous not in _DEREFERENCEABLE and source[i + 1 : i + 2] in _DIGITS)
        ):
            end = _scan(source, i, allow_dot=True)
            lexeme = source[i:end]
            value = _number(lexeme)
            if value is None:
                raise ExpressionError(f"invalid number {_quoted(lexeme)}", i)
            tokens.append(_Token(_Kind.LITERAL, lexeme, i, end, value))
            i = end
        elif c == ".":
            tokens.append(_Token(_Kind.DOT, c, i, i + 1))
            i += 1
        else:
            if tokens and tokens[-1].end == i and tokens[-1].text.startswith("'"):
                raise ExpressionError(
                    "unexpected text right after a string literal "
                    "(write '' for a quote inside a string)",
                    i,
                )
            end = _scan(source, i, allow_dot=False)
            lexeme = source[i:end]
            if not re.fullmatch(_NAME, lexeme):
                if c == '"':
                    raise ExpressionError("strings must be single-quoted, found '\"'", i)
                raise ExpressionError(f"unexpected symbol {_quoted(lexeme)}", i)
            if previous is not _Kind.DOT and lexeme in _KEYWORDS:
                tokens.append(_Token(_Kind.LITERAL, lexeme, i, end, _KEYWORDS[lexeme]))
            else:
                tokens.append(_Token(_Kind.NAME, lexeme, i, end))
            i = end
    tokens.append(_Token(_Kind.EOF, "", n, n))
    return tokens


def _string(source: str, start: int) -> _Token:
    i = start + 1
    while True:
        quote = source.find("'", i)
        if quote < 0:
            raise ExpressionError("unterminated string literal", start)
        if source.startswith("''", quote):
            i = quote + 2
            continue
        text = source[start : quote + 1]
        return _Token(_Kind.LITERAL, text, start, quote + 1, text[1:-1].replace("''", "'"))


# --- Parser ----------------------------------------------------------------------------------

_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4}


class _Parsed(NamedTuple):
    """A parsed operand: its node, its span (including any parentheses) and tree depth."""

    expr: Expr
    start: int
    end: int
    depth: int
    grouped: bool = False


def _describe(token: _Token) -> str:
    return "end of expression" if token.kind is _Kind.EOF else _quoted(token.text)


class _Parser:
    """Recursive descent for operands; precedence climbing, iteratively, for binary operators.

    Only parentheses, brackets and call arguments recurse, four frames per level, and
    ``_nesting`` stops them at ``MAX_DEPTH`` long before Python's recursion limit.
    """

    def __init__(self, source: str) -> None:
        self._tokens = _tokenize(source)
        self._pos = 0
        self._nesting = 0

    def parse(self) -> Expr:
        if self._peek().kind is _Kind.EOF:
            raise ExpressionError("expected an expression, found end of expression", 0)
        result = self._expression()
        token = self._peek()
        if token.kind is not _Kind.EOF:
            raise ExpressionError(
                f"expected an operator or the end of the expression, found {_describe(token)}",
                token.start,
            )
        return result.expr

    def _peek(self) -> _Token:
        return self._tokens[self._pos]  # the last token is EOF, which no advance passes

    def _peek_next(self) -> _Token:
        """The token after the current one, which is not EOF."""
        return self._tokens[self._pos + 1]

    def _advance(self) -> _Token:
        token = self._tokens[self._pos]
        if token.kind is not _Kind.EOF:
            self._pos += 1
        return token

    @staticmethod
    def _checked(parsed: _Parsed, offset: int) -> _Parsed:
        if parsed.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested more than {MAX_DEPTH} levels deep", offset)
        return parsed

    def _expression(self) -> _Parsed:
        # No try/finally: after an error the parser is discarded.
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested more than {MAX_DEPTH} levels deep", self._peek().start
            )
        operands = [self._unary()]
        operators: list[_Token] = []
        while (token := self._peek()).kind is _Kind.OPERATOR and token.text in _PRECEDENCE:
            precedence = _PRECEDENCE[token.text]
            while operators and _PRECEDENCE[operators[-1].text] >= precedence:
                self._reduce(operands, operators)
            operators.append(self._advance())
            operands.append(self._unary())
        while operators:
            self._reduce(operands, operators)
        self._nesting -= 1
        return operands[0]

    def _reduce(self, operands: list[_Parsed], operators: list[_Token]) -> None:
        right, left, op = operands.pop(), operands.pop(), operators.pop()
        node = Binary(op.text, left.expr, right.expr, left.start, right.end)
        depth = 1 + max(left.depth, right.depth)
        operands.append(self._checked(_Parsed(node, left.start, right.end, depth), op.start))

    def _unary(self) -> _Parsed:
        bangs: list[int] = []
        while (token := self._peek()).kind is _Kind.OPERATOR and token.text == "!":
            bangs.append(self._advance().start)
        operand = self._postfix()
        for start in reversed(bangs):
            node = Unary("!", operand.expr, start, operand.end)
            operand = self._checked(_Parsed(node, start, operand.end, operand.depth + 1), start)
        return operand

    def _postfix(self) -> _Parsed:
        current = self._primary()
        if not (current.grouped or isinstance(current.expr, (Context, Call))):
            token = self._peek()
            if token.kind in (_Kind.DOT, _Kind.LBRACKET):
                raise ExpressionError(
                    f"{_describe(token)} cannot follow a literal: only a context, a function "
                    "call or a parenthesized expression can be dereferenced",
                    token.start,
                )
            return current
        while True:
            token = self._peek()
            node: Expr
            if token.kind is _Kind.DOT:
                self._advance()
                name = self._advance()
                if name.kind is _Kind.NAME:
                    node = Property(current.expr, name.text, current.start, name.end)
                elif name.kind is _Kind.STAR:
                    node = Star(current.expr, current.start, name.end)
                else:
                    raise ExpressionError(
                        f"expected a property name or '*' after '.', found {_describe(name)}",
                        name.start,
                    )
                depth = current.depth + 1
            elif token.kind is _Kind.LBRACKET:
                self._advance()
                if self._peek().kind is _Kind.STAR and self._peek_next().kind is _Kind.RBRACKET:
                    self._advance()
                    close = self._advance()
                    node = Star(current.expr, current.start, close.end)
                    depth = current.depth + 1
                else:
                    index = self._expression()
                    close = self._advance()
                    if close.kind is not _Kind.RBRACKET:
                        raise ExpressionError(
                            f"expected ']' to close the '[' opened at offset {token.start}, "
                            f"found {_describe(close)}",
                            close.start,
                        )
                    node = Index(current.expr, index.expr, current.start, close.end)
                    depth = 1 + max(current.depth, index.depth)
            else:
                break
            current = self._checked(_Parsed(node, current.start, node.end, depth), token.start)
        token = self._peek()
        if token.kind is _Kind.LPAREN:
            raise ExpressionError(
                "unexpected '(': only a bare function name can be called", token.start
            )
        return current

    def _primary(self) -> _Parsed:
        token = self._advance()
        if token.kind is _Kind.LITERAL:
            return _Parsed(Literal(token.value, token.start, token.end), token.start, token.end, 1)
        if token.kind is _Kind.NAME:
            if self._peek().kind is _Kind.LPAREN:
                return self._call(token)
            return _Parsed(Context(token.text, token.start, token.end), token.start, token.end, 1)
        if token.kind is _Kind.LPAREN:
            inner = self._expression()
            close = self._advance()
            if close.kind is not _Kind.RPAREN:
                raise ExpressionError(
                    f"expected ')' to close the '(' opened at offset {token.start}, "
                    f"found {_describe(close)}",
                    close.start,
                )
            grouped = _Parsed(inner.expr, token.start, close.end, inner.depth + 1, grouped=True)
            return self._checked(grouped, token.start)
        raise ExpressionError(
            f"expected a literal, a context, a function call, '!' or '(', found {_describe(token)}",
            token.start,
        )

    def _call(self, name: _Token) -> _Parsed:
        self._advance()  # "("
        args: list[_Parsed] = []
        if self._peek().kind is _Kind.RPAREN:
            close = self._advance()
        else:
            while True:
                if self._peek().kind is not _Kind.EOF:
                    args.append(self._expression())
                close = self._advance()
                if close.kind is _Kind.RPAREN:
                    break
                if close.kind is _Kind.EOF:
                    raise ExpressionError(
                        f"expected ')' to close the call to {name.text}, found end of expression",
                        close.start,
                    )
                if close.kind is not _Kind.COMMA:
                    raise ExpressionError(
                        f"expected ',' or ')' in the call to {name.text}, found {_describe(close)}",
                        close.start,
                    )
        node = Call(name.text, tuple(arg.expr for arg in args), name.start, close.end)
        depth = 1 + max((arg.depth for arg in args), default=0)
        return self._checked(_Parsed(node, name.start, close.end, depth), name.start)


@functools.lru_cache(maxsize=16384)
def parse_expression(source: str) -> Expr:
    """Parse the inside of ``${{ }}`` (surrounding whitespace allowed).

    Raises ExpressionError, whose ``offset`` indexes ``source``. Trees are immutable, so a
    parse is cached: several rules read the same expressions, and projects repeat them.
    """
    path = _DOTTED_PATH.fullmatch(source)
    if path is not None and path[1] not in _KEYWORDS:
        return _dotted_path(path)
    return _Parser(source).parse()


_DOTTED_PATH = re.compile(
    r"\s*+([A-Za-z_][A-Za-z0-9_-]*+)((?:\.[A-Za-z_][A-Za-z0-9_-]*+){0,50})\s*+"
)
"""The most common expression, a context and its properties (``github.event.number``): its
tree is built without the tokenizer and the parser (at most 51 levels, well inside
MAX_DEPTH)."""


def _dotted_path(path: re.Match[str]) -> Expr:
    """The tree the parser builds for a match of _DOTTED_PATH."""
    start, end = path.span(1)
    tree: Expr = Context(path[1], start, end)
    for name in path[2].split(".")[1:]:
        name_start = end + 1
        end = name_start + len(name)
        tree = Property(tree, name, start, end)
    return tree


# --- Traversal and context access paths ------------------------------------------------------


def _children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Literal() | Context():
            return ()
        case Property(target=target) | Star(target=target):
            return (target,)
        case Index(target=target, subscript=subscript):
            return (target, subscript)
        case Call(args=args):
            return args
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case _:
            assert_never(expr)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children, children in source order."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


def is_literal_only(expr: Expr) -> bool:
    """Whether no context is read anywhere in the tree, so the value is fixed when written.

    Calls count as literal unless their arguments read a context (``hashFiles('x')`` and
    ``success()`` read no context, though their values are not known in advance).
    """
    return not any(isinstance(node, Context) for node in walk(expr))


class ContextPath(NamedTuple):
    """A context access chain such as ``github.event.pull_request.title``, lowercased.

    ``"*"`` stands for ``.*``, ``[*]`` and any index that is not a literal string or an integral
    number; ``a['B']`` gives the part ``"b"`` and ``a[0]`` the part ``"0"``.
    """

    parts: tuple[str, ...]
    start: int
    end: int

    def dotted(self) -> str:
        return ".".join(self.parts)

    @property
    def root(self) -> str:
        return self.parts[0]

    def startswith(self, *prefix: str) -> bool:
        """Whether the path begins with ``prefix`` (lowercase parts; ``"*"`` matches only ``*``)."""
        return self.parts[: len(prefix)] == prefix


def _index_part(index: Expr) -> str:
    if isinstance(index, Literal):
        value = index.value
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
    return "*"


def context_path(expr: Expr) -> ContextPath | None:
    """The path of ``expr`` if it is a context root followed only by ``.``/``[]`` accesses."""
    parts: list[str] = []
    node = expr
    while True:
        if isinstance(node, Property):
            parts.append(node.name.lower())
        elif isinstance(node, Star):
            parts.append("*")
        elif isinstance(node, Index):
            parts.append(_index_part(node.subscript))
        elif isinstance(node, Context):
            parts.append(node.name.lower())
            return ContextPath(tuple(reversed(parts)), expr.start, expr.end)
        else:
            return None
        node = node.target


def context_paths(expr: Expr) -> list[ContextPath]:
    """Every maximal context access chain in the tree, in source order.

    Chains inside call arguments and inside index expressions (``a[b.c]`` gives ``a.*`` and
    ``b.c``) are included; prefixes of a chain are not.
    """
    paths: list[ContextPath] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        path = context_path(node)
        if path is None:
            stack.extend(_children(node))
            continue
        paths.append(path)
        while not isinstance(node, Context):  # look inside the chain's index expressions
            if isinstance(node, Index):
                stack.append(node.subscript)
            assert isinstance(node, Property | Star | Index)
            node = node.target
    paths.sort(key=lambda path: (path.start, path.end))
    return paths


# --- Expressions embedded in text ------------------------------------------------------------

_OPEN = "${{"
_CLOSE = re.compile(r"\}\}")
_QUOTE = re.compile("'")


class Embedded(NamedTuple):
    """One ``${{ ... }}`` in a host string; ``start``/``end`` index the host string."""

    start: int
    end: int
    source: str

    @property
    def inner_start(self) -> int:
        """Host offset of ``source[0]``: add it to an expression offset to get a host offset."""
        return self.start + 3

    @property
    def inner_end(self) -> int:
        return self.end - 2


def find_expressions(text: str) -> list[Embedded]:
    """Every ``${{ ... }}`` in ``text``, in order (see :func:`_find_expressions`)."""
    return list(_find_expressions(text)) if "${{" in text else []


@functools.lru_cache(maxsize=8192)
def _find_expressions(text: str) -> tuple[Embedded, ...]:
    """Every ``${{ ... }}`` in ``text``, in order.

    Scanning from ``${{``, each ``'`` toggles "inside a string" and the first ``}}`` outside a
    string closes the expression, as GitHub does (``''`` toggles twice, so escapes need no
    care). An unclosed ``${{`` is skipped as plain text and the search goes on after it.
    Nothing here raises.
    """
    # A "}}" closes an expression opened at q iff an even number of quotes lies between them,
    # i.e. iff the quote-count parity before it equals the parity before q. Indexing the
    # candidates by parity keeps this O(n log n) even for text full of unclosed "${{ '".
    closers: tuple[list[int], list[int]] = ([], [])
    if "'" in text:
        quotes = [match.start() for match in _QUOTE.finditer(text)]
        for match in _CLOSE.finditer(text):
            closers[bisect.bisect_left(quotes, match.start()) & 1].append(match.start())
    else:
        quotes = []
        closers[0].extend(match.start() for match in _CLOSE.finditer(text))
    found: list[Embedded] = []
    pos = 0
    while (open_at := text.find(_OPEN, pos)) >= 0:
        inner = open_at + 3
        candidates = closers[bisect.bisect_left(quotes, inner) & 1]
        k = bisect.bisect_left(candidates, inner)
        if k == len(candidates):
            pos = open_at + 1
            continue
        close_at = candidates[k]
        found.append(Embedded(open_at, close_at + 2, text[inner:close_at]))
        pos = close_at + 2
    return tuple(found)


class EmbeddingError(NamedTuple):
    """A ``${{`` in a host string that GitHub refuses; offsets index the host string."""

    opens: int
    """The ``${{`` of the expression."""
    offset: int
    """Where the problem is: the ``${{`` of an unclosed expression, else the syntax error."""
    message: str


@functools.lru_cache(maxsize=8192)
def first_embedding_error(text: str) -> EmbeddingError | None:
    """The first ``${{`` of ``text`` that GitHub would refuse, or None.

    GitHub's template reader goes through a value's expressions in order and stops at the
    first that is not closed (no ``}}`` outside a string) or does not parse; the whole file
    is then refused. That first problem is the one returned (kept: projects repeat values).
    """
    if _OPEN not in text:
        return None
    found = find_expressions(text)
    position = 0
    for item in found:
        unclosed = text.find(_OPEN, position, item.start)
        if unclosed >= 0:  # find_expressions skipped it: no "}}" closes it
            return _unclosed(unclosed)
        try:
            parse_expression(item.source)
        except ExpressionError as error:
            message = f"invalid expression: {error.message}"
            return EmbeddingError(item.start, item.inner_start + error.offset, message)
        position = item.end
    unclosed = text.find(_OPEN, position)
    return _unclosed(unclosed) if unclosed >= 0 else None


def _unclosed(offset: int) -> EmbeddingError:
    message = "an expression opened with `${{` is never closed with `}}`"
    return EmbeddingError(offset, offset, message)


def mask_expressions(text: str, embedded: list[Embedded] | None = None) -> str:
    """``text`` with each ``${{ }}`` replaced by ``0`` characters, offsets and line breaks kept.

    What is left is the shell or JavaScript around the expressions, which may be searched as
    text, line by line; the expressions themselves are read with the parser.
    """
    found = find_expressions(text) if embedded is None else embedded
    if not found:
        return text
    parts: list[str] = []
    position = 0
    for item in found:
        parts.append(text[position : item.start])
        parts.append(re.sub(r"[^\r\n]", "0", text[item.start : item.end]))
        position = item.end
    parts.append(text[position:])
    return "".join(parts)
