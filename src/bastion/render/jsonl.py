"""JSON Lines: one finding a line, as it is found, then a line that sums the run up.

Each finding is the object the JSON report lists (docs/json-output.md), on one line; the
last line holds what the JSON document holds besides its findings (``version``, ``tool``,
``files_checked``, ``errors``) and the number of findings. A consumer can act on each
finding as it arrives: the report is written while the files are checked.
"""

from __future__ import annotations

from json import dumps
from typing import TextIO

from bastion import __version__
from bastion.engine import Findings
from bastion.findings import escape_text
from bastion.render import Writer
from bastion.render.json import SCHEMA_VERSION, finding_object


def render(report: Findings, out: TextIO) -> None:
    writer = Writer(out)
    count = 0
    for group in report.groups():
        writer.pieces.extend(line(finding_object(finding)) for finding in group.findings)
        count += len(group.findings)
        writer.spill()
    summary = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "bastion", "version": __version__},
        "files_checked": report.files,
        "findings": count,
        "errors": report.errors,
    }
    writer.write(line(summary))
    writer.flush()


def line(value: dict[str, object]) -> str:
    """``value`` as one line of compact JSON (UTF-8, not ASCII-escaped; every string
    passed through :func:`~bastion.findings.escape_text`)."""
    return dumps(_escaped(value), ensure_ascii=False, separators=(",", ":")) + "\n"


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {escape_text(str(key)): _escaped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    return value
