from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule

if TYPE_CHECKING:  # graph audits only
    from bastion.model.gaps import Context, Gap
    from bastion.model.graph import Node


class NestedMutableUses(Rule):
    """Flags an action or reusable workflow you call that itself calls something mutable.

    A graph rule (`bastion check --graph`, `bastion graph`): for every composite action and
    reusable workflow the graph reaches, each `uses:` in it that names a tag or a branch
    (`other/thing@v1`, `@main`) instead of a full commit SHA, and each local path (`./...`):
    GitHub reads a local action named inside a called file from the *caller's* workspace,
    whatever the job checked out, not from the commit you pinned. The finding points at the
    line of your file that brings the action in, and lists the chain
    (`release.yml`, `job publish`, `org/setup@<sha>`, `other/thing@v1`). On called files it
    stands for `unpinned-action`, which is not reported there.

    ## Why it matters
    Pinning `uses: org/setup@<sha>` freezes that action's own files, not what they call. If
    `org/setup` runs `other/thing@v1`, whoever can move the `v1` tag of `other/thing` (its
    maintainers, or an attacker with their token: the tj-actions/changed-files compromise
    of March 2025 rewrote every tag at once) runs code in your job. The playbook's
    "immutability gaps" review asks for exactly this check on every pinned action.

    ## Example
    ```yaml
    # org/setup/action.yml, at the commit your workflow pins
    runs:
      using: composite
      steps:
        - uses: actions/cache@v4          # flagged, at your `uses: org/setup@<sha>`
    ```

    ## How to fix
    You cannot edit the called action, so: ask its maintainers to pin their own `uses:` to
    commit SHAs (Dependabot and Renovate keep such pins current); meanwhile pin an older
    release of it that already did, or call the nested action yourself, pinned, in place
    of the wrapper. For a reusable workflow's local `./` action, check out the workflow's
    own repository at a fixed commit before it runs, or ask upstream to call its action by
    `owner/repo/path@<sha>`.

    References: GitHub's "Security hardening for GitHub Actions" (using third-party
    actions: pin to a full-length commit SHA), and "Reusing workflows" (local actions in a
    called workflow resolve against the caller's checkout).
    """

    id = "nested-mutable-uses"
    summary = "a called action or reusable workflow uses a tag, a branch or a local path"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    checks_files = False

    def check_node(self, node: Node, context: Context) -> Iterator[Gap]:
        from bastion.model.gaps import nested_mutable_uses

        if node.view is None:
            return iter(())
        return nested_mutable_uses(node.view, node.metadata)
