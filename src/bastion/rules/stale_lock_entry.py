from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Confidence, Severity
from bastion.rules.base import Hit, Rule

if TYPE_CHECKING:
    from bastion.model.lockfile import Lockfile


class StaleLockEntry(Rule):
    """Flags what GitHub's lockfile still records but no workflow needs.

    In `.github/workflows/actions.lock`: a listed workflow whose file no longer exists; a pin
    listed for a workflow that no `uses:` of that workflow names any more (neither by its
    ref nor by the commit the entry records, nor through another pin of the workflow); an
    entry under `dependencies` that no workflow's pins reach.

    ## Why it matters
    A stale entry keeps a commit "approved" that nobody reviews any more, hides the real
    inventory of what the workflows run, and means the lockfile was not regenerated after
    the workflows changed: the next edit that relies on it may find it wrong. GitHub's own
    tool reports these entries too and drops them when it rewrites the file.

    ## Example
    ```yaml
    workflows:
        '.github/workflows/old.yml':          # flagged when old.yml was deleted
            - 'actions/checkout@v4'
    ```

    ## How to fix
    Run `bastion lock` (or `gh actions-lock`) on the repository: it prunes deleted workflows
    and entries nothing uses.
    """

    id = "stale-lock-entry"
    summary = "a lockfile entry or listed workflow that no workflow needs any more"
    severity = Severity.LOW
    confidence = Confidence.HIGH

    def check_lockfile(self, lockfile: Lockfile) -> Iterator[Hit]:
        from bastion.model.lockfile import orphans, stale_pins  # loaded with the lockfile

        for path, listed in lockfile.workflows.items():
            if path not in lockfile.needs:
                continue  # not read: it could not be parsed
            needed = lockfile.needs[path]
            route = f"workflows/{path}"
            if needed is None:
                yield Hit(
                    f"the lockfile lists {path}, which does not exist; run `bastion lock` to "
                    "prune it",
                    listed.node,
                    route,
                )
                continue
            for index in stale_pins(lockfile, listed, set(needed)):
                yield Hit(
                    f"{listed.pins[index]} is locked for {path}, but no `uses:` of it needs "
                    "the pin any more; run `bastion lock` to drop it",
                    listed.pin_nodes[index],
                    f"{route}/{index}",
                )
        for entry in orphans(lockfile):
            yield Hit(
                f"{entry.pin.key} is locked, but no workflow's pins reach it; run `bastion lock` "
                "to drop it",
                entry.node,
                f"dependencies/{entry.pin.key}",
            )
