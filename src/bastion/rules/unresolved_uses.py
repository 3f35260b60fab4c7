from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class UnresolvedUses(Rule):
    """Flags a `uses:` of the action graph that does not lead to something GitHub can run.

    A graph rule (`bastion check --graph`): the resolver follows every `uses:` of your
    workflows and of what they call, and this rule reports each one it cannot follow for a
    reason in the files or on the server, not in the network:

    | what | severity | confidence |
    |---|---|---|
    | the repository does not exist (or is private, and no token reads it) | high | medium |
    | no such branch, tag or commit in it | medium | high |
    | no action or workflow file at that path and commit | medium | medium |
    | the action or workflow file is malformed | medium | high |
    | past GitHub's limits, or a cycle | medium | high |
    | a `uses:` that cannot be resolved as written | low | high |

    GitHub's limits: ten levels of workflows, 50 distinct called workflows, composite
    actions nested ten deep. A `uses:` that cannot be resolved as written holds an
    expression, is not a well-formed name, or a path that leaves the repository.

    The finding points at the line of your file that brings the `uses:` in, and carries
    the chain when the `uses:` at fault is in a called file. A network failure, a refusal
    (403) or an exhausted rate limit is not a finding but an error (exit 2): that part of
    the graph went unaudited. With `--online`, a `uses:` of your own files that
    `unknown-ref` already reports is not reported again.

    ## Why it matters
    A `uses:` that points nowhere fails the run, and a repository that no longer exists is
    a name anyone may register: whoever does decides what your workflow, or the action it
    calls, runs (repo-jacking). A called action that names a deleted tag breaks your
    release on the day you need it. GitHub refuses a workflow past its nesting limits.

    ## Example
    ```yaml
    # org/setup/action.yml, at the commit your workflow pins
    runs:
      using: composite
      steps:
        - uses: someone/renamed-action@v1   # flagged, at your `uses: org/setup@<sha>`
    ```

    ## How to fix
    For your own `uses:`, point at the repository's current name and an existing release,
    pinned to its commit. For a called action, ask its maintainers to fix the reference,
    and meanwhile pin a release of the action that does not have it. If the repository is
    private and you should see it, set `GH_TOKEN`.
    """

    id = "unresolved-uses"
    summary = "a uses: of the action graph that leads nowhere (missing repository, ref or file)"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    checks_files = False
