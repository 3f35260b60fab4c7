"""Renderers: one module per output format, all reading the same Report."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from json import dumps
from json.encoder import encode_basestring
from typing import TextIO

from bastion.engine import Report
from bastion.findings import escape_text

FORMATS = ("human", "json", "sarif", "github")
CHUNK_CHARACTERS = 1 << 20
"""A report is written in pieces of about this size: a few writes however large it is,
and never more of its text in memory than that (JSON and SARIF stream their findings)."""


class Writer:
    """Text for ``out``, gathered and written a chunk at a time (one write for a small
    report, where writing each piece alone costs a system call when output is unbuffered,
    as under ``PYTHONUNBUFFERED=1``)."""

    __slots__ = ("_out", "_pieces", "_size")

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._pieces: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._pieces.append(text)
        self._size += len(text)
        if self._size >= CHUNK_CHARACTERS:
            self.flush()

    def flush(self) -> None:
        if not self._pieces:
            return
        text = "".join(self._pieces)
        self._pieces.clear()
        self._size = 0
        binary = getattr(self._out, "buffer", None)
        if binary is None or os.linesep != "\n":  # a StringIO, or newlines to translate
            self._out.write(text)
            return
        # Unbuffered (PYTHONUNBUFFERED=1), a text stream hands its bytes to one write(2)
        # and drops whatever a short write leaves: write them here until all are out.
        self._out.flush()
        data = memoryview(text.encode(self._out.encoding, self._out.errors or "strict"))
        while data:
            written = binary.write(data)
            if written is None:
                raise BlockingIOError("the output does not take more now")
            data = data[written:]


def write_json(value: object, writer: Writer) -> None:
    """Write ``value`` and a line break as ``json.dumps(value, indent=2, ensure_ascii=False)``
    would, every string (keys too) passed through :func:`~bastion.findings.escape_text` so
    that the text is always valid UTF-8; an iterator is written as a list, item by item.
    Several times faster than ``json.dumps``, whose indented form has no C encoder."""
    _json(value, "", writer.write)
    writer.write("\n")


def _json(value: object, indent: str, write: Callable[[str], None]) -> None:
    if isinstance(value, str):
        write(encode_basestring(escape_text(value)))
    elif isinstance(value, dict):
        if not value:
            write("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key, item in value.items():
            write(separator + encode_basestring(escape_text(str(key))) + ": ")
            _json(item, inner, write)
            separator = ",\n" + inner
        write("\n" + indent + "}")
    elif isinstance(value, list | tuple | Iterator):
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            write(separator)
            _json(item, inner, write)
            separator = ",\n" + inner
        write("[]" if separator[0] == "[" else "\n" + indent + "]")
    elif value is True or value is False or value is None:
        write("true" if value else "false" if value is False else "null")
    elif isinstance(value, int | float):
        write(dumps(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def render(report: Report, fmt: str, out: TextIO, *, color: bool) -> None:
    if fmt == "json":
        from bastion.render import json

        json.render(report, out)
    elif fmt == "sarif":
        from bastion.render import sarif

        sarif.render(report, out)
    elif fmt == "github":
        from bastion.render import github

        github.render(report, out)
    else:
        from bastion.render import human

        human.render(report, out, color=color)
