"""Shell scripts of `run:` steps, read as far as rules need: lines, commands and their words.

This is not a shell parser. Expressions are masked first (offsets kept), so `${{ }}` never
looks like shell; a script is then cut into *logical lines* (backslash continuations
joined) and *simple commands* (cut at newlines, `;`, `&&`, `||`, pipes, `&`, parentheses,
braces and backquotes). A command's words have their quotes stripped, and leading words
that only prefix the real command (`sudo`, `env`, `VAR=value`, `then`...) are dropped.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from bastion.findings import Span
from bastion.model.expressions import mask_expressions
from bastion.model.walk import locate, value_span
from bastion.source.text import LineIndex
from bastion.source.yaml import ScalarNode

PREFIXES = frozenset({"sudo", "env", "exec", "command", "time", "then", "do", "else", "!"})
"""Words that may come before a command's name."""
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATOR = re.compile(r"&&|\|\||[\n;|&(){}`]")
_PARAMETER = re.compile(r"\$\{([^{}\s]*)\}")
"""`${NAME}`, whose braces are not a group: read as `$NAME` (`${X:-y}` as `$X:-y`)."""


def command_words(text: str) -> list[str]:
    """The words of one simple command, quotes stripped, prefixes and assignments dropped."""
    words = [word.strip("\"'") for word in text.split()]
    start = 0
    while start < len(words) and (words[start] in PREFIXES or _ASSIGNMENT.match(words[start])):
        start += 1
    return words[start:]


class ScriptLine(NamedTuple):
    """One logical line of a script (continuations joined), with its first physical line."""

    masked: str
    """The logical line with ``${{ }}`` masked and continuations joined."""
    original: str
    """The logical line as written (continuations joined, expressions kept)."""
    first: str
    """Its first physical line, to locate it in the file."""
    start: int
    """Offset of the first physical line in the script."""
    end: int
    """Offset just past its last physical line."""


@functools.lru_cache(maxsize=4096)
def script_lines(script: str) -> tuple[ScriptLine, ...]:
    """The logical lines of a script (cached: several rules read the same scripts)."""
    masked_script = mask_expressions(script)
    physical = script.split("\n")
    masked_physical = masked_script.split("\n")
    found: list[ScriptLine] = []
    offset = 0
    if "\\" not in masked_script:  # no continuation: each physical line is a logical one
        for line, masked in zip(physical, masked_physical, strict=True):
            end = offset + len(line)
            found.append(ScriptLine(masked, line, line.rstrip("\r"), offset, end))
            offset = end + 1
        return tuple(found)
    index = 0
    while index < len(physical):
        start = offset
        first = physical[index]
        parts, masked_parts = [], []
        while True:
            line, masked = physical[index], masked_physical[index]
            offset += len(line) + 1
            index += 1
            continued = masked.rstrip("\r").endswith("\\") and index < len(physical)
            parts.append(line.rstrip("\r").removesuffix("\\") if continued else line)
            masked_parts.append(masked.rstrip("\r").removesuffix("\\") if continued else masked)
            if not continued:
                break
        joined, masked_joined = " ".join(parts), " ".join(masked_parts)
        found.append(ScriptLine(masked_joined, joined, first.rstrip("\r"), start, offset - 1))
    return tuple(found)


@functools.lru_cache(maxsize=16384)
def commands(masked_line: str) -> list[list[str]]:
    """The simple commands of a logical line, as words (see :func:`command_words`).

    Cached: the release, provenance, download and credential rules all read the same
    lines; the lists are shared, so callers must not change them."""
    if masked_line.lstrip().startswith("#"):
        return []
    found = []
    text = _PARAMETER.sub(r"$\1", masked_line.split(" #", maxsplit=1)[0])
    for piece in _SEPARATOR.split(text):
        words = command_words(piece)
        if words:
            found.append(words)
    return found


def command_start(masked_line: str, words: list[str]) -> int:
    """Where the command of ``words`` starts in ``masked_line``: the first place its first two
    words are written with only spaces or quotes between them, else where its first word is,
    else 0."""
    parts = [word for word in words[:2] if word]
    if not parts:
        return 0
    first = parts[0]
    at = masked_line.find(first)
    while at >= 0:
        if len(parts) == 1:
            return at
        end = gap = at + len(first)
        while gap < len(masked_line) and (masked_line[gap].isspace() or masked_line[gap] in "\"'"):
            gap += 1
        if gap > end and masked_line.startswith(parts[1], gap):
            return at
        at = masked_line.find(first, at + 1)
    return max(masked_line.find(words[0]), 0)


def line_span(lines: LineIndex, run: ScalarNode, script: str, line: ScriptLine) -> Span:
    """Where the first physical line of ``line`` is written in the file."""
    text = line.first.strip()
    if script is run.value:
        start = line.start + len(line.first) - len(line.first.lstrip())
        return value_span(lines, run, start, start + len(text))
    return locate(lines, run, text, script.count(text, 0, line.start))


class Command(NamedTuple):
    """One simple command of a script, with its exact place in the script."""

    text: str
    start: int
    """Offset of the command in the script."""
    masked: str
    """The text with ``${{ }}`` masked and line continuations blanked."""


def simple_commands(script: str) -> list[Command]:
    """Each simple command of ``script``, in order, with offsets into the script."""
    # Continuations become spaces of the same length, so offsets stay those of the script.
    masked = mask_expressions(script).replace("\\\r\n", "   ").replace("\\\n", "  ")
    # The braces of `${NAME}` group nothing: hide them from the split, offsets unchanged.
    braces_hidden = _PARAMETER.sub(lambda match: "$" + "_" * (len(match.group()) - 1), masked)
    found: list[Command] = []
    position = 0
    for separator in [*_SEPARATOR.finditer(braces_hidden), None]:
        end = separator.start() if separator else len(masked)
        piece = masked[position:end]
        stripped = piece.strip()
        if stripped:
            start = position + len(piece) - len(piece.lstrip())
            found.append(Command(script[start : start + len(stripped)], start, stripped))
        position = separator.end() if separator else end
    return found
