from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class LockIdentity(Rule):
    """Flags lockfile entries whose repository is no longer the one that was locked.

    Online only (`bastion check --online`). Each entry of `.github/workflows/actions.lock`
    records the numeric ids of the action's owner and repository. bastion reads them again
    with `GET /repos/{owner}/{repo}` (one request per repository, cached) and compares.

    ## Why it matters
    Names can be reused: an owner who renames or deletes an account frees the name, and
    whoever registers it next can publish a repository of the same name, with tags of the
    same names. The ids cannot be reused. A different id means that `owner/repo` is now
    someone else's repository, or that it was transferred or renamed and the name now
    redirects; GitHub blocks such mismatches at run time, so the workflow will not start.

    ## Example
    ```yaml
    'some-org/deploy@v1':
        owner_id: 1234      # GitHub now reports another owner id for some-org
        repo_id: 5678
    ```

    ## How to fix
    Find out who owns the repository now. If it is the action you meant (a transfer or a
    rename), point the workflow at the new name and run `bastion lock --relock`; if not,
    stop using it.
    """

    id = "lock-identity"
    summary = "a lockfile entry whose owner or repository id has changed (online)"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    checks_files = False
