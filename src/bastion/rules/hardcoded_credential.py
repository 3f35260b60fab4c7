from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model.workflow import Fields, Job, Workflow
from bastion.rules.base import Hit, Rule
from bastion.source.yaml import MappingNode, ScalarNode


class HardcodedCredential(Rule):
    """Flags a registry password written into the workflow file.

    Flagged at the value: the `password:` of `credentials:` of a job's `container:` or of
    one of its `services:`, when it is text written in the file rather than an expression
    (`${{ secrets.X }}`). GitHub documents `credentials` as the `username` and `password`
    the runner logs in to the image's registry with, and recommends a secret for the
    password ("Running jobs in a container", "jobs.<job_id>.container.credentials"). An
    empty password is not reported.

    ## Why it matters
    Everything in a workflow file is readable by whoever can read the repository (everyone,
    for a public one), stays in its git history after it is removed, and is copied into
    every fork. A registry password there lets anyone pull private images or, with a
    write-capable account, push a poisoned image that your jobs then run.

    ## Example
    ```yaml
    jobs:
      test:
        runs-on: ubuntu-latest
        container:
          image: ghcr.io/acme/build:1
          credentials:
            username: acme-bot
            password: s3cr3t-passw0rd    # flagged
    ```

    ## How to fix
    Store it as a secret, read it with an expression, and rotate the password that was
    exposed (removing it from the file does not remove it from the history):

    ```yaml
          credentials:
            username: acme-bot
            password: ${{ secrets.REGISTRY_PASSWORD }}
    ```
    """

    id = "hardcoded-credential"
    summary = "a registry password written into the workflow file"
    severity = Severity.HIGH
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            container = job.fields.get("container")
            if isinstance(container, MappingNode):
                yield from _password(job, Fields(container), "container", "its `container`")
            services = job.fields.mapping("services")
            for entry in services or ():
                if isinstance(entry.value, MappingNode):
                    name = entry.key.value
                    yield from _password(
                        job, Fields(entry.value), f"services/{name}", f"service `{name}`"
                    )


def _password(job: Job, fields: Fields, route: str, what: str) -> Iterator[Hit]:
    credentials = fields.mapping("credentials")
    value = credentials.get("password") if credentials is not None else None
    if not isinstance(value, ScalarNode) or "${{" in value.value or not value.value.strip():
        return
    yield Hit(
        f"job `{job.job_id}` writes the registry password of {what} into the workflow "
        "file, where anyone who can read the repository (and its history) can read it; "
        "store it as a secret, use `password: ${{ secrets.NAME }}`, and rotate this one",
        value,
        f"{job.route}/{route}/credentials/password",
    )
