"""unpinned-action: pin the `uses:` to the commit its ref names today, with a version comment.

Safe (the workflow runs the same code as before), but it asks the network for each
repository's refs, so `bastion fix` uses it only with `--pin`; `bastion pin` does the same
for every `uses:` at once.
"""

from __future__ import annotations

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.inputs import Kind
from bastion.model.workflow import Action
from bastion.pinning.plan import pin_finding
from bastion.pinning.resolver import Resolver
from bastion.source.yaml import YamlError


class PinAction(Fixer):
    rule = "unpinned-action"
    safe = True

    def __init__(self, resolver: Resolver, *, allow_branches: bool = False) -> None:
        self.resolver = resolver
        self.allow_branches = allow_branches

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        kind = Kind.ACTION if isinstance(target.model, Action) else Kind.WORKFLOW
        try:
            plan = pin_finding(
                finding, target.text, kind, self.resolver, allow_branches=self.allow_branches
            )
        except YamlError:
            return NoFix("the file does not parse")
        if plan is None:
            return NoFix("no `uses:` that can be pinned here (an expression or a local path)")
        if not plan.edits or plan.commit is None:
            return NoFix(plan.problem or "nothing to change")
        uses = plan.site.uses
        version = f" # {plan.version}" if plan.version else ""
        return Fix(
            f"pinned {uses.owner}/{uses.repo}@{uses.ref} to {plan.commit[:12]}{version}",
            tuple(plan.edits),
            note=plan.note,
        )
