from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class ImpostorCommit(Rule):
    """Flags actions pinned to a commit that no branch of the named repository reaches.

    Online only (`bastion check --online`); offline it reports nothing. For every `uses:`
    pinned to a full commit SHA, bastion asks the repository's git server whether the commit
    is reachable from one of its **branches**. A commit reachable only from a tag, from a
    pull request head (`refs/pull/N/head`) or from nothing at all in this repository is
    flagged.

    ## Why it matters
    GitHub stores a repository and all its forks in one object network, and serves any
    commit of the network under any of its names: `actions/checkout@<sha>` runs a commit that
    only exists in an attacker's fork, and looks exactly like a genuine pin in review. The
    playbook (CI/CD control C2) asks that every pin be cross-checked against a real, released
    state of the upstream repository. Accepting a commit because some tag points at it is not
    enough: a tag can be pushed onto any commit the server holds, including a fork's.

    ## How it checks, and what it costs
    After the repository's one `ls-refs` listing (shared with every other pin of it), a pin
    costs at most **three** git requests, usually one, and none once proven (the answer is
    cached forever, keyed by the commit SHA):

    1. a commits-only `fetch` that wants the default branch's tip and says it *has* the
       pinned commit: the server sends the commits the pin does not reach, and the pin is
       genuine exactly when one of them has it as a parent (or it is the tip itself);
    2. if not, the same request for all the other branches at once;
    3. if still not, one negotiation round, in which the server acknowledges the commit
       only if it holds it: held but unreachable is an impostor, not held at all is
       reported by `unknown-ref`.

    No token and no REST call is needed, so GitHub's REST rate limit does not apply.

    ## Example
    ```yaml
    steps:
      # flagged: this commit exists only in a fork (GitHub serves it under actions/checkout)
      - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567 # v4.2.2
    ```

    ## How to fix
    Pin the commit of a release of the upstream repository; `bastion pin` resolves a tag
    through the upstream's own refs:

    ```yaml
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ```

    If the commit came from a pull request you trust, wait until it is merged and pin the
    merged commit.
    """

    id = "impostor-commit"
    summary = "a pinned commit that no branch of the named repository reaches (online)"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    checks_files = False
