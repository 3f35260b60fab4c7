from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model.workflow import Fields, Workflow
from bastion.rules.base import Hit, Option, Rule
from bastion.source.yaml import MappingNode, Node, ScalarNode

READ_ONLY_LEVELS = frozenset({"read", "none"})
BLANKET = frozenset({"write-all", "read-all"})


class ExcessivePermissions(Rule):
    """Flags workflows that do not start from `permissions: {}`, and `write-all`/`read-all`.

    Reported:
    - a workflow with no top-level `permissions` (every job then gets the default token
      permissions of the repository or organisation, which may be write access to everything).
      Low severity when every job sets its own permissions: the default then only reaches jobs
      added later;
    - top-level `permissions` other than the empty mapping `{}`, since they apply to every
      job, present and future. Low severity when every scope is `read` or `none`; with the
      option `allow-read-only`, such a mapping is accepted;
    - `write-all` (high severity) or `read-all`, at the top level or on a job: they grant
      every scope, including ones GitHub adds later.

    Specific scopes on a job (`contents: write`) are the intended pattern and are not
    reported. Reusable workflows (`on: workflow_call`) follow the same rule: their
    permissions are capped by the caller's, but they should still ask only for what they use.

    ## Why it matters
    The `GITHUB_TOKEN` is handed to every step of a job, including third-party actions and
    the build tools they run. Whatever it may do, a compromised dependency may do. The
    playbook (CI/CD control C5) sets the organisation default to read-only and has every
    workflow start with `permissions: {}`, widening permissions job by job, so that a lint
    job cannot push commits or publish a release.

    ## Example
    ```yaml
    on: push
    permissions: write-all          # flagged (high severity)
    jobs:
      release:
        runs-on: ubuntu-latest
        steps: [...]
    ```

    ## How to fix
    Start from nothing at the top and grant each job the scopes it uses:

    ```yaml
    on: push
    permissions: {}
    jobs:
      release:
        runs-on: ubuntu-latest
        permissions:
          contents: write
        steps: [...]
    ```
    """

    id = "excessive-permissions"
    summary = "a workflow that does not start from permissions: {}"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    options = (
        Option(
            "allow-read-only",
            False,
            "accept top-level permissions whose every scope is `read` or `none`",
        ),
    )

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        entry = workflow.fields.entry("permissions")
        if entry is None:
            root = workflow.fields.node
            if root.value:
                yield _missing(workflow, root.value[0][0])
        elif isinstance(entry.value, ScalarNode):
            yield _top_level_scalar(entry.value)
        elif isinstance(entry.value, MappingNode) and entry.value.value:
            scopes = Fields(entry.value)
            levels = {s.key.value: _level(s.value) for s in scopes}
            read_only = set(levels.values()) <= READ_ONLY_LEVELS
            if not (read_only and self.setting_bool("allow-read-only")):
                granted = ", ".join(f"{scope}: {level}" for scope, level in levels.items())
                yield Hit(
                    f"top-level permissions grant `{granted}` to every job; set "
                    "`permissions: {}` here and grant each job only the scopes it needs",
                    entry.key,
                    "permissions",
                    severity=Severity.LOW if read_only else None,
                )
        for job in workflow.jobs:
            value = job.fields.scalar("permissions")
            if value is not None and value.value in BLANKET:
                route = f"{job.route}/permissions"
                yield _blanket(value, route, f"job `{job.job_id}`", "list the scopes the job uses")


def _level(node: Node) -> str:
    return node.value if isinstance(node, ScalarNode) else "?"


def _missing(workflow: Workflow, first_key: Node) -> Hit:
    message = (
        "the workflow sets no top-level `permissions`, so its jobs get the default token "
        "permissions of the repository; add `permissions: {}` and widen them per job"
    )
    if workflow.jobs and all("permissions" in job.fields for job in workflow.jobs):
        message += " (every job sets its own today; the default would reach jobs added later)"
        return Hit(message, first_key, "permissions", severity=Severity.LOW)
    return Hit(message, first_key, "permissions")


def _top_level_scalar(value: ScalarNode) -> Hit:
    if value.value in BLANKET:
        return _blanket(
            value, "permissions", "the workflow", "use `permissions: {}` and grant scopes per job"
        )
    shown = f"`{value.value}`" if value.value else "empty"
    return Hit(
        f"top-level permissions are {shown}, not `{{}}`; use `permissions: {{}}` and grant "
        "scopes per job",
        value,
        "permissions",
    )


def _blanket(value: ScalarNode, route: str, owner: str, fix: str) -> Hit:
    if value.value == "write-all":
        return Hit(
            f"{owner} grants `write-all`: the token may write to every scope of the repository; "
            + fix,
            value,
            route,
            severity=Severity.HIGH,
        )
    return Hit(
        f"{owner} grants `read-all`, every scope GitHub has now or adds later; " + fix,
        value,
        route,
    )
