from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity, Span
from bastion.model.walk import expression_span
from bastion.model.workflow import Job, Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.facts import SecretRead, facts
from bastion.source.text import LineIndex

ALWAYS_AVAILABLE = frozenset({"github_token"})
"""Secrets GitHub provides to every job; they need no environment."""


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
        if not exposed:
            return
        shared = facts(workflow)
        # The workflow-level env is evaluated in every job except those calling a workflow.
        runners = [job.job_id for job in exposed if job.uses is None]
        for read in shared.secret_reads(None) if runners else ():
            yield Hit(
                f"the workflow-level `env` reads {_described(read)} for {_jobs(runners)} "
                "without a deployment `environment`; read it only in the job that needs it, "
                "and move it to that job's environment",
                read.scalar,
                read.route,
                span=_span(workflow.lines, read),
            )
        for job in exposed:
            for read in shared.secret_reads(job):
                yield _job_hit(job, read, _span(workflow.lines, read))


def _job_hit(job: Job, read: SecretRead, span: Span | None) -> Hit:
    what = _described(read)
    if job.uses is not None:
        return Hit(
            f"job `{job.job_id}` passes {what} to a reusable workflow; a calling job cannot "
            "declare an `environment`, so only repository or organisation secrets, which every "
            "workflow can read, reach it here; let the called workflow's job declare an "
            "environment that holds the secret",
            read.scalar,
            read.route,
            confidence=Confidence.MEDIUM,
            span=span,
        )
    return Hit(
        f"job `{job.job_id}` reads {what} without declaring a deployment `environment`: "
        "only repository or organisation secrets reach it, which every job can read; move the "
        "secret to an environment and name the environment on the job",
        read.scalar,
        read.route,
        span=span,
    )


def _jobs(job_ids: list[str], shown: int = 4) -> str:
    names = ", ".join(f"`{job_id}`" for job_id in job_ids[:shown])
    if len(job_ids) > shown:
        names += f" and {len(job_ids) - shown} more"
    return f"job {names}" if len(job_ids) == 1 else f"jobs {names}"


def _span(lines: LineIndex, read: SecretRead) -> Span | None:
    """Where the read's `${{ }}` is written (None: the whole scalar, a bare `if:`)."""
    return expression_span(lines, read.scalar, read.embedded) if read.embedded else None


def _described(read: SecretRead) -> str:
    """What an expression reads of the secrets, described for a message."""
    names: list[str] = []
    others: list[str] = []
    for path in read.paths:
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
