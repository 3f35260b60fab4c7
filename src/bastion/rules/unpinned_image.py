from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model.expressions import find_expressions
from bastion.model.uses import UsesKind, image_is_digest_pinned
from bastion.model.workflow import Action, Fields, Step, Workflow
from bastion.rules.base import Hit, Rule
from bastion.source.yaml import MappingNode, Node, ScalarNode

DOCKER_PREFIX = "docker://"


class UnpinnedImage(Rule):
    """Flags container images that are not pinned to a digest (`@sha256:` and 64 hex digits).

    Checked: step `uses: docker://IMAGE` (in workflows and composite actions), a job's
    `container:` (the string form or its `image:`), each `services.<id>.image`, and the
    `runs.image` of a Docker action when it names a registry image (`docker://...`). A
    Docker action built from a local `Dockerfile` is not reported (its base images are out of
    this rule's reach), nor is an empty or absent image (GitHub skips such a service).

    An image that comes entirely from an expression (`${{ matrix.image }}`), or whose digest
    does, is reported with low confidence: bastion cannot see the value, but it is worth a
    look, since the matrix or input that supplies it is usually a list of tags.

    ## Why it matters
    A tag such as `node:20` or `latest` is a pointer the image's publisher (or anyone who
    takes over their registry account) can move. The job then runs a different image, with
    the job's token and secrets, without any change to the workflow. The playbook (CI/CD
    control C2) allows only immutable references: a full commit SHA for actions and an
    `@sha256:` digest for `docker://` images; job containers and services pull images the
    same way.

    ## Example
    ```yaml
    jobs:
      test:
        runs-on: ubuntu-latest
        container: node:20                 # flagged: a mutable tag
        services:
          db:
            image: postgres                # flagged: no tag, so `latest`
        steps:
          - uses: docker://alpine:3.20     # flagged
    ```

    ## How to fix
    Resolve the tag to its digest (`docker buildx imagetools inspect node:20`) and pin it,
    keeping the tag for readers; Dependabot and Renovate update such pins:

    ```yaml
        container: node:20@sha256:<64 hex digits of the digest>
    ```
    """

    id = "unpinned-image"
    summary = "a container image not pinned to a digest"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            container = job.fields.get("container")
            if container is not None:
                image, route = _image_of(container, f"{job.route}/container")
                if image is not None:
                    yield from _check(image, image.value, route, "of the job container")
            services = job.fields.mapping("services")
            for service in services or ():
                if not isinstance(service.value, MappingNode):
                    continue
                image = Fields(service.value).scalar("image")
                if image is not None:
                    route = f"{job.route}/services/{service.key.value}/image"
                    what = f"of service `{service.key.value}`"
                    yield from _check(image, image.value, route, what)
            yield from _check_steps(job.steps)

    def check_action(self, action: Action) -> Iterator[Hit]:
        yield from _check_steps(action.steps)
        image = action.runs.scalar("image") if action.is_docker and action.runs else None
        if image is not None and image.value.strip().startswith(DOCKER_PREFIX):
            name = image.value.strip().removeprefix(DOCKER_PREFIX)
            yield from _check(image, name, "runs/image", "of the action")


def _check_steps(steps: list[Step]) -> Iterator[Hit]:
    for step in steps:
        uses = step.uses
        if uses is not None and uses.kind is UsesKind.DOCKER and step.uses_node is not None:
            yield from _check(step.uses_node, uses.image, f"{step.route}/uses", "of the step")


def _image_of(node: Node, route: str) -> tuple[ScalarNode | None, str]:
    """The image scalar of a `container:` or service: a string, or the mapping's `image`."""
    if isinstance(node, MappingNode):
        return Fields(node).scalar("image"), f"{route}/image"
    return (node if isinstance(node, ScalarNode) else None), route


def _check(node: ScalarNode, image: str, route: str, what: str) -> Iterator[Hit]:
    image = image.strip()
    if not image or image_is_digest_pinned(image):
        return
    expressions = find_expressions(image)
    name, at, digest = image.partition("@")
    if expressions and (expressions[0].end - expressions[0].start == len(image)):
        yield Hit(
            f"the image {what} comes from the expression `{image}`; bastion cannot tell "
            "whether it is pinned to a digest",
            node,
            route,
            confidence=Confidence.LOW,
        )
    elif at and "${{" in digest:
        yield Hit(
            f"the image `{image}` {what} takes its digest from an expression; bastion cannot "
            "tell whether it is a full `sha256` digest",
            node,
            route,
            confidence=Confidence.LOW,
        )
    elif at:
        yield Hit(
            f"the image `{image}` {what} has a digest that is not `sha256:` followed by 64 "
            "lowercase hex digits",
            node,
            route,
        )
    else:
        tag = _tag(name)
        problem = (
            f"uses the mutable tag `{tag}`, not a `@sha256:` digest"
            if tag
            else "has no tag or digest, so it pulls whatever `latest` points to; pin a digest"
        )
        yield Hit(f"the image `{image}` {what} {problem}", node, route)


def _tag(name: str) -> str:
    """The tag of an image reference (after the last `:` of its last path segment)."""
    last = name.rsplit("/", 1)[-1]
    return last.partition(":")[2]
