"""excessive-permissions: start the workflow from ``permissions: {}`` and widen per job.

Each job that had no permissions of its own (it lived on the top-level or default ones) gets
what the table in :mod:`bastion.fix.permissions` says its actions and commands need; a job
with ``write-all``/``read-all`` gets the same instead. When a job uses the token in a way
the table does not know, the fix says so; if the workflow had specific top-level
permissions, that job keeps them rather than losing what it may need.
"""

from __future__ import annotations

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.fix.edits import Edit
from bastion.fix.permissions import Needs, job_needs
from bastion.fix.yaml_edit import Value, insert_entries, set_value
from bastion.model.workflow import Fields, Job, Workflow
from bastion.rules.excessive_permissions import BLANKET
from bastion.source.yaml import MappingNode, ScalarNode

Grant = tuple[tuple[str, str], ...]


class ExcessivePermissions(Fixer):
    rule = "excessive-permissions"
    safe = False
    why_unsafe = (
        "each job gets the permissions a table of known actions and commands says it needs; "
        "a job using the token in other ways may need more"
    )

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        workflow = target.model
        if not isinstance(workflow, Workflow):
            return NoFix("only workflows have permissions")
        root = workflow.fields.node
        if not root.value or root.flow_style:
            return NoFix("the workflow is not a block mapping")
        top = workflow.fields.entry("permissions")
        if top is not None and not target.owns(root, top.key):
            return NoFix("the top-level permissions are merged in from an anchor")
        former = _former(top.value) if top is not None else None
        changes_top = top is None or not _is_empty_mapping(top.value)
        edits: list[Edit] = []
        if top is None:
            jobs = workflow.fields.entry("jobs")
            edit = insert_entries(
                target.text,
                target.layout,
                root,
                (("permissions", "{}"),),
                before=jobs.key if jobs is not None else None,
            )
            if edit is not None and _after_blank_line(target.text, edit.start):
                edit = Edit.insert(edit.start, edit.text + target.layout.newline)
        elif changes_top:
            edit = set_value(target.text, target.layout, top.key, top.value, "{}")
        else:
            edit = None
        if changes_top:
            if edit is None:
                return NoFix(
                    "the top-level permissions are written in a way this fix does not edit"
                )
            edits.append(edit)
        granted: list[str] = []
        notes: list[str] = []
        for job in workflow.jobs:
            own = job.fields.entry("permissions")
            blanket = (
                own is not None and isinstance(own.value, ScalarNode) and own.value.value in BLANKET
            )
            if not blanket and (own is not None or not changes_top):
                continue
            needs = job_needs(workflow, job)
            grant = _grant(job, needs, former, notes)
            job_edit = _job_edit(target, job, grant)
            if isinstance(job_edit, NoFix):
                return job_edit
            if job_edit is not None:
                edits.append(job_edit)
                shown = ", ".join(f"{scope}: {level}" for scope, level in grant) or "none"
                granted.append(f"`{job.job_id}` {shown}")
        if not edits:
            return NoFix("nothing to change")
        message = (
            "set top-level `permissions: {}`" if changes_top else "replaced blanket permissions"
        )
        if granted:
            message += "; granted " + "; ".join(granted)
        return Fix(message, tuple(edits), " ".join(notes))


def _after_blank_line(text: str, offset: int) -> bool:
    """Whether the line before ``offset`` (a line start) is empty: keep the key set apart."""
    return text[:offset].endswith(("\n\n", "\r\n\r\n"))


def _is_empty_mapping(node: object) -> bool:
    return isinstance(node, MappingNode) and not node.value


def _former(node: object) -> Grant | str | None:
    """The top-level grant being replaced: its scopes, or `write-all`/`read-all`."""
    if isinstance(node, ScalarNode):
        return node.value if node.value in BLANKET else None
    if isinstance(node, MappingNode):
        scopes = Fields(node)
        return tuple(
            (entry.key.value, entry.value.value)
            for entry in scopes
            if isinstance(entry.value, ScalarNode) and entry.value.value in ("read", "write")
        )
    return None


def _grant(job: Job, needs: Needs, former: Grant | str | None, notes: list[str]) -> Grant:
    if not needs.unknown:
        return needs.sorted()
    why = "; ".join(dict.fromkeys(needs.unknown))
    if isinstance(former, tuple) and former:
        merged = Needs()
        merged.add(dict(needs.scopes))
        merged.add(dict(former))
        shown = ", ".join(f"{s}: {level}" for s, level in former)
        notes.append(
            f"job `{job.job_id}`: {why}, which the permissions table does not know; it keeps "
            f"the former top-level `{shown}`: narrow them by hand."
        )
        return merged.sorted()
    if not needs.scopes:
        needs.add({"contents": "read"})
    notes.append(
        f"job `{job.job_id}`: {why}, which the permissions table does not know; it gets only "
        f"{', '.join(f'{s}: {level}' for s, level in needs.sorted())}: check what it needs."
    )
    return needs.sorted()


def _job_edit(target: Target, job: Job, grant: Grant) -> Edit | NoFix | None:
    value: Value = tuple((scope, level) for scope, level in grant)
    own = job.fields.entry("permissions")
    if own is not None:
        if not target.owns(job.node, own.key):
            return NoFix(f"the permissions of job `{job.job_id}` are merged in from an anchor")
        edit = set_value(target.text, target.layout, own.key, own.value, value)
    elif not grant:
        return None  # the job inherits `{}`
    else:
        steps = job.fields.entry("steps")
        edit = insert_entries(
            target.text,
            target.layout,
            job.node,
            (("permissions", value),),
            before=steps.key if steps is not None and target.owns(job.node, steps.key) else None,
        )
    if edit is None:
        return NoFix(f"job `{job.job_id}` is written in a way this fix does not edit")
    return edit
