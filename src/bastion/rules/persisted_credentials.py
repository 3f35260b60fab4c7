from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model.workflow import Action, Step, Workflow
from bastion.rules.base import Hit, Rule
from bastion.source.yaml import ScalarNode

CHECKOUT = "actions/checkout"


class PersistedCredentials(Rule):
    """Flags `actions/checkout` steps that leave the job's token in the git configuration.

    Unless its `persist-credentials` input is `false`, `actions/checkout` (every version)
    stores the token it fetched with for git to reuse: in `.git/config` up to v5, and from
    v6 in a file under the runner's temporary directory that `.git/config` includes. Either
    way every later step of the job can read it. Reported in workflows and composite
    actions, at the `uses:` of the step. Inputs reach the action as strings, and it persists
    only when the string is `true` in any case: `false`, `"false"` and any other value turn
    persistence off, and an explicit `true` is reported. A value that comes from an
    expression is reported with low confidence.

    ## Why it matters
    Build tools, test suites and third-party actions that run after the checkout can read
    the stored token (or simply `git push` with it), and files in the workspace can end up
    in uploaded artifacts (the "ArtiPACKED" leaks). A token with write scopes in the wrong
    hands pushes code or moves tags. The playbook (CI/CD control C5) keeps every token as
    narrow as it can; a step that does not need git credentials should not hold them.

    ## Example
    ```yaml
    steps:
      - uses: actions/checkout@<sha>        # flagged
    ```

    ## How to fix
    ```yaml
    steps:
      - uses: actions/checkout@<sha>
        with:
          persist-credentials: false
    ```

    A job that must push can pass the token to that one command (for example through
    `git -c http.extraheader=...` or the `gh` CLI's `GH_TOKEN`) instead of persisting it.
    """

    id = "persisted-credentials"
    summary = "actions/checkout leaves the token in the git configuration"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            yield from _check_steps(job.steps)

    def check_action(self, action: Action) -> Iterator[Hit]:
        return _check_steps(action.steps)


def _check_steps(steps: list[Step]) -> Iterator[Hit]:
    for step in steps:
        if step.uses is None or step.uses_node is None or not step.uses.is_action(CHECKOUT):
            continue
        route = f"{step.route}/uses"
        inputs = step.with_
        persist = inputs.get("persist-credentials") if inputs else None
        if persist is None:
            yield Hit(
                "actions/checkout stores the job's token in the git configuration, readable by "
                "every later step; "
                "set `persist-credentials: false`",
                step.uses_node,
                route,
            )
        elif not isinstance(persist, ScalarNode):
            continue  # not a string: GitHub refuses the step
        elif "${{" in persist.value:
            yield Hit(
                f"actions/checkout takes `persist-credentials` from `{persist.value.strip()}`; "
                "unless that is `false`, the token stays in the git configuration for every later "
                "step",
                step.uses_node,
                route,
                confidence=Confidence.LOW,
            )
        elif persist.value.strip().upper() == "TRUE":
            yield Hit(
                "actions/checkout is told to store the job's token in the git configuration "
                f"(`persist-credentials: {persist.value.strip()}`); pass the token only to the "
                "command that needs it",
                step.uses_node,
                route,
            )
