"""excessive-permissions: start the workflow from ``permissions: {}`` and widen per job.

Each job that had no permissions of its own (it lived on the top-level or default ones) gets
what the table in :mod:`bastion.fix.permissions` says its actions and commands need; a job
with ``write-all``/``read-all`` gets the same instead. The fix never takes from a job what it
uses or may use: a job doing something the table does not know keeps what it had (the
former top-level scopes, or its blanket moved onto the job), and one that lived on the
default token, which cannot be written down, is left as it is (so the top level stays too).
Each such job gets a note naming it and what the table does not know.
"""

from __future__ import annotations

import re

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.fix.edits import Edit
from bastion.fix.permissions import LEVELS, Needs, job_needs
from bastion.fix.yaml_edit import Value, insert_entries, set_value
from bastion.model.workflow import Fields, Job, Workflow
from bastion.rules.excessive_permissions import BLANKET
from bastion.source.yaml import MappingNode, Node, ScalarNode

Grant = tuple[tuple[str, str], ...]
Former = Grant | str | None
"""What a job was granted: specific scopes, `write-all`/`read-all`, or None for the
repository's default token (or a value that cannot be read, such as an expression)."""

DEFAULT_TOKEN = dict.fromkeys(
    (
        "actions", "attestations", "checks", "contents", "deployments", "discussions",
        "issues", "models", "packages", "pages", "pull-requests", "repository-projects",
        "security-events", "statuses",
    ),
    "write",
)  # fmt: skip
"""The most the default token may hold (the permissive repository setting): every scope
but `id-token`."""

_TRAILING_COMMENT = re.compile(r"[ \t]*#[^\r\n]*")


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
        top_former = _former(top.value) if top is not None else None
        plans: list[tuple[Job, Grant | str]] = []
        notes: list[str] = []
        left: list[str] = []  # jobs on the default token the table does not know
        changes_top = top is None or not _is_empty_mapping(top.value)
        for job in workflow.jobs:
            own = job.fields.entry("permissions")
            blanket = (
                own is not None and isinstance(own.value, ScalarNode) and own.value.value in BLANKET
            )
            if not blanket and (own is not None or not changes_top):
                continue
            former = own.value.value if blanket and own is not None else top_former
            plan = _plan(job, job_needs(workflow, job), former, notes)
            if plan is None:
                if own is None:
                    left.append(job.job_id)
                continue
            if blanket and own is not None and plan == own.value.value:
                continue  # it keeps its blanket: nothing to write
            plans.append((job, plan))
        if left:
            changes_top = False  # those jobs would lose the default token
        edits: list[Edit] = []
        if changes_top:
            edit = _top_edit(target, workflow)
            if edit is None:
                return NoFix(
                    "the top-level permissions are written in a way this fix does not edit"
                )
            edits.append(edit)
        granted: list[str] = []
        for job, plan in plans:
            job_edit = _job_edit(target, job, plan, inherits_empty=changes_top)
            if isinstance(job_edit, NoFix):
                return job_edit
            if job_edit is not None:
                edits.append(job_edit)
                granted.append(f"`{job.job_id}` {_shown(plan) or 'none'}")
        if not edits:
            return NoFix(" ".join(notes) or "nothing to change")
        message = (
            "set top-level `permissions: {}`"
            if changes_top
            else "gave the jobs the table knows their own permissions"
            if left
            else "replaced blanket permissions"
        )
        if granted:
            message += "; granted " + "; ".join(granted)
        return Fix(message, tuple(edits), " ".join(notes))


def _top_edit(target: Target, workflow: Workflow) -> Edit | None:
    root = workflow.fields.node
    entry = workflow.fields.entry("permissions")
    if entry is None:
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
        return edit
    edit = set_value(target.text, target.layout, entry.key, entry.value, "{}")
    return _without_trailing_comment(target.text, edit)


def _without_trailing_comment(text: str, edit: Edit | None) -> Edit | None:
    """Extend a value's replacement over a comment that followed the old value on its last
    line: the comment spoke of the old value."""
    if edit is None:
        return None
    comment = _TRAILING_COMMENT.match(text, edit.end)
    if comment is None or not comment.group().strip():
        return edit
    return Edit(edit.start, comment.end(), edit.text)


def _plan(job: Job, needs: Needs, former: Former, notes: list[str]) -> Grant | str | None:
    """What the job is granted now: scopes, a blanket it keeps, or None when it must stay
    as it is (it lives on the default token and the table does not know what it does)."""
    if needs.unknown:
        why = "; ".join(dict.fromkeys(needs.unknown))
        head = f"job `{job.job_id}`: {why}, which the permissions table does not know;"
        if isinstance(former, tuple):
            merged = Needs()
            merged.add(dict(needs.scopes))
            merged.add(dict(former))
            notes.append(
                f"{head} it keeps the former `{_shown(former) or 'none'}`: narrow them by hand."
            )
            return merged.sorted()
        if isinstance(former, str):
            notes.append(f"{head} it keeps `{former}`: narrow it by hand.")
            return former
        notes.append(
            f"{head} it keeps the default token (not written down, so the top level stays): "
            "give it its own `permissions:` by hand."
        )
        return None
    had = _effective(former)
    for scope, why in needs.kept.items():
        level = had.get(scope, "none")
        if level != "none" and LEVELS[level] > LEVELS[needs.scopes.get(scope, "none")]:
            needs.add({scope: level})
            notes.append(f"job `{job.job_id}`: {why}, which may use `{scope}`; it keeps it.")
    return needs.sorted()


def _effective(former: Former) -> dict[str, str]:
    """The scopes a former grant held, at most."""
    if isinstance(former, tuple):
        return dict(former)
    if former == "write-all":
        return {**DEFAULT_TOKEN, "id-token": "write"}
    if former == "read-all":
        return dict.fromkeys([*DEFAULT_TOKEN, "id-token"], "read")
    return dict(DEFAULT_TOKEN)


def _shown(plan: Grant | str) -> str:
    if isinstance(plan, str):
        return plan
    return ", ".join(f"{scope}: {level}" for scope, level in plan)


def _after_blank_line(text: str, offset: int) -> bool:
    """Whether the line before ``offset`` (a line start) is empty: keep the key set apart."""
    return text[:offset].endswith(("\n\n", "\r\n\r\n"))


def _is_empty_mapping(node: object) -> bool:
    return isinstance(node, MappingNode) and not node.value


def _former(node: Node) -> Former:
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


def _job_edit(
    target: Target, job: Job, plan: Grant | str, *, inherits_empty: bool
) -> Edit | NoFix | None:
    value: Value = plan if isinstance(plan, str) else tuple(plan)
    own = job.fields.entry("permissions")
    if own is not None:
        if not target.owns(job.node, own.key):
            return NoFix(f"the permissions of job `{job.job_id}` are merged in from an anchor")
        edit = set_value(target.text, target.layout, own.key, own.value, value)
        edit = _without_trailing_comment(target.text, edit)
    elif not plan and inherits_empty:
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
