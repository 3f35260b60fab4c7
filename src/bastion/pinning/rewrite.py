"""Where each ``uses:`` value is written, and edits that change only its ref and comment.

Sites come from the workflow and action models (job-level reusable workflows, steps, and
composite action steps), so a ``uses:`` inside a ``run:`` script or a comment is never
touched. An edit replaces the ref inside the scalar as written (quotes kept) and the
version in a trailing ``# v1.2.3`` comment (added when missing); every other byte stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bastion.fix.edits import Edit, apply_edits
from bastion.inputs import Kind
from bastion.model.uses import Uses, UsesKind
from bastion.model.workflow import Action, Workflow, build_action, build_workflow, looks_like_action
from bastion.source.text import LineIndex
from bastion.source.yaml import Document, ScalarNode, YamlError, parse

_VERSION_COMMENT = re.compile(
    r"(?P<lead>[ \t]*#[ \t]*(?:tag=|pin @)?)"
    r"(?P<version>v\d+(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?|\d+\.\d+(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?)"
    r"(?=[ \t]|$)"
)
_OTHER_COMMENT = re.compile(r"[ \t]+#")


@dataclass(frozen=True, slots=True)
class Site:
    """One ``uses:`` value naming a repository, as written in a file."""

    uses: Uses
    route: str
    line: int
    start: int
    """Offset of the scalar (its opening quote, if quoted) in the text."""
    end: int
    ref_start: int
    """Offset of the ref (after ``@``), or of the end of the value when there is no ref."""
    ref_end: int
    editable: str = ""
    """Why the value cannot be rewritten in place (escapes, a multi-line scalar), or ""."""
    comment: str | None = None
    """The version in the trailing comment (``v4.2.2`` of ``# v4.2.2``), if any."""
    comment_start: int = -1
    comment_end: int = -1
    """Offsets of that version, or where a comment can be added (-1: nowhere)."""
    comment_lead: bool = False
    """Whether a new comment must bring its own `` # `` (there is no version comment)."""

    @property
    def owner_repo(self) -> tuple[str, str]:
        return self.uses.owner, self.uses.repo


@dataclass(frozen=True, slots=True)
class Parsed:
    text: str
    sites: list[Site]
    lines: LineIndex


def read_sites(text: str, kind: Kind | None) -> Parsed:
    """Parse ``text`` and find its sites; raises YamlError when it does not parse."""
    document = parse(text)
    lines = LineIndex(text)
    if kind is None:
        kind = Kind.ACTION if looks_like_action(document) else Kind.WORKFLOW
    model: Workflow | Action
    if kind is Kind.WORKFLOW:
        model = build_workflow("", document, lines)
    else:
        model = build_action("", document, lines)
    return Parsed(text, list(sites_of(model, document)), lines)


def sites_of(model: Workflow | Action, document: Document) -> Iterable[Site]:
    found: list[tuple[Uses, ScalarNode, str]] = []
    if isinstance(model, Workflow):
        for job in model.jobs:
            if job.uses is not None and job.uses_node is not None:
                found.append((job.uses, job.uses_node, f"{job.route}/uses"))
            found.extend(
                (step.uses, step.uses_node, f"{step.route}/uses")
                for step in job.steps
                if step.uses is not None and step.uses_node is not None
            )
    else:
        found.extend(
            (step.uses, step.uses_node, f"{step.route}/uses")
            for step in model.steps
            if step.uses is not None and step.uses_node is not None
        )
    seen: set[int] = set()
    for uses, node, route in found:
        if uses.kind is not UsesKind.REPOSITORY or "${{" in uses.text:
            continue
        if node.start_mark.index in seen:
            continue  # one node reached twice through an alias
        seen.add(node.start_mark.index)
        yield _site(document.text, uses, node, route)


def _site(text: str, uses: Uses, node: ScalarNode, route: str) -> Site:
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    quoted = node.style in ("'", '"')
    inner_start = start + 1 if quoted else start
    inner = raw[1:-1] if quoted else raw
    value: str = node.value
    problem = ""
    if inner != value or "\n" in raw:
        problem = "it is written with escapes or over several lines"
    elif node.style not in (None, "", "'", '"'):
        problem = "it is a block scalar"
    at = value.find("@")
    ref_start = inner_start + (at + 1 if at >= 0 else len(value))
    ref_end = inner_start + len(value)
    line = node.start_mark.line + 1
    line_end = text.find("\n", end)
    if line_end < 0:
        line_end = len(text)
    rest = text[end:line_end].removesuffix("\r")
    comment = None
    comment_start = comment_end = -1
    comment_lead = True
    match = _VERSION_COMMENT.match(rest)
    if match is not None:
        comment = match.group("version")
        comment_start, comment_end = end + match.start("version"), end + match.end("version")
        comment_lead = False
    elif not rest.strip() or _OTHER_COMMENT.match(rest):
        comment_start = comment_end = end
    return Site(
        uses,
        route,
        line,
        start,
        end,
        ref_start,
        ref_end,
        problem,
        comment,
        comment_start,
        comment_end,
        comment_lead,
    )


def pin_edits(site: Site, commit: str, version: str | None) -> list[Edit]:
    """Edits that pin ``site`` to ``commit`` with ``version`` in its comment."""
    if site.editable:
        return []
    ref = commit if site.ref_start != site.ref_end or "@" in site.uses.text else f"@{commit}"
    edits = []
    if site.uses.ref != commit:
        edits.append(Edit(site.ref_start, site.ref_end, ref))
    if version and site.comment != version and site.comment_start >= 0:
        text = f" # {version}" if site.comment_lead else version
        comment = Edit(site.comment_start, site.comment_end, text)
        if edits and edits[0].end == comment.start:  # an unquoted ref: one edit for both
            edits[0] = Edit(edits[0].start, comment.end, edits[0].text + comment.text)
        else:
            edits.append(comment)
    return edits


__all__ = ["Edit", "Parsed", "Site", "YamlError", "apply_edits", "pin_edits", "read_sites"]
