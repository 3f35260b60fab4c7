""".gitignore files, matched with git's semantics in time linear in the path's length.

A pattern is compiled into a small automaton (literal bytes, ``?``, bracket sets, ``*``,
``**``) that is run over the path's bytes with a set of live states, so no pattern can make
matching backtrack. Malformed patterns are treated as git's wildmatch treats them: a bracket
that is never closed, or a ``[:name:]`` class git does not know, can match nothing, while
``[z-a]`` is a set that holds no character. Within one file the last matching pattern
decides; a deeper file decides before the ones above it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from bastion.source.files import FileAccessError, read_file

MAX_GITIGNORE_BYTES = 1024 * 1024
"""A larger .gitignore is not read (so more files are checked, never fewer by accident)."""

_SLASH = ord("/")
_BACKSLASH = ord("\\")
_STAR = ord("*")

# Token kinds of a compiled pattern.
_LITERAL = 0  # one given byte
_ONE = 1  # one byte from a set (``?`` or a bracket)
_STARS = 2  # any run of bytes without a slash (``*``)
_ANYTHING = 3  # any run of bytes (``**`` as a whole component)
_SKIP = 4  # consumes nothing: go on at the next token or at ``target`` (``**/``: no dirs)

_NOT_SLASH = frozenset(range(256)) - {_SLASH}

_CLASSES: dict[bytes, frozenset[int]] = {
    b"alnum": frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    b"alpha": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    b"blank": frozenset(b" \t"),
    b"cntrl": frozenset([*range(32), 127]),
    b"digit": frozenset(b"0123456789"),
    b"graph": frozenset(range(33, 127)),
    b"lower": frozenset(b"abcdefghijklmnopqrstuvwxyz"),
    b"print": frozenset(range(32, 127)),
    b"punct": frozenset(c for c in range(33, 127) if not chr(c).isalnum()),
    b"space": frozenset(b" \t\n\r\f\v"),
    b"upper": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    b"xdigit": frozenset(b"0123456789ABCDEFabcdef"),
}


class _Token(NamedTuple):
    kind: int
    byte: int = 0
    allowed: frozenset[int] = frozenset()
    target: int = 0


class _Malformed(Exception):
    """The pattern can never match (git's wildmatch gives up on it)."""


class Glob:
    """One wildmatch pattern (with ``/`` special: ``*`` and ``?`` never match it).

    Literal bytes every match must hold (a leading run, a trailing run, the longest run) are
    checked first with bytes methods, so most paths are turned away without running the
    automaton; ``*`` followed by literals (``*.log``) and literals followed by ``*`` are
    answered by those checks alone.
    """

    __slots__ = (
        "_accept",
        "_exact",
        "_longest",
        "_prefix",
        "_start",
        "_steps",
        "_suffix",
        "tokens",
    )

    def __init__(self, pattern: bytes) -> None:
        self.tokens = _compile(pattern)
        self._accept = len(self.tokens)
        self._start = self._closure({0})
        self._steps: dict[tuple[frozenset[int], int], frozenset[int]] = {}
        self._prefix, self._suffix, self._longest, self._exact = _literal_runs(self.tokens)

    def matches(self, text: bytes) -> bool:
        if self._prefix and not text.startswith(self._prefix):
            return False
        if self._suffix and not text.endswith(self._suffix):
            return False
        if self._exact:  # literals and one ``*``: the rest must hold no slash
            middle = text[len(self._prefix) : len(text) - len(self._suffix)]
            return len(text) >= len(self._prefix) + len(self._suffix) and b"/" not in middle
        if self._longest and self._longest not in text:
            return False
        states = self._start
        steps = self._steps
        for byte in text:
            key = (states, byte)
            following = steps.get(key)
            if following is None:
                following = self._step(states, byte)
                if len(steps) < 4096:
                    steps[key] = following
            states = following
            if not states:
                return False
        return self._accept in states

    def _step(self, states: frozenset[int], byte: int) -> frozenset[int]:
        reached: set[int] = set()
        for index in states:
            if index == self._accept:
                continue
            token = self.tokens[index]
            if token.kind == _LITERAL:
                if token.byte == byte:
                    reached.add(index + 1)
            elif token.kind == _ONE:
                if byte in token.allowed:
                    reached.add(index + 1)
            elif token.kind == _STARS:
                if byte != _SLASH:
                    reached.add(index)
            elif token.kind == _ANYTHING:
                reached.add(index)
        return self._closure(reached)

    def _closure(self, states: Iterable[int]) -> frozenset[int]:
        """The states together with those reached from them without consuming a byte."""
        pending = list(states)
        found = set(pending)
        while pending:
            index = pending.pop()
            if index == self._accept:
                continue
            token = self.tokens[index]
            nexts: tuple[int, ...] = ()
            if token.kind in (_STARS, _ANYTHING):
                nexts = (index + 1,)
            elif token.kind == _SKIP:
                nexts = (index + 1, token.target)
            for following in nexts:
                if following not in found:
                    found.add(following)
                    pending.append(following)
        return frozenset(found)


def _literal_runs(tokens: list[_Token]) -> tuple[bytes, bytes, bytes, bool]:
    """The literal run a match starts with, the one it ends with, the longest run it must
    hold, and whether the pattern is just those runs around one ``*``."""
    optional: set[int] = set()
    for index, token in enumerate(tokens):
        if token.kind == _SKIP:
            optional.update(range(index + 1, token.target))
    runs: list[tuple[int, int]] = []  # [start, end) of each run of mandatory literals
    start = None
    for index, token in enumerate([*tokens, _Token(_SKIP)]):
        literal = token.kind == _LITERAL and index not in optional
        if literal and start is None:
            start = index
        elif not literal and start is not None:
            runs.append((start, index))
            start = None

    def text(run: tuple[int, int]) -> bytes:
        return bytes(token.byte for token in tokens[run[0] : run[1]])

    prefix = text(runs[0]) if runs and runs[0][0] == 0 else b""
    suffix = text(runs[-1]) if runs and runs[-1][1] == len(tokens) and runs[-1][0] > 0 else b""
    longest = max((text(run) for run in runs), key=len, default=b"")
    stars = [index for index, token in enumerate(tokens) if token.kind != _LITERAL]
    exact = (
        len(stars) == 1
        and tokens[stars[0]].kind == _STARS
        and len(prefix) + len(suffix) == len(tokens) - 1
    )
    return prefix, suffix, longest, exact


def _compile(pattern: bytes) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    length = len(pattern)
    while index < length:
        byte = pattern[index]
        if byte == _STAR:
            end = index
            while end < length and pattern[end] == _STAR:
                end += 1
            before = pattern[index - 1] if index > 0 else None
            rest = pattern[end:]
            whole = (end - index >= 2) and (before is None or before == _SLASH)
            if whole and rest[:1] == b"/":
                # ``**/``: no directory at all, or any run of them ending with a slash.
                tokens.append(_Token(_SKIP, target=len(tokens) + 3))
                tokens.append(_Token(_ANYTHING))
                tokens.append(_Token(_LITERAL, _SLASH))
                index = end + 1
                continue
            if whole and (not rest or rest[:2] == b"\\/"):
                tokens.append(_Token(_ANYTHING))
            elif not tokens or tokens[-1].kind != _STARS:
                tokens.append(_Token(_STARS))
            index = end
        elif byte == ord("?"):
            tokens.append(_Token(_ONE, allowed=_NOT_SLASH))
            index += 1
        elif byte == ord("["):
            allowed, index = _bracket(pattern, index + 1)
            tokens.append(_Token(_ONE, allowed=allowed))
        elif byte == _BACKSLASH:
            if index + 1 >= length:
                raise _Malformed  # a trailing backslash escapes nothing
            tokens.append(_Token(_LITERAL, pattern[index + 1]))
            index += 2
        else:
            tokens.append(_Token(_LITERAL, byte))
            index += 1
    return tokens


def _bracket(pattern: bytes, index: int) -> tuple[frozenset[int], int]:
    """The set a bracket expression allows (``index`` is just after ``[``), and where the
    pattern goes on; raises _Malformed when git would give up."""
    length = len(pattern)
    negated = index < length and pattern[index] in b"!^"
    if negated:
        index += 1
    members: set[int] = set()
    previous: int | None = None
    first = True
    while True:
        if index >= length:
            raise _Malformed  # never closed
        byte = pattern[index]
        if byte == ord("]") and not first:
            index += 1
            break
        first = False
        if byte == _BACKSLASH:
            index += 1
            if index >= length:
                raise _Malformed
            byte = pattern[index]
            members.add(byte)
            previous = byte
            index += 1
        elif (
            byte == ord("-")
            and previous is not None
            and index + 1 < length
            and pattern[index + 1] != ord("]")
        ):
            index += 1
            end = pattern[index]
            if end == _BACKSLASH:
                index += 1
                if index >= length:
                    raise _Malformed
                end = pattern[index]
            members.update(range(previous, end + 1))
            previous = None
            index += 1
        elif byte == ord("[") and pattern[index + 1 : index + 2] == b":":
            close = pattern.find(b"]", index + 2)
            if close < 0:
                raise _Malformed
            if close - 1 < index + 2 or pattern[close - 1] != ord(":"):
                members.add(byte)  # not a class after all: a plain ``[``
                previous = byte
                index += 1
                continue
            name = pattern[index + 2 : close - 1]
            if name not in _CLASSES:
                raise _Malformed
            members.update(_CLASSES[name])
            previous = None
            index = close + 1
        else:
            members.add(byte)
            previous = byte
            index += 1
    allowed = (frozenset(range(256)) - members) if negated else frozenset(members)
    return allowed - {_SLASH}, index


class Pattern(NamedTuple):
    glob: Glob
    negated: bool
    directory_only: bool
    basename: bool
    """Matched against the last component only (the pattern has no slash)."""
    literal: bytes | None
    """The pattern itself, when it holds no wildcard (compared directly)."""


def parse_line(line: bytes) -> Pattern | None:
    """The pattern of one .gitignore line; None for blanks, comments and patterns that can
    never match."""
    line = line.removesuffix(b"\r")
    if not line or line.startswith(b"#"):
        return None
    line = _trim_trailing_spaces(line)
    negated = line.startswith(b"!")
    if negated:
        line = line[1:]
    directory_only = line.endswith(b"/")
    if directory_only:
        line = line[:-1]
    if not line:
        return None
    basename = b"/" not in line
    if not basename and line.startswith(b"/"):
        line = line[1:]
    try:
        glob = Glob(line)
    except _Malformed:
        return None
    literal = line if not any(c in line for c in b"*?[\\") else None
    return Pattern(glob, negated, directory_only, basename, literal)


def _trim_trailing_spaces(line: bytes) -> bytes:
    """Drop trailing spaces, except one escaped with a backslash (as git does)."""
    end = len(line)
    last_space: int | None = None
    index = 0
    while index < end:
        byte = line[index]
        if byte == ord(" "):
            if last_space is None:
                last_space = index
        elif byte == _BACKSLASH:
            index += 1
            if index >= end:
                return line
            last_space = None
        else:
            last_space = None
        index += 1
    return line[:last_space] if last_space is not None else line


class Gitignore:
    """The patterns of one .gitignore file, for the paths under its directory."""

    __slots__ = ("base", "patterns")

    def __init__(self, base: Path, lines: Iterable[str | bytes]) -> None:
        self.base = base
        self.patterns: list[Pattern] = []
        for line in lines:
            parsed = parse_line(os.fsencode(line) if isinstance(line, str) else line)
            if parsed is not None:
                self.patterns.append(parsed)

    @classmethod
    def read(cls, path: Path, root: Path | None) -> Gitignore:
        """The file's patterns; one that cannot be read (a FIFO, a symlink, too large) has
        none. git itself does not follow a symlinked .gitignore."""
        try:
            if path.is_symlink():
                return cls(path.parent, [])
            data = read_file(path, root, MAX_GITIGNORE_BYTES)
        except FileAccessError:
            return cls(path.parent, [])
        return cls(path.parent, data.removeprefix(b"\xef\xbb\xbf").split(b"\n"))

    def match(self, path: Path, *, is_dir: bool) -> bool | None:
        """True if the file's last matching pattern ignores ``path``, False if it re-includes
        it, None if no pattern matches."""
        try:
            relative = os.fsencode(path.relative_to(self.base).as_posix())
        except ValueError:
            return None
        name = relative.rsplit(b"/", 1)[-1]
        for pattern in reversed(self.patterns):
            if pattern.directory_only and not is_dir:
                continue
            subject = name if pattern.basename else relative
            if pattern.literal is not None:
                hit = subject == pattern.literal
            else:
                hit = pattern.glob.matches(subject)
            if hit:
                return not pattern.negated
        return None

    def ignores(self, path: Path, *, is_dir: bool) -> bool:
        return self.match(path, is_dir=is_dir) is True


def ignored(ignores: Sequence[Gitignore], path: Path, *, is_dir: bool) -> bool:
    """Whether ``path`` is ignored by the .gitignore files above it (outermost first)."""
    for ignore in reversed(ignores):
        decision = ignore.match(path, is_dir=is_dir)
        if decision is not None:
            return decision
    return False
