from __future__ import annotations

import re
from collections.abc import Iterator

from bastion import knowledge
from bastion.findings import Area, Confidence, Severity
from bastion.model.uses import UsesKind
from bastion.model.workflow import Job, Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.facts import facts
from bastion.rules.release import (
    CONTAINER,
    GITHUB_RELEASE,
    NPM,
    PYPI,
    Publish,
    job_publishes,
)
from bastion.rules.taint import Scope, env_entry, env_levels
from bastion.source.yaml import ScalarNode

ATTESTABLE = (PYPI, NPM, CONTAINER, GITHUB_RELEASE)
"""Where an attestation can be published beside the artifact."""
_TRUE = re.compile(r"\s*true\s*", re.IGNORECASE)


def _attests(workflow: Workflow) -> bool:
    shared = facts(workflow)
    for job in workflow.jobs:
        if job.uses is not None and job.uses.kind is UsesKind.REPOSITORY:
            # `attests-whole-repository`: every reusable workflow of the generator attests.
            repository = knowledge.named(f"{job.uses.owner}/{job.uses.repo}".lower())
            if repository is not None and repository.attests_whole_repository:
                return True
        for step in job.steps:
            info = knowledge.lookup(step.uses)
            if info is not None and info.attests:
                return True
            script = shared.script(step)
            if (
                script is not None
                and script.mentions("cosign")
                and any(
                    words[:2] in (["cosign", "attest"], ["cosign", "sign"])
                    for _, words in script.commands
                )
            ):
                return True
    return False


def _self_attested(workflow: Workflow, job: Job, publish: Publish) -> bool:
    """Whether the publishing step makes its own attestation."""
    step = publish.step
    if publish.registry == PYPI and publish.line is None:
        # Attestations are on by default under Trusted Publishing (no password).
        attestations = step.input("attestations")
        off = attestations is not None and attestations.value.strip().lower() == "false"
        return step.input("password") is None and not off
    if publish.registry == NPM:
        if publish.line is not None and "--provenance" in publish.line.masked:
            return True
        if step.input("provenance") is not None:
            value = step.input("provenance")
            return value is not None and _TRUE.fullmatch(value.value) is not None
        scope = Scope(job, job.steps, step.position)
        found = env_entry("NPM_CONFIG_PROVENANCE", env_levels(scope, workflow))
        setting = found[0].value if found else None
        return isinstance(setting, ScalarNode) and _TRUE.fullmatch(setting.value) is not None
    return False


class MissingProvenance(Rule):
    """Flags artifacts published without a provenance attestation.

    Each publishing step (see `bastion explain publish-outside-environment`) that publishes
    to PyPI, npm, a container registry or a GitHub release is flagged at its `uses:` or its
    command's line, unless:

    - the workflow attests what it builds anywhere: an action the knowledge base says
      `attests` (`actions/attest-build-provenance`, `actions/attest`), the SLSA generator
      (`slsa-framework/slsa-github-generator`), or `cosign attest` / `cosign sign`;
    - it is `pypa/gh-action-pypi-publish` under Trusted Publishing (no `password:`) with
      `attestations:` left on, its default;
    - it is `npm publish --provenance`, `JS-DevTools/npm-publish` with `provenance: true`,
      or a step that sees `NPM_CONFIG_PROVENANCE: true` in its `env` (step, job or workflow).

    Registries without attestations (crates.io, NuGet, pub.dev) are not checked. Medium
    confidence: the attestation may be made in another workflow, or `npm` may be told to
    make it by `publishConfig.provenance` in `package.json`, which is not read here.

    ## Why it matters
    A provenance attestation is a signed statement, logged in Sigstore's transparency log,
    that an artifact was built from a given commit by a given workflow. Users (and tools
    such as `gh attestation verify` or the registries themselves) can then tell a genuine
    release from one uploaded with a stolen credential or built on a tampered machine. The
    playbook (release control L2) attests binaries, packages and container images.

    ## Example
    ```yaml
    jobs:
      publish:
        runs-on: ubuntu-latest
        environment: release
        steps:
          - run: npm publish        # flagged
    ```

    ## How to fix
    Give the job `id-token: write` and `attestations: write`, and attest the artifacts:

    ```yaml
        steps:
          - run: npm publish --provenance
          - uses: actions/attest-build-provenance@<sha>
            with:
              subject-path: dist/*
    ```
    """

    id = "missing-provenance"
    summary = "published artifacts have no provenance attestation"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    area = Area.RELEASE

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        checked: list[tuple[Job, Publish]] = [
            (job, publish)
            for job in workflow.jobs
            for publish in job_publishes(workflow, job)
            if publish.registry in ATTESTABLE
        ]
        if not checked or _attests(workflow):
            return
        for job, publish in checked:
            if _self_attested(workflow, job, publish):
                continue
            yield Hit(
                f"job `{job.job_id}` publishes to {publish.registry} with {publish.what}, and "
                "nothing in this workflow attests the build's provenance; add "
                f"{_fix(publish)} so users can verify where the artifact was built",
                publish.node,
                publish.route,
                span=publish.span,
            )


def _fix(publish: Publish) -> str:
    if publish.registry == NPM:
        return "`--provenance` (or `NPM_CONFIG_PROVENANCE: true`)"
    if publish.registry == PYPI and publish.line is None:
        return "Trusted Publishing, which attests by default,"
    return "an `actions/attest-build-provenance` step"
