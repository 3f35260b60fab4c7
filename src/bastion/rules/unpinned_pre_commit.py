from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Area, Confidence, Severity
from bastion.rules.base import Hit, Rule

if TYPE_CHECKING:
    from bastion.model.updaters import PreCommit

_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")


class UnpinnedPreCommit(Rule):
    """Flags pre-commit hook repositories whose `rev:` is not a full commit SHA.

    Every entry of `repos` in the root `.pre-commit-config.yaml` that names a repository
    must have a `rev:` of 40 hexadecimal characters. `repo: local` and `repo: meta` hold no
    outside code and are not checked.

    ## Why it matters
    pre-commit clones each hook repository at its `rev` and runs its code on every
    developer's machine and in CI, often in jobs that hold a token. A tag such as `v4.5.0`
    can be moved by whoever controls the hook's repository, exactly like an action's tag;
    the playbook pins actions to commits for this reason (CI/CD control C2), and the same
    reasoning applies to hooks (dependency practice D1).

    ## Example
    ```yaml
    repos:
      - repo: https://github.com/pre-commit/pre-commit-hooks
        rev: v4.5.0            # flagged
        hooks:
          - id: trailing-whitespace
    ```

    ## How to fix
    Run `pre-commit autoupdate --freeze`, which pins each `rev` to the commit of its tag
    and keeps the tag in a comment:

    ```yaml
    repos:
      - repo: https://github.com/pre-commit/pre-commit-hooks
        rev: 3e8a8703264a2f4a69428a0aa4dcb512790b2c8c  # frozen: v6.0.0
        hooks:
          - id: trailing-whitespace
    ```

    Renovate (with its `pre-commit` manager enabled) and pre-commit.ci keep frozen revisions
    up to date.
    """

    id = "unpinned-pre-commit"
    summary = "a pre-commit hook repository not pinned to a full commit SHA"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.DEPENDENCIES

    def check_pre_commit(self, config: PreCommit) -> Iterator[Hit]:
        for repo in config.repos:
            rev = repo.rev
            if not repo.is_remote or rev is None or _FULL_SHA.fullmatch(rev.value):
                continue
            shown = rev.value or "(empty)"
            yield Hit(
                f"`rev: {shown}` of {repo.repo} is a tag or branch that can be moved to other "
                f"code; pin the commit instead: `rev: <sha>  # frozen: {shown}` "
                "(`pre-commit autoupdate --freeze` writes it)",
                rev,
                f"{repo.route}/rev",
            )
