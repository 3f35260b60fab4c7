from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Confidence, Severity
from bastion.model.workflow import Workflow
from bastion.rules.base import Rule, gap_of
from bastion.rules.unpinned_image import UnpinnedImage

if TYPE_CHECKING:  # graph audits only
    from bastion.model.gaps import Context, Gap
    from bastion.model.graph import Node


class MutableDockerImage(Rule):
    """Flags a called docker action whose image is a tag, not a digest.

    A graph rule (`bastion check --graph`, `bastion graph`), flagged at the line of your
    file that brings the action in, with the chain and the exact line of the called file:

    - a docker action's `runs.image: docker://IMAGE:TAG` without `@sha256:`;
    - each image the Dockerfile of a docker action pulls without a digest (the one
      `runs.image` names, or the Dockerfile of a folder without an action file, which the
      runner builds; also for a `./` docker action of your checkout, since the file pass
      does not read Dockerfiles): its `FROM` images (with the `ARG` values declared before
      the first `FROM` substituted; a later `FROM stage` of a `FROM x AS stage` is not a new
      image, nor is `scratch`) and the images of `COPY --from=IMAGE` (a stage name or index
      is not an image);
    - in called composite actions and reusable workflows, what `unpinned-image` reports in
      your own files (`uses: docker://`, job `container:` and `services:` images), which
      this rule stands for on called files.

    An image whose name still holds a variable no `ARG` gives is reported with medium
    confidence.

    ## Why it matters
    A docker action pinned by commit is still rebuilt from its Dockerfile on every run, or
    pulled by its tag: `FROM python:3.12-alpine` or `docker://ghcr.io/org/tool:v2` is
    whatever the image's publisher (or whoever takes over the registry account) points
    the tag at today. The commit pin gives no protection for the code that actually runs.

    ## Example
    ```dockerfile
    # org/zip-action/Dockerfile, at the commit you pin
    FROM alpine:latest                 # flagged, at your `uses: org/zip-action@<sha>`
    RUN apk add zip
    ```

    ## How to fix
    Ask the maintainers to pin the base images by digest (`FROM alpine:3.20@sha256:...`;
    Dependabot's `docker` ecosystem keeps such pins current) or to publish a prebuilt
    image and reference it as `docker://IMAGE@sha256:...`. Meanwhile, run the tool
    yourself from a digest-pinned image (`uses: docker://IMAGE@sha256:...` in a step), or
    pin elsewhere.

    References: GitHub's "Creating a Docker container action" (`runs.image`), Docker's
    "Dockerfile reference" (`FROM`, `ARG`, `COPY --from`) and "Image digests".
    """

    id = "mutable-docker-image"
    summary = "a called docker action builds on or pulls an image by tag, not by digest"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    checks_files = False

    def check_node(self, node: Node, context: Context) -> Iterator[Gap]:
        from bastion.model.gaps import built_dockerfile, dockerfile_images

        view = node.view
        if view is not None and not node.own:  # the file pass checks the user's own files
            images = UnpinnedImage()
            hits = (
                images.check_workflow(view)
                if isinstance(view, Workflow)
                else images.check_action(view)
            )
            for hit in hits:
                yield gap_of(hit, node.metadata)
        path = built_dockerfile(node)
        text = node.text(path) if path is not None else None
        if path is not None and text is not None:
            yield from dockerfile_images(path, text)
