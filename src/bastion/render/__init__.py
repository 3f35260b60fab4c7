"""Renderers: one module per output format, all reading the same findings (a held Report,
or a check whose findings come a file at a time as they are made)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from json import dumps
from json.encoder import encode_basestring
from typing import TextIO

from bastion.engine import Findings
from bastion.findings import escape_text

FORMATS = ("human", "json", "jsonl", "sarif", "github")
CHUNK_PIECES = 1 << 12
"""A report is written once this many pieces are gathered (a piece is a JSON token or up
to a finding's text: 64 KiB to a few MiB): few writes however large the report, and no
more of its text in memory than that (every format but SARIF streams its findings)."""


class Writer:
    """Text for ``out``, gathered and written a chunk at a time (one write for a small
    report, where writing each piece alone costs a system call when output is unbuffered,
    as under ``PYTHONUNBUFFERED=1``)."""

    __slots__ = ("_out", "pieces")

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.pieces: list[str] = []
        """What is not written yet; append to it, then call :meth:`spill`."""

    def write(self, text: str) -> None:
        self.pieces.append(text)
        self.spill()

    def spill(self) -> None:
        """Write what is gathered once it is a chunk."""
        if len(self.pieces) >= CHUNK_PIECES:
            self.flush()

    def flush(self) -> None:
        if not self.pieces:
            return
        text = "".join(self.pieces)
        self.pieces.clear()
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


class Written(str):
    """JSON text made ahead, for the place where it is written (its indentation fits that
    depth): :func:`write_json` writes it as it is."""

    __slots__ = ()


def write_json(value: object, writer: Writer) -> None:
    """Write ``value`` and a line break as ``json.dumps(value, indent=2, ensure_ascii=False)``
    would, every string (keys too) passed through :func:`~bastion.findings.escape_text` so
    that the text is always valid UTF-8; an iterator is written as a list, item by item, and
    :class:`Written` text as it is. Several times faster than ``json.dumps``, whose indented
    form has no C encoder."""
    _json(value, "", writer)
    writer.write("\n")


def _json(value: object, indent: str, writer: Writer) -> None:
    add = writer.pieces.append
    if type(value) is Written:
        add(value)
    elif isinstance(value, str):
        add(encode_basestring(escape_text(value)))
    elif isinstance(value, dict):
        if not value:
            add("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key, item in value.items():
            add(separator)
            add(encode_basestring(escape_text(str(key))))
            add(": ")
            if type(item) is str:
                add(encode_basestring(escape_text(item)))
            elif type(item) is int:
                add(int.__repr__(item))
            else:
                _json(item, inner, writer)
            separator = ",\n" + inner
        add("\n" + indent + "}")
    elif isinstance(value, list | tuple | Iterator):
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            add(separator)
            _json(item, inner, writer)
            writer.spill()
            separator = ",\n" + inner
        add("[]" if separator[0] == "[" else "\n" + indent + "]")
    elif value is True or value is False or value is None:
        add("true" if value else "false" if value is False else "null")
    elif isinstance(value, int | float):
        add(dumps(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def render(report: Findings, fmt: str, out: TextIO, *, color: bool) -> None:
    if fmt == "json":
        from bastion.render import json

        json.render(report, out)
    elif fmt == "jsonl":
        from bastion.render import jsonl

        jsonl.render(report, out)
    elif fmt == "sarif":
        from bastion.render import sarif

        sarif.render(report, out)
    elif fmt == "github":
        from bastion.render import github

        github.render(report, out)
    else:
        from bastion.render import human

        human.render(report, out, color=color)
