from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class UnknownRef(Rule):
    """Flags `uses:` whose repository, branch, tag or commit does not exist.

    Online only (`bastion check --online`). bastion lists the repository's branches and
    tags with one git request (cached) and flags a ref that names none of them, a pinned
    commit the server does not hold, and a repository the server does not know. GitHub
    answers "not found" both for a repository that does not exist and for a private one
    the credentials cannot read, and the message says so: set `GH_TOKEN` if the repository
    is private and you should see it.

    ## Why it matters
    A `uses:` that points nowhere fails the workflow at run time, but a renamed or deleted
    action repository is also a supply-chain risk: whoever registers the freed name decides
    what the workflow runs (repo-jacking). The playbook's pinning controls (CI/CD C2, C3)
    assume that every pin names a real, released state of a real repository.

    ## Example
    ```yaml
    steps:
      - uses: actions/checkout@v99          # flagged: no such tag
      - uses: someone/deleted-action@v1     # flagged: no such repository
    ```

    ## How to fix
    Point the step at the repository's current name and an existing release, pinned:

    ```yaml
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ```
    """

    id = "unknown-ref"
    summary = "a uses: whose repository, branch, tag or commit does not exist (online)"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    checks_files = False
