from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model.uses import UsesKind
from bastion.model.workflow import Workflow
from bastion.rules.base import Hit, Rule


class SecretsInherit(Rule):
    """Flags `secrets: inherit` on a job that calls a reusable workflow.

    ## Why it matters
    `secrets: inherit` hands the called workflow every repository and organisation secret
    the caller can read, not just the ones it uses. Any action the called workflow runs,
    today or after a later change to it, can read all of them. The playbook (CI/CD control
    C6) isolates secrets so that a compromised job reaches as few of them as possible;
    passing each secret by name keeps that boundary visible and reviewable.

    ## Example
    ```yaml
    jobs:
      release:
        uses: my-org/workflows/.github/workflows/release.yml@<sha>
        secrets: inherit                  # flagged
    ```

    ## How to fix
    Pass only the secrets the called workflow declares under `on.workflow_call.secrets`:

    ```yaml
    jobs:
      release:
        uses: my-org/workflows/.github/workflows/release.yml@<sha>
        secrets:
          npm-token: ${{ secrets.NPM_TOKEN }}
    ```
    """

    id = "secrets-inherit"
    summary = "every secret passed to a reusable workflow"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            secrets = job.fields.scalar("secrets")
            if secrets is not None and secrets.value == "inherit":
                uses = job.uses
                called = uses.slug if uses and uses.kind is UsesKind.REPOSITORY else None
                target = f"`{called or uses.text}`" if uses else "the called workflow"
                yield Hit(
                    f"job `{job.job_id}` passes every secret of the repository and organisation "
                    f"to {target} with `secrets: inherit`; pass only the secrets it needs",
                    secrets,
                    f"{job.route}/secrets",
                )
