from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bastion.findings import Confidence, Severity, Span
from bastion.model.expressions import (
    ExpressionError,
    context_paths,
    find_expressions,
    parse_expression,
)
from bastion.model.walk import expression_span, iter_scalars, mentioning
from bastion.model.workflow import Job, Workflow
from bastion.rules.base import Hit, Rule
from bastion.source.text import LineIndex
from bastion.source.yaml import Node, ScalarNode

ALWAYS_AVAILABLE = frozenset({"github_token"})
"""Secrets GitHub provides to every job; they need no environment."""


@dataclass(frozen=True, slots=True)
class _SecretRead:
    """One expression that reads secrets, with the place it is written."""

    what: str
    """The secrets read, described for a message."""
    node: ScalarNode
    route: str
    span: Span | None


class SecretOutsideEnvironment(Rule):
    """Flags secrets read by a job that declares no deployment `environment`.

    Every expression that reads the `secrets` context is checked: `secrets.NAME`,
    `secrets['NAME']`, `secrets[format(...)]` and `toJSON(secrets)`, in any case, anywhere in
    the job (`env`, `with`, `run`, `if`, container and service credentials, the `secrets:`
    a job passes to a reusable workflow) and in the workflow-level `env`, which every job
    without an environment evaluates. `GITHUB_TOKEN` is exempt: GitHub gives it to every job.
    Each expression is one finding, located at its `${{ ... }}`.

    A job that calls a reusable workflow cannot declare an environment, so the secrets it
    passes down are necessarily repository or organisation secrets; they are reported with
    medium confidence, since the fix is in how the called workflow gets them.

    ## Why it matters
    A repository or organisation secret is readable by every job of every workflow in the
    repository: a compromised linter or test dependency in any of them can read the
    release credentials. Secrets stored in a deployment environment are given only to jobs
    that name the environment, and the environment can require reviewers and restrict which
    branches and tags may deploy. The playbook (CI/CD control C6) isolates secrets in
    environments wherever possible.

    ## Example
    ```yaml
    jobs:
      publish:
        runs-on: ubuntu-latest
        steps:
          - run: npm publish
            env:
              NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}    # flagged
    ```

    ## How to fix
    Create an environment (Settings, Environments), move the secret into it, protect it
    (required reviewers, deployment branches or tags), and name it on the job:

    ```yaml
    jobs:
      publish:
        runs-on: ubuntu-latest
        environment: release
        steps:
          - run: npm publish
            env:
              NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
    ```

    Better still, replace long-lived tokens with trusted publishing (OIDC) where the
    registry supports it.
    """

    id = "secret-outside-environment"
    summary = "a job reads secrets without a deployment environment"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        exposed = [job for job in workflow.jobs if not job.has_environment]
        if not exposed or not workflow.document.may_contain(workflow.document.root, "secrets"):
            return
        lines = workflow.lines
        keep = mentioning(workflow.document, "secrets")
        # The workflow-level env is evaluated in every job except those calling a workflow.
        runners = [job.job_id for job in exposed if job.uses is None]
        env = workflow.fields.get("env")
        if env is not None and runners:
            for read in _secret_reads(lines, env, "env", set(), keep):
                yield Hit(
                    f"the workflow-level `env` reads {read.what} for {_jobs(runners)} without "
                    "a deployment `environment`; read it only in the job that needs it, and "
                    "move it to that job's environment",
                    read.node,
                    read.route,
                    span=read.span,
                )
        for job in exposed:
            if not workflow.document.may_contain(job.node, "secrets"):
                continue
            for read in _secret_reads(lines, job.node, job.route, _bare_conditions(job), keep):
                yield _job_hit(job, read)


def _job_hit(job: Job, read: _SecretRead) -> Hit:
    if job.uses is not None:
        return Hit(
            f"job `{job.job_id}` passes {read.what} to a reusable workflow; a calling job cannot "
            "declare an `environment`, so only repository or organisation secrets, which every "
            "workflow can read, reach it here; let the called workflow's job declare an "
            "environment that holds the secret",
            read.node,
            read.route,
            confidence=Confidence.MEDIUM,
            span=read.span,
        )
    return Hit(
        f"job `{job.job_id}` reads {read.what} without declaring a deployment `environment`: "
        "only repository or organisation secrets reach it, which every job can read; move the "
        "secret to an environment and name the environment on the job",
        read.node,
        read.route,
        span=read.span,
    )


def _jobs(job_ids: list[str], shown: int = 4) -> str:
    names = ", ".join(f"`{job_id}`" for job_id in job_ids[:shown])
    if len(job_ids) > shown:
        names += f" and {len(job_ids) - shown} more"
    return f"job {names}" if len(job_ids) == 1 else f"jobs {names}"


def _bare_conditions(job: Job) -> set[int]:
    """The `if:` scalars of the job and its steps, which are expressions without `${{ }}`."""
    conditions = [job.fields.scalar("if"), *(step.fields.scalar("if") for step in job.steps)]
    return {id(node) for node in conditions if node is not None}


def _secret_reads(
    lines: LineIndex,
    root: Node,
    route: str,
    bare_conditions: set[int],
    keep: Callable[[Node], bool] | None,
) -> Iterator[_SecretRead]:
    for where, scalar in iter_scalars(root, route, keep):
        text = scalar.value
        if "${{" in text:
            for embedded in find_expressions(text):
                if "secrets" not in embedded.source.lower():
                    continue  # cannot read the context without naming it
                what = _secrets_read(embedded.source)
                if what:
                    span = expression_span(lines, scalar, embedded)
                    yield _SecretRead(what, scalar, where, span)
        elif id(scalar) in bare_conditions:
            what = _secrets_read(text)
            if what:
                yield _SecretRead(what, scalar, where, None)


def _secrets_read(source: str) -> str:
    """What an expression reads of the secrets, described for a message ("" if nothing)."""
    try:
        expression = parse_expression(source)
    except ExpressionError:
        return ""
    names: list[str] = []
    others: list[str] = []
    for path in context_paths(expression):
        if path.root != "secrets":
            continue
        if len(path.parts) == 1:
            others.append("every secret (the whole `secrets` context)")
        elif path.parts[1] == "*":
            others.append("a secret whose name is computed at run time")
        elif path.parts[1] not in ALWAYS_AVAILABLE:
            # GitHub stores secret names in upper case and looks them up in any case.
            names.append(f"`{path.parts[1].upper()}`")
    names = list(dict.fromkeys(names))
    if len(names) == 1:
        others.insert(0, f"the secret {names[0]}")
    elif names:
        others.insert(0, f"the secrets {', '.join(names[:-1])} and {names[-1]}")
    return " and ".join(dict.fromkeys(others))
