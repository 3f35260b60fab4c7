from __future__ import annotations

import re
from collections.abc import Iterator

from bastion import knowledge
from bastion.findings import Area, Confidence, Severity
from bastion.model.shell import script_lines
from bastion.model.walk import expression_span
from bastion.model.workflow import Fields, Job, Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.facts import facts
from bastion.rules.release import (
    CRATES,
    NPM,
    NUGET,
    PUBDEV,
    PYPI,
    RUBYGEMS,
    Publish,
    job_publishes,
)
from bastion.source.yaml import ScalarNode

TRUSTED_PUBLISHING = frozenset({PYPI, NPM, CRATES, RUBYGEMS, NUGET, PUBDEV})
"""Registries that accept short-lived tokens exchanged for the job's OIDC identity."""
CREDENTIAL_VARIABLES = {
    "TWINE_PASSWORD": PYPI, "UV_PUBLISH_TOKEN": PYPI, "UV_PUBLISH_PASSWORD": PYPI,
    "POETRY_PYPI_TOKEN_PYPI": PYPI, "FLIT_PASSWORD": PYPI, "HATCH_INDEX_AUTH": PYPI,
    "NODE_AUTH_TOKEN": NPM, "NPM_TOKEN": NPM, "NPM_AUTH_TOKEN": NPM, "NPM_CONFIG_TOKEN": NPM,
    "CARGO_REGISTRY_TOKEN": CRATES, "CARGO_REGISTRIES_CRATES_IO_TOKEN": CRATES,
    "GEM_HOST_API_KEY": RUBYGEMS, "RUBYGEMS_API_KEY": RUBYGEMS,
    "NUGET_API_KEY": NUGET, "NUGET_AUTH_TOKEN": NUGET,
    "PUB_TOKEN": PUBDEV,
}  # fmt: skip
"""Environment variables the publishing tools read a registry credential from."""
SHARED_VARIABLES = frozenset(
    {"NODE_AUTH_TOKEN", "NPM_TOKEN", "NPM_AUTH_TOKEN", "NPM_CONFIG_TOKEN", "NUGET_AUTH_TOKEN"}
)
"""Variables also used to install private packages: reported only beside a publishing step."""
_CREDENTIAL_FLAG = re.compile(
    r"(?:^|\s)(--token|--api-key|-k|--password|-p)(?:[=\s]|$)|_authToken|token add"
)


class StoredPublishCredential(Rule):
    """Flags publishing to a registry with a stored token where Trusted Publishing exists.

    In a job with a step that publishes to PyPI, npm, crates.io, RubyGems, NuGet or pub.dev
    (see `bastion explain publish-outside-environment` for the steps recognised), a
    credential read from the `secrets` context is flagged at its `${{ }}`:

    - a credential input of a publishing action (`credential-inputs` in the knowledge base:
      the `password:` of `pypa/gh-action-pypi-publish`, `token:` of
      `JS-DevTools/npm-publish`), or of an action that sets up a registry's credential
      for later steps (`api-token:` of `rubygems/configure-rubygems-credentials`, which
      uses the job's OIDC identity when it is left out);
    - a credential variable (`TWINE_PASSWORD`, `UV_PUBLISH_TOKEN`, `POETRY_PYPI_TOKEN_PYPI`,
      `NODE_AUTH_TOKEN`, `NPM_TOKEN`, `CARGO_REGISTRY_TOKEN`, `GEM_HOST_API_KEY`,
      `NUGET_API_KEY`, and a few more) in the `env:` of any step of the job, of the job or
      of the workflow, when it is the credential for a registry the job publishes to; a
      job with no publishing step that sets one of these variables (other than the
      npm and NuGet ones, which also serve to install private packages) is taken to
      publish from a script, with medium confidence;
    - a secret on a line of the publishing step's script that has `--token`, `--api-key`,
      `-k`, `--password` or `-p` (`uv publish --token ...`, `cargo publish --token ...`,
      `dotnet nuget push --api-key ...`), or that writes an npm `_authToken`.

    A job whose only publishing step is `pypa/gh-action-pypi-publish` with a
    `repository-url` of a private index (not PyPI's or TestPyPI's) is not checked: whether
    that index has Trusted Publishing is not known. `GITHUB_TOKEN` is not a stored
    credential, and a token exchanged for the job's OIDC
    identity in an earlier step (`${{ steps.auth.outputs.token }}`) is what is wanted.

    ## Why it matters
    A long-lived registry token in the repository's secrets can be read by any workflow
    change that reaches it, copied, and used from anywhere until someone notices and
    revokes it: stolen publishing tokens are how most registry takeovers happen. Trusted
    Publishing replaces the token with one minted for a single run of a named workflow,
    valid for minutes. The playbook (release control L1) publishes with Trusted Publishing
    wherever the registry supports it.

    ## Example
    ```yaml
    jobs:
      pypi:
        runs-on: ubuntu-latest
        environment: release
        steps:
          - uses: pypa/gh-action-pypi-publish@<sha>
            with:
              password: ${{ secrets.PYPI_TOKEN }}      # flagged
    ```

    ## How to fix
    Register the workflow as a trusted publisher on the registry, grant the job
    `id-token: write`, drop the token, and delete it on the registry:

    ```yaml
    jobs:
      pypi:
        runs-on: ubuntu-latest
        environment: release
        permissions:
          id-token: write
        steps:
          - uses: pypa/gh-action-pypi-publish@<sha>
    ```

    For crates.io, exchange the identity with `rust-lang/crates-io-auth-action` and pass its
    `token` output to `cargo publish`.
    """

    id = "stored-publish-credential"
    summary = "publishing with a stored registry token where Trusted Publishing exists"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    area = Area.RELEASE

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        shared = facts(workflow)
        seen: set[tuple[int, int, int, int]] = set()
        for job in workflow.jobs:
            if not shared.secret_reads(job) and not shared.secret_reads(None):
                continue  # every finding is a secret read in the job or the workflow's env
            found = job_publishes(workflow, job)
            publishes = [
                p for p in found if p.registry in TRUSTED_PUBLISHING and not _private_index(p)
            ]
            if found and not publishes and any(_private_index(p) for p in found):
                continue  # a private index: whether it has Trusted Publishing is not known
            registries = {p.registry for p in publishes}
            if publishes:
                context = f"job `{job.job_id}` publishes to {_names(registries)}"
            else:
                # A publishing tool's own credential variable says what a script will do.
                registries = set(TRUSTED_PUBLISHING)
                context = f"job `{job.job_id}` most likely publishes (from a script)"
            hits = [
                *self._inputs(workflow, job, publishes, context),
                *self._commands(workflow, job, publishes, context),
                *self._configured(workflow, job, registries, context, bool(publishes)),
            ]
            levels: list[tuple[Job | None, Fields | None, str]] = [
                (job, step.fields.mapping("env"), f"{step.route}/env") for step in job.steps
            ]
            levels += [(job, job.fields.mapping("env"), f"{job.route}/env")]
            levels += [(None, workflow.fields.mapping("env"), "env")]
            for owner, env, route in levels:
                hits.extend(
                    self._env(workflow, owner, env, route, registries=registries, context=context)
                )
            for hit in hits:
                assert hit.span is not None
                key = (hit.span.start.line, hit.span.start.column, hit.span.end.line, 0)
                if key not in seen:
                    seen.add(key)
                    yield hit

    def _secret_hits(
        self, workflow: Workflow, job: Job | None, node: ScalarNode, route: str, message: str
    ) -> Iterator[Hit]:
        """A hit at each secret read of ``node``, a value in ``job`` (None: the workflow's
        `env`)."""
        for read in facts(workflow).secret_reads_of(job, node):
            if read.embedded is not None:
                span = expression_span(workflow.lines, node, read.embedded)
                yield Hit(message, node, route, span=span)

    def _inputs(
        self, workflow: Workflow, job: Job, publishes: list[Publish], context: str
    ) -> list[Hit]:
        hits: list[Hit] = []
        for publish in publishes:
            step = publish.step
            info = knowledge.lookup(step.uses)
            for name in info.credential_inputs if info is not None else ():
                value = step.input(name)
                if value is None or publish.line is not None:
                    continue
                message = (
                    f"{context} with a stored token (`{name}:` of {publish.what}); "
                    f"{_fix(publish.registry)}"
                )
                hits.extend(
                    self._secret_hits(workflow, job, value, f"{step.route}/with/{name}", message)
                )
        return hits

    def _configured(
        self,
        workflow: Workflow,
        job: Job,
        registries: set[str],
        context: str,
        publishes: bool,
    ) -> list[Hit]:
        """Stored tokens handed to an action that sets up a registry's credential for later
        steps (`api-token:` of `rubygems/configure-rubygems-credentials`)."""
        hits: list[Hit] = []
        for step in job.steps:
            info = knowledge.lookup(step.uses)
            if info is None or not info.credential_for or info.credential_for not in registries:
                continue
            for name in info.credential_inputs:
                value = step.input(name)
                if value is None:
                    continue
                message = (
                    f"{context} with a stored token (`{name}:` of `{info.name}`, which "
                    f"exchanges the job's OIDC identity instead when it is left out); "
                    f"{_fix(info.credential_for)}"
                )
                route = f"{step.route}/with/{name}"
                confidence = None if publishes else Confidence.MEDIUM
                for hit in self._secret_hits(workflow, job, value, route, message):
                    hits.append(
                        Hit(hit.message, hit.node, hit.route, confidence=confidence, span=hit.span)
                    )
        return hits

    def _commands(
        self, workflow: Workflow, job: Job, publishes: list[Publish], context: str
    ) -> list[Hit]:
        hits: list[Hit] = []
        for publish in publishes:
            run = publish.step.run
            if run is None:
                continue
            reads = [r.embedded for r in facts(workflow).secret_reads_of(job, run) if r.embedded]
            if not reads:
                continue
            for line in script_lines(run.value):
                if not _CREDENTIAL_FLAG.search(line.masked):
                    continue
                for item in reads:
                    if line.start <= item.start < line.end:
                        hits.append(
                            Hit(
                                f"{context} with a stored token passed on the command line; "
                                f"{_fix(publish.registry)}",
                                run,
                                f"{publish.step.route}/run",
                                span=expression_span(workflow.lines, run, item),
                            )
                        )
        return hits

    def _env(
        self,
        workflow: Workflow,
        owner: Job | None,
        env: Fields | None,
        route: str,
        *,
        registries: set[str],
        context: str,
    ) -> Iterator[Hit]:
        """Stored tokens in the credential variables of ``env``, a mapping of ``owner`` (a
        job, or None for the workflow)."""
        for entry in env or ():
            name = entry.key.value.upper()
            registry = CREDENTIAL_VARIABLES.get(name)
            if registry is None or registry not in registries:
                continue
            if "(from a script)" in context and name in SHARED_VARIABLES:
                continue
            if not isinstance(entry.value, ScalarNode):
                continue
            message = f"{context} with a stored token (`{name}`); {_fix(registry)}"
            confidence = Confidence.MEDIUM if "(from a script)" in context else None
            for hit in self._secret_hits(
                workflow, owner, entry.value, f"{route}/{entry.key.value}", message
            ):
                yield Hit(hit.message, hit.node, hit.route, confidence=confidence, span=hit.span)


def _private_index(publish: Publish) -> bool:
    """Whether a publishing action is pointed at another index than its registry's own
    (`repository-url` of `pypa/gh-action-pypi-publish` naming a private index)."""
    info = knowledge.lookup(publish.step.uses)
    if info is None or publish.line is not None:
        return False
    for name in info.index_inputs:
        value = publish.step.input(name)
        if value is None or not value.value.strip():
            continue
        url = value.value.strip().lower()
        if "${{" in url:
            return False  # may be the registry's own; judged as it
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return not set(host.split(".")) & set(info.default_index)
    return False


def _names(registries: set[str]) -> str:
    ordered = sorted(registries)
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} and {ordered[-1]}"


def _fix(registry: str) -> str:
    return (
        f"{registry} supports Trusted Publishing: register this workflow as a trusted "
        "publisher, grant the job `id-token: write`, and delete the long-lived token"
    )
