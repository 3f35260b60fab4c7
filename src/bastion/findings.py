"""The values every rule produces and every renderer consumes.

They are immutable records, so they are named tuples: every run builds these classes, and a
named tuple costs a fraction of a dataclass to create (start-up is most of a small run).
"""

from __future__ import annotations

import codecs
import enum
import re
from typing import NamedTuple, Self

_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_text(text: str) -> str:
    """``text`` as bastion prints it: valid UTF-8 whatever it holds.

    Python holds the bytes of a file name that is not UTF-8 as lone surrogates
    (``surrogateescape``: the byte 0xff becomes U+DCFF), and a JSON5 ``\\ud800`` escape
    makes one too; neither can be written as UTF-8. Each is written as a backslash escape
    instead: the byte of a file name as ``\\xff``, any other lone surrogate as ``\\ud800``.
    Every path and message in every output goes through this one function.
    """
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(match: re.Match[str]) -> str:
    return _escaped(ord(match.group()))


def _escaped(code: int) -> str:
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def _encode_error(error: UnicodeError) -> tuple[str, int]:
    """The ``bastion-escape`` codec error handler: what ``escape_text`` does, for text that
    reaches an output stream without passing through it (a path in a note, say)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_escaped(ord(char)) for char in bad), error.end


ESCAPE_ERRORS = "bastion-escape"
"""Codec error handler that writes unencodable characters as ``escape_text`` does; the CLI
sets it on standard output and standard error so no output is ever invalid UTF-8."""
codecs.register_error(ESCAPE_ERRORS, _encode_error)


class _Level(enum.IntEnum):
    """An ordered level that users name in lower case (``--min-severity medium``)."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Self:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(level.label for level in cls)
            kind = cls.__name__.lower()
            raise ValueError(f"unknown {kind} {text!r} (choose from {choices})") from None


class Severity(_Level):
    """How much damage the pattern can do if it is exploited."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Confidence(_Level):
    """How sure the rule is that the pattern is really there."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Area(enum.Enum):
    """The part of the playbook a rule belongs to."""

    CICD = "ci-cd"
    REPOSITORY = "repository"
    RELEASE = "release"
    DEPENDENCIES = "dependencies"
    INPUT = "input"


class Point(NamedTuple):
    """A position in a file: 1-based line, 1-based column counted in characters (ordered by
    line, then column)."""

    line: int
    column: int


class Span(NamedTuple):
    start: Point
    end: Point

    @classmethod
    def at(cls, line: int, column: int) -> Span:
        point = Point(line, column)
        return cls(point, point)


class Location(NamedTuple):
    """A place in a file, with what it is: one step of the chain that leads to a finding in
    a called action (``path`` is then ``owner/repo/file@commit``)."""

    path: str
    span: Span
    label: str = ""
    uri: str = ""
    """A URL of the file at its commit, for reports that link to it."""


class Finding(NamedTuple):
    rule: str
    severity: Severity
    confidence: Confidence
    message: str
    path: str
    span: Span
    route: str = ""
    """Where the finding sits in the document (``jobs/build/steps/2/uses``); stable under edits
    that only move lines, so it serves as part of a fingerprint."""
    status: str | None = None
    """None for findings in files; ``"fail"`` or ``"unknown"`` for checks of settings read
    through the GitHub API, whose ``path`` names the repository or organisation."""
    via: tuple[Location, ...] = ()
    """For a finding in a file a workflow calls (``check --graph``): each ``uses:`` after
    the one at ``path``, then the place of the finding in the called file."""

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.start.line, self.span.start.column, self.rule)
