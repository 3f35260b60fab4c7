"""Renderers: one module per output format, all reading the same Report."""

from __future__ import annotations

from typing import TextIO

from bastion.engine import Report

FORMATS = ("human", "json", "sarif", "github")


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
