"""persisted-credentials: add ``persist-credentials: false`` to the checkout step."""

from __future__ import annotations

import bisect
import re

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target, set_input
from bastion.model.workflow import Step

INPUT = "persist-credentials"


class PersistedCredentials(Fixer):
    rule = "persisted-credentials"
    safe = False
    why_unsafe = "a later step that pushes with the stored token would stop working"

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        step = target.step(finding.route)
        if step is None:
            return NoFix("the checkout step was not found")
        if step.with_ is not None and INPUT in step.with_:
            return NoFix(
                f"`{INPUT}` is set on purpose (to `true` or an expression); a job that pushes "
                "should pass the token to that one command instead"
            )
        pusher = _later_push(target, step)
        if pusher is not None:
            return NoFix(
                f"{pusher} pushes with the stored token; give that step the token explicitly "
                f"first, then set `{INPUT}: false`"
            )
        edit = set_input(target, step, INPUT, "false")
        if isinstance(edit, NoFix):
            return edit
        return Fix(f"set `{INPUT}: false` on actions/checkout", (edit,))


PUSHING_ACTIONS = frozenset({"stefanzweifel/git-auto-commit-action", "endbug/add-and-commit"})
"""Actions that push with the credentials actions/checkout stored."""
_GIT_PUSH = re.compile(r"\bgit\s+(?:-[cC]\s+\S+\s+)*push\b")


def _later_push(target: Target, checkout: Step) -> str | None:
    """The first later step of the same job that pushes with stored credentials."""
    steps = target.steps_around(checkout)
    positions = target.once(
        ("positions", id(steps)), lambda: {id(s): i for i, s in enumerate(steps)}
    )
    if id(checkout) not in positions:
        return None
    pushers = target.once(("pushing steps", id(steps)), lambda: _pushers(steps))
    later = bisect.bisect_right(pushers, positions[id(checkout)])
    if later == len(pushers):
        return None
    step = steps[pushers[later]]
    name = step.fields.text("name")
    return f"step `{name}`" if name else f"step {step.index + 1} of the job"


def _pushers(steps: list[Step]) -> list[int]:
    """The positions of the steps that push with stored credentials, in order."""
    found = []
    for position, step in enumerate(steps):
        run = step.run
        slug = step.uses.slug.lower() if step.uses is not None else ""
        if (run is not None and _GIT_PUSH.search(run.value)) or slug in PUSHING_ACTIONS:
            found.append(position)
    return found
