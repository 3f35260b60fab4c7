from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule

if TYPE_CHECKING:  # graph audits only
    from bastion.model.gaps import Context, Gap
    from bastion.model.graph import Node


class LatestVersionDefault(Rule):
    """Flags a called action whose version input installs whatever release is newest.

    A graph rule (`bastion check --graph`, `bastion graph`), flagged at the line of your
    file that brings the action in, with the chain and the line of the input's `default:`
    in the called file, unless your `with:` passes the input an exact value. Reported, for
    an input named `version` or `*-version`/`*_version` (or an image input, `image` or
    `*-image`):

    - a default of `latest` (high confidence), or an image default tagged `latest` or
      untagged;
    - a default that is a range (`~> v2`, `^1.2`, `>=3`, `2.x`), except for language
      runtimes (`node-version: 24.x` is the usual way to ask for a major line);
    - no default (or an empty one) when the action itself says that means the newest
      release: its description ("Defaults to latest", "If not specified, the latest
      version will be installed"), or its own code (`npm install -g pkg@${VERSION}`, a
      script that turns an empty version into `releases/latest`); medium confidence;
    - a step of the called action passing `version: latest` to another action.

    An exact default (sigstore/cosign-installer's `cosign-release: v3.0.6`, whose binary is
    then checked against hashes in the action) is not reported, nor is an input whose
    description says something else fills it in (a version file, the runner's default).

    ## Why it matters
    With `version: latest`, pinning the action to a commit pins only its installer: the
    tool it installs is whatever was released last, the moment your job runs. A hijacked
    release of that tool runs in your job with its token and secrets, and nothing in your
    repository changes. A tool version you choose makes the install reproducible and lets a
    cooldown and a review happen before an upgrade.

    ## Example
    ```yaml
    steps:
      - uses: aquasecurity/setup-trivy@<sha>   # flagged: `version` defaults to `latest`
    ```

    ## How to fix
    Pass an exact version (and a checksum, when the action takes one), and let Dependabot
    or Renovate bump it:

    ```yaml
      - uses: aquasecurity/setup-trivy@<sha>
        with:
          version: v0.65.0
    ```

    If the action takes a checksum input (jdx/mise-action's `sha256`), pass that too. If it
    has no way to fix the version, install the tool yourself from a pinned, checksummed
    release, or ask upstream for a pinned default with embedded hashes.

    References: GitHub's "Metadata syntax for GitHub Actions" (`inputs.<input_id>.default`),
    and the input's `default:` and `description:` in the action's file (the finding's
    chain links to it).
    """

    id = "latest-version-default"
    summary = "a called action installs the newest release of a tool unless told a version"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    checks_files = False

    def check_node(self, node: Node, context: Context) -> Iterator[Gap]:
        from bastion.model.gaps import latest_version_defaults

        view = node.view
        if view is None:
            return iter(())
        folder = node.metadata.rsplit("/", 1)[0] if "/" in node.metadata else ""
        files = {
            path: text
            for path in node.files
            if path != node.metadata
            and (not folder or path.startswith(f"{folder}/"))
            and (text := node.text(path)) is not None
        }
        return latest_version_defaults(view, node.metadata, files, context.inputs)
