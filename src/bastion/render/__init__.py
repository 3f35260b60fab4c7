"""Renderers: one module per output format, all reading the same Report."""

from __future__ import annotations

from typing import TextIO

from bastion.engine import Report
from bastion.findings import escape_text

FORMATS = ("human", "json", "sarif", "github")


def escape_document(value: object) -> object:
    """A JSON document with every string (keys too) passed through
    :func:`~bastion.findings.escape_text`, so that it can always be written as UTF-8."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {escape_text(str(key)): escape_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [escape_document(item) for item in value]
    return value


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
