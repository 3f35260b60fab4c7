from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule

if TYPE_CHECKING:  # graph audits only
    from bastion.model.gaps import Context, Gap
    from bastion.model.graph import Node


class NestedUnverifiedDownload(Rule):
    """Flags a called action that downloads code and runs or installs it unverified.

    A graph rule (`bastion check --graph`, `bastion graph`). In the `run:` steps of the
    composite actions and reusable workflows the graph reaches, in the shell scripts of
    the action's own tree that those steps run (through `github.action_path`), and in the
    `RUN` instructions of the Dockerfile a docker action builds, flagged at the line of your
    file that brings the action in (the chain and the exact line of the called file come
    with the finding):

    - everything `unverified-download` reports (`curl ... | sh`, a download made
      executable, `releases/latest` URLs, `go install ...@latest`, `pip install` of a URL);
    - a `releases/latest` URL assigned to a variable that a download then uses;
    - a file fetched from a branch: `raw.githubusercontent.com/OWNER/REPO/main/...`,
      `github.com/OWNER/REPO/raw/master/...`, `archive/refs/heads/...`;
    - `cargo install --git URL` (with `--branch`, or without `--rev`/`--tag`);
    - `npm install -g tool@latest` (also `pnpm`, `yarn`, `bun`, `npx tool@latest`);
    - an archive downloaded and unpacked (`curl ... | tar x`, `tar xf` or `unzip` of it);
    - in the Dockerfile of a docker action (rebuilt on every run), `pip install` of a
      package without an exact `==` version, or of a requirements file of the action's
      tree whose lines do not pin one (reported at that line), unless `--require-hashes`;
    - in that Dockerfile, `apk add` or `apt-get install` of distribution packages without a
      version, at low severity: they are signed by the distribution, so what moves is their
      version, not who made them (medium confidence when the stage's base image is pinned
      by digest, and the packages are what still moves; low when the base is a tag too);
    - taiki-e/install-action's `fallback` input left at its default, `cargo-binstall`
      (`main.sh` sends a tool or version missing from the action's manifests to
      `cargo-binstall binstall`, outside the action's sha256 checks, and itself calls
      `fallback: none` the best practice), at low severity: which tools the manifests list
      is not fetched, so the finding says when it applies. Passing `fallback: none` closes it.

    A download in a branch of its script that tests a variable against a literal
    (`if [ "$VERSION_TYPE" = "latest" ]`, CodSpeedHQ/action) is a mode that inputs or the
    action's own logic select, not its usual path: reported with low confidence, naming the
    branch (which branch a caller's inputs take is not evaluated).

    A script that checks a signature (`gpg --verify`, `cosign verify*`, `minisign -V`,
    `gh attestation verify`, `slsa-verifier`) or a checksum it did not download itself
    (`sha256sum -c` of a file it fetched from the same place verifies nothing) is not
    reported, except for pipes into an interpreter.

    ## Why it matters
    A commit pin freezes the action's files, not what they fetch when they run. An
    installer taken from a branch, a "latest" release or an unchecked tarball changes
    under the pin: whoever controls that server or release runs code in your job with its
    token and secrets (the Codecov uploader compromise of 2021 went through exactly such a
    download). The playbook checks every downloaded installer against a checksum.

    ## Example
    ```yaml
    # org/lint/entrypoint.sh, run by the composite action you pin
    curl -o formatter.js https://raw.githubusercontent.com/org/tool/master/formatter.js
    ```

    ## How to fix
    Pass the action an exact `version:` (and its checksum input, if it has one) so it skips
    the moving download; or pin elsewhere: install the tool yourself from a pinned release
    checked with `sha256sum --check`, and drop the action. Ask the maintainers to embed the
    versions and sha256 hashes of what the action downloads (sigstore/cosign-installer
    does: its bootstrap binary is checked against hashes written into the action).

    References: GitHub's "Security hardening for GitHub Actions" (the risks of third-party
    actions: audit the source code of the action), and the action's own files, linked
    from the finding's chain (`via` in JSON, related locations in SARIF).
    """

    id = "nested-unverified-download"
    summary = "a called action downloads and runs code without a checksum or from a branch"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    checks_files = False

    def check_node(self, node: Node, context: Context) -> Iterator[Gap]:
        from bastion.model.gaps import (
            built_dockerfile,
            dockerfile_downloads,
            dockerfile_system_packages,
            dockerfile_unpinned_installs,
            fallback_installs,
            is_script,
            run_step_downloads,
            script_downloads,
        )

        view = node.view
        if view is not None:
            yield from run_step_downloads(view, node.metadata)
        dockerfile = built_dockerfile(node)
        for path in sorted(node.files):
            text = node.text(path)
            if (path == node.metadata and path != dockerfile) or text is None:
                continue
            if path == dockerfile:
                yield from dockerfile_downloads(path, text)
                texts = {name: found for name in node.files if (found := node.text(name))}
                yield from dockerfile_unpinned_installs(path, text, texts)
                yield from dockerfile_system_packages(path, text)
            elif is_script(path, text):
                yield from script_downloads(path, text)
        if view is not None:
            scripts = {
                path: text
                for path in node.files
                if path != node.metadata and (text := node.text(path)) is not None
            }
            yield from fallback_installs(view, node.metadata, scripts, context.inputs)
