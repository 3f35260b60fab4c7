from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class VersionCommentMismatch(Rule):
    """Flags SHA pins whose version comment names a tag that points at another commit.

    Online only (`bastion check --online`). The comment after a pin (`# v4.2.2`) is what
    reviewers and update tools read; bastion lists the repository's tags (one git request
    per repository, cached) and flags a pin when the tag its comment names points at a
    different commit, or does not exist at all.

    ## Why it matters
    The playbook (CI/CD controls C2 and C3) relies on SHA pins that humans can review. A
    comment that does not match lets a pin to old, vulnerable or malicious code pass review
    as a known release, and misleads Dependabot and `bastion update`, which read it to decide
    what to move the pin to. A mismatch also appears when a maintainer moved a tag after
    the pin was taken, which is worth knowing in itself.

    ## Example
    ```yaml
    steps:
      # flagged: v4.2.2 is 11bd719..., not this commit
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab # v4.2.2
    ```

    ## How to fix
    Run `bastion pin`, which writes the most specific tag of the pinned commit, or correct
    the SHA to the commit of the release you meant:

    ```yaml
    steps:
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab # v3.5.2
    ```
    """

    id = "version-comment-mismatch"
    summary = "a pin's version comment names a tag of another commit (online)"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    checks_files = False
