"""Dockerfiles, read as far as the audits need: instructions, the images they pull, scripts.

Follows Docker's reading: instructions are case-insensitive; a line ending in the escape
character (``\\``, or the one a ``# escape=`` directive names) continues on the next, and
comment or empty lines inside a continued instruction are dropped; ``RUN <<EOF`` heredocs
run to their terminator. ``ARG`` values declared before the first ``FROM`` are substituted
into ``FROM`` (``$NAME``, ``${NAME}``, ``${NAME:-default}``). ``FROM x AS y`` names a stage: a
later ``FROM y`` or ``COPY --from=y`` (or ``--from=0``) refers to it, not to a new image;
``scratch`` is no image at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bastion.findings import Point, Span

_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    """Upper case: ``FROM``, ``RUN``..."""
    arguments: str
    """Everything after the keyword: its lines as written (escape characters kept), joined
    by newlines, without the comment and empty lines inside it; a script keeps its lines."""
    line: int
    """The line of the keyword."""
    lines: tuple[int, ...]
    """The line number of each line of ``arguments``."""
    escape: str = "\\"

    @property
    def words(self) -> list[str]:
        """The words of the arguments, continuations joined."""
        return [
            word
            for part in self.arguments.split("\n")
            for word in part.rstrip().removesuffix(self.escape).split()
        ]

    def line_of(self, offset: int) -> int:
        """The line number of an offset into ``arguments``."""
        return self.lines[min(self.arguments.count("\n", 0, offset), len(self.lines) - 1)]


@dataclass(frozen=True, slots=True)
class Image:
    """An image a Dockerfile pulls: the base of a stage, or the source of a ``COPY --from``."""

    reference: str
    """As written, with the pre-``FROM`` ``ARG`` values substituted."""
    span: Span
    """Where the reference is written."""
    copy: bool
    """From ``COPY --from=`` rather than ``FROM``."""
    unresolved: bool
    """It still holds a variable no ``ARG`` gives a value."""

    @property
    def pinned(self) -> bool:
        return _DIGEST.search(self.reference) is not None


@dataclass(frozen=True, slots=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    images: tuple[Image, ...]


def _escape(lines: list[str]) -> str:
    for text in lines:
        match = _DIRECTIVE.match(text.strip())
        if match is None:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            return match.group(2)
    return "\\"


def _instructions(text: str) -> list[Instruction]:
    physical = text.splitlines()
    escape = _escape(physical)
    found: list[Instruction] = []
    index = 0
    while index < len(physical):
        raw = physical[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        if "\t" in keyword:
            keyword, _, tail = keyword.partition("\t")
            rest = f"{tail} {rest}".strip()
        parts, numbers = [rest], [index]
        while parts[-1].rstrip().endswith(escape) and index < len(physical):
            while index < len(physical) and (
                not physical[index].strip() or physical[index].lstrip().startswith("#")
            ):
                index += 1
            if index >= len(physical):
                break
            parts.append(physical[index])
            numbers.append(index + 1)
            index += 1
        for terminator in _HEREDOC.findall(" ".join(parts)):
            while index < len(physical):
                parts.append(physical[index])
                numbers.append(index + 1)
                index += 1
                if physical[index - 1].strip() == terminator:
                    break
        found.append(
            Instruction(keyword.upper(), "\n".join(parts), numbers[0], tuple(numbers), escape)
        )
    return found


def _substitute(text: str, values: dict[str, str]) -> tuple[str, bool]:
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        name, operator, word = match.group(1) or match.group(4), match.group(2), match.group(3)
        value = values.get(name)
        if operator is not None and operator.endswith("+"):
            return word if value else ""
        if value:
            return value
        if operator is not None:
            return word
        unresolved = True
        return match.group(0)

    return _VARIABLE.sub(replace, text), unresolved


def _span(lines: list[str], number: int, text: str) -> Span:
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    column = line.find(text) + 1 if text and text in line else 1
    return Span(Point(number, column), Point(number, column + len(text)))


def parse_dockerfile(text: str) -> Dockerfile:
    """The instructions of a Dockerfile and the images it pulls."""
    lines = text.splitlines()
    instructions = _instructions(text)
    arguments: dict[str, str] = {}
    stages: set[str] = set()
    images: list[Image] = []
    count = 0
    for instruction in instructions:
        words = instruction.words
        if instruction.keyword == "ARG" and count == 0:
            for word in words:
                name, _, value = word.partition("=")
                arguments[name] = value.strip("\"'")
        elif instruction.keyword == "FROM":
            names = [word for word in words if not word.startswith("--")]
            if not names:
                continue
            written = names[0]
            if len(names) >= 3 and names[1].lower() == "as":
                stages.add(names[2].lower())
            count += 1
            reference, unresolved = _substitute(written, arguments)
            if reference.lower() in stages - {names[2].lower() if len(names) >= 3 else ""}:
                continue
            if reference.lower() == "scratch":
                continue
            span = _span(lines, instruction.line, written)
            images.append(Image(reference, span, copy=False, unresolved=unresolved))
        elif instruction.keyword in ("COPY", "ADD"):
            for word in words:
                if not word.lower().startswith("--from="):
                    continue
                source = word.split("=", 1)[1].strip("\"'")
                if source.lower() in stages or source.isdigit():
                    continue
                reference, unresolved = _substitute(source, arguments)
                number = instruction.line_of(instruction.arguments.find(word))
                images.append(Image(reference, _span(lines, number, source), True, unresolved))
    return Dockerfile(tuple(instructions), tuple(images))


def run_script(instruction: Instruction) -> tuple[str, int]:
    """The shell script of a ``RUN`` and its offset in the arguments (for an exec form,
    ``["sh", "-c", "..."]``, its command, at the offset of the ``[``)."""
    body = instruction.arguments
    offset = len(body) - len(body.lstrip())
    while body[offset:].startswith("--"):  # --mount=..., --network=...
        end = re.search(r"\s", body[offset:])
        if end is None:
            return "", len(body)
        offset += end.start()
        offset += len(body[offset:]) - len(body[offset:].lstrip())
    script = body[offset:]
    if script.startswith("["):
        try:
            parts = json.loads(script.replace(f"{instruction.escape}\n", " ").replace("\n", " "))
        except ValueError:
            return script, offset
        if isinstance(parts, list) and all(isinstance(part, str) for part in parts):
            command = parts[2] if len(parts) >= 3 and parts[1] == "-c" else " ".join(parts)
            return str(command), offset
    return script, offset
