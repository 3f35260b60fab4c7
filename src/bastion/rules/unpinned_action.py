from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from bastion.findings import Confidence, Severity
from bastion.model.uses import Uses, UsesKind
from bastion.model.workflow import Action, Step, Workflow
from bastion.rules.base import Hit, Option, Rule
from bastion.source.yaml import ScalarNode

if TYPE_CHECKING:
    from bastion.model.lockfile import WorkflowLock

_SHORT_SHA = re.compile(r"[0-9a-f]{7,39}")
_UPPERCASE_SHA = re.compile(r"[0-9a-fA-F]{40}")


class UnpinnedAction(Rule):
    """Flags actions and reusable workflows that are not pinned to a full commit SHA.

    Every step `uses:` and every job `uses:` (a reusable workflow) that names a repository
    must carry a 40-character lowercase commit SHA after the `@`. Tags (`v4`), branches
    (`main`), short SHAs (`b4ffde6`) and a missing ref are all reported, in workflows and in
    composite actions. A `uses:` built from an `${{ }}` expression is reported with medium
    confidence: whatever it resolves to, it cannot be pinned where it is written. Local
    actions (`./path`) are part of the repository and are not reported; `docker://` images
    belong to `unpinned-image`.

    ## Why it matters
    Tags and branches are mutable: whoever controls the action's repository (its maintainer,
    or an attacker holding the maintainer's token) can move `v4` to new code, and every
    workflow that uses `@v4` runs that code with its token and secrets on the next run. This
    is how the tj-actions/changed-files compromise reached thousands of repositories. The
    playbook (CI/CD controls C2 and C3) requires every action to be pinned to a full commit
    SHA; a short SHA is not enough, since a look-alike commit can be made to share its prefix.

    ## Example
    ```yaml
    steps:
      - uses: actions/checkout@v4          # flagged: a mutable tag
      - uses: actions/setup-node@main      # flagged: a branch
    ```

    ## How to fix
    Pin the full commit SHA of a released version, and keep the version in a comment so that
    humans and update bots can read it (pinact and Dependabot maintain both):

    ```yaml
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ```

    Check that the commit belongs to the upstream repository (not an impostor commit from a
    fork).

    Or lock the workflow in GitHub's lockfile, `.github/workflows/actions.lock` (written by
    `bastion lock` or `gh actions-lock`): GitHub then runs the locked commit whatever the tag
    says. A `uses:` by tag or branch of a workflow the lockfile lists is pinned when the
    workflow's pins hold its repository at exactly that ref (`actions/checkout@v4` needs the
    pin `actions/checkout@v4`; `actions/cache/save@v4` is covered by `actions/cache@v4`), and
    is not reported. One the lock misses is reported as missing from the lockfile: GitHub
    refuses to start such a run. The lockfile never pins reusable workflows, so those are
    reported as usual. A lockfile that GitHub cannot parse is ignored by GitHub, and so by
    this rule (its `syntax-error` says why). See docs/lockfile.md.

    The repository's own action that workflows run through `$/path` is locked with them:
    GitHub's writer records its `uses:` as each such workflow's pins. A tag in it is not
    reported when every workflow that runs it is listed and holds that pin; it still is when
    a workflow that is not listed runs it, or one names it by a `./` path (which the lockfile
    cannot onboard), or no workflow of the repository runs it (other repositories may call
    it by `owner/repo/path@ref`, and their lock is their own).

    Reusable workflows that must be called by tag (for example the SLSA generator,
    which checks its own ref) can be listed in the `allow` option.
    """

    id = "unpinned-action"
    summary = "an action or reusable workflow not pinned to a full commit SHA"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    options = (
        Option(
            "allow",
            (),
            "fnmatch patterns of owner/repo[/path] that may stay unpinned (case-insensitive)",
        ),
    )

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            if job.uses is not None and job.uses_node is not None:
                yield from self._check(
                    job.uses, job.uses_node, f"{job.route}/uses", "reusable workflow", workflow.lock
                )
            yield from self._check_steps(job.steps, workflow.lock)

    def check_action(self, action: Action) -> Iterator[Hit]:
        # Run through `$/` by locked workflows only: GitHub locks its `uses:` with theirs.
        steps = [
            step
            for step in action.steps
            if not (
                action.locks
                and step.uses is not None
                and all(lock.covers(step.uses) for lock in action.locks)
            )
        ]
        return self._check_steps(steps, None)

    def _check_steps(self, steps: list[Step], lock: WorkflowLock | None) -> Iterator[Hit]:
        for step in steps:
            if step.uses is not None and step.uses_node is not None:
                route = f"{step.route}/uses"
                yield from self._check(step.uses, step.uses_node, route, "action", lock)

    def _check(
        self, uses: Uses, node: ScalarNode, route: str, what: str, lock: WorkflowLock | None
    ) -> Iterator[Hit]:
        if uses.kind is not UsesKind.REPOSITORY or uses.is_sha_pinned:
            return
        if self._allowed(uses) or (lock is not None and lock.covers(uses)):
            return
        if "${{" in uses.text:
            yield Hit(
                f"the {what} `{uses.text}` is chosen by an expression, so it cannot be pinned "
                "to a full commit SHA",
                node,
                route,
                confidence=Confidence.MEDIUM,
            )
            return
        if lock is not None and uses.ref and not uses.is_reusable_workflow:
            yield Hit(_missing(uses, lock), node, route)
            return
        message = f"{uses.slug} {_problem(uses.ref)}"
        if lock is not None and uses.is_reusable_workflow:
            message += "; GitHub's lockfile does not pin reusable workflows"
        yield Hit(message, node, route)

    def _allowed(self, uses: Uses) -> bool:
        slug = uses.slug.lower()
        return any(fnmatchcase(slug, pattern.lower()) for pattern in self.setting_list("allow"))


def _missing(uses: Uses, lock: WorkflowLock) -> str:
    listed = lock.refs_of(uses)
    held = f" (it holds {uses.owner}/{uses.repo} at {', '.join(listed)} only)" if listed else ""
    return (
        f"{uses.slug}@{uses.ref} is missing from the lockfile {lock.lockfile}{held}, which "
        f"lists {lock.workflow}: GitHub refuses to start this workflow until `bastion lock` "
        "(or `gh actions-lock`) locks it"
    )


def _problem(ref: str | None) -> str:
    if not ref:
        return "names no ref at all, so it runs whatever the default branch holds"
    if _UPPERCASE_SHA.fullmatch(ref):
        return (
            f"is pinned to `{ref}`, which has uppercase letters: write the full commit SHA in "
            "lowercase so that it is recognised as a commit"
        )
    if _SHORT_SHA.fullmatch(ref):
        return (
            f"is pinned to the short SHA `{ref}`, which another commit can be made to match; "
            "use the full 40-character commit SHA"
        )
    return f"is pinned to the mutable ref `{ref}`, not a full commit SHA"
