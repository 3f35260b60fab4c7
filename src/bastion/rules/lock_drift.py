from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class LockDrift(Rule):
    """Flags lockfile entries whose tag or branch no longer names the locked commit.

    Online only (`bastion check --online`). For every entry of
    `.github/workflows/actions.lock` keyed by a tag or a branch (`actions/checkout@v4`),
    bastion lists the repository's refs (one `ls-refs` request per repository, no token for
    public ones) and compares the commit the ref names now with the locked `commit`.

    ## Why it matters
    GitHub keeps running the locked commit, so nothing changes by itself: that is the point
    of the lock. But the lock and the upstream now disagree. A branch moves all the time; a
    release tag that moved was rewritten by someone, possibly an attacker who took over the
    maintainer's account, and the next `gh actions-lock --relock` or Dependabot relock would
    adopt whatever the tag now holds. Review the move before accepting it.

    ## Example
    ```yaml
    'actions/checkout@v4':
        ref: 'v4'
        commit: 'sha1-11bd71901bbe5b1630ceea73d27597364c9af683'   # v4 now names another commit
    ```

    ## How to fix
    Read what changed upstream between the two commits. If the move is legitimate (a floating
    major tag following a new release), run `bastion lock --relock`; if not, keep the lock and
    report the moved tag to the action's maintainers.
    """

    id = "lock-drift"
    summary = "a lockfile entry whose tag or branch now names another commit (online)"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    checks_files = False
