from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model import triggers
from bastion.model.guards import workflow_run_upstream
from bastion.model.workflow import Workflow
from bastion.rules.base import Hit, Rule

BANNED = {
    "pull_request_target": (
        "runs with a write token and secrets in the context of the base repository while "
        "handling a pull request from anyone"
    ),
    "workflow_run": (
        "runs with a write token and secrets after a workflow that untrusted code may have "
        "influenced"
    ),
}


class DangerousTrigger(Rule):
    """Flags workflows triggered by `pull_request_target` or `workflow_run`.

    A `workflow_run` whose upstream workflows (by `workflows:` name, in the same
    `.github/workflows`) only people with write access can start (`push`,
    `workflow_dispatch`, `schedule`...; the events table of `model/triggers.py`, from
    GitHub's "Events that trigger workflows") is reported with low severity: it is not an
    outsider's today.

    ## Why it matters
    Both triggers run in the privileged context of the base repository (a token that can
    write, and the repository's secrets) while reacting to something an outsider controls: a
    pull request from a fork, or the run of a workflow such a pull request started. They are
    the root of the "pwn request" attacks behind the Ultralytics, tj-actions and Nx
    compromises. The playbook (CI/CD control C1) bans both outright, across the organisation:
    they are almost impossible to use securely.

    ## Example
    ```yaml
    on:
      pull_request_target:   # flagged
        types: [opened]
    ```

    ## How to fix
    Use `pull_request`, which runs fork code with a read-only token and no secrets. Put
    results in the job summary or the log instead of a PR comment. Work that truly needs
    privilege (commenting on third-party pull requests, labelling) belongs in a GitHub App
    that receives the same webhook, not in Actions.

    ```yaml
    on:
      pull_request:
        types: [opened]
    ```
    """

    id = "dangerous-trigger"
    summary = "pull_request_target or workflow_run trigger"
    severity = Severity.HIGH
    confidence = Confidence.HIGH

    @classmethod
    def documentation(cls) -> str:
        """The docstring, then the events table every trigger-aware rule reads."""
        table = triggers.table_markdown()
        return f"{super().documentation()}\n\n## What each event's run gets\n\n{table}"

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for trigger in workflow.triggers:
            why = BANNED.get(trigger.event)
            if why is None:
                continue
            upstream = workflow_run_upstream(workflow) if trigger.event == "workflow_run" else None
            if upstream is not None and not triggers.outsider_started(upstream):
                events = ", ".join(f"`{e}`" for e in sorted(upstream))
                yield Hit(
                    f"`workflow_run` runs with a write token and secrets; today its upstream "
                    f"workflows in this repository only run on {events}, which outsiders "
                    "cannot start, but adding a pull request trigger to one of them would "
                    "make this workflow an outsider's",
                    trigger.node,
                    f"on/{trigger.event}",
                    severity=Severity.LOW,
                )
                continue
            yield Hit(f"`{trigger.event}` {why}", trigger.node, f"on/{trigger.event}")
