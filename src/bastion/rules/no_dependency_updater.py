from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Area, Confidence, Severity, Span
from bastion.model.repository import Repository
from bastion.rules.base import RepositoryHit, Rule

LOOKED_FOR = (
    ".github/dependabot.yml|yaml, renovate.json(5), .github/renovate.json(5), "
    ".gitlab/renovate.json(5), .renovaterc(.json|.json5), and a `renovate` key in package.json"
)
"""The places named in the message; a test checks it against the paths collection reads."""


class NoDependencyUpdater(Rule):
    """Flags a repository that has workflows but neither Dependabot nor Renovate configured.

    The check runs once for each directory bastion walks as a repository (`bastion check .`).
    It looks for `.github/dependabot.yml` (or `.yaml`), for every file Renovate reads
    (`renovate.json`, `renovate.json5`, `.github/renovate.json(5)`,
    `.gitlab/renovate.json(5)`, `.renovaterc`, `.renovaterc.json`, `.renovaterc.json5`) and
    for a `renovate` key in the root `package.json`. When the repository has workflows but
    none of these, the finding points at line 1 of its first workflow. Files named one by
    one on the command line are not a repository, so they never raise it.

    Confidence is medium: Renovate can also be configured outside the repository (an
    organisation-wide configuration of a self-hosted Renovate, with onboarding turned off),
    which no file in the repository shows.

    ## Why it matters
    Pinning every action and tool to a commit (CI/CD control C2) freezes them: without a bot
    that proposes updates, pins grow old, miss security fixes, and get replaced by hand in a
    hurry when something breaks. The playbook (dependency practice D1) uses Dependabot or
    Renovate to keep dependencies current *and* to report known vulnerabilities.

    ## Example
    ```text
    .github/workflows/ci.yml      # flagged on line 1: no updater configuration
    ```

    ## How to fix
    Add a Dependabot configuration that covers at least the workflows, with a cooldown:

    ```yaml
    # .github/dependabot.yml
    version: 2
    updates:
      - package-ecosystem: github-actions
        directory: /
        schedule:
          interval: weekly
        cooldown:
          default-days: 7
    ```

    or a Renovate configuration (`renovate.json`) with `"minimumReleaseAge": "7 days"`.
    """

    id = "no-dependency-updater"
    summary = "workflows but no Dependabot or Renovate configuration"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    area = Area.DEPENDENCIES

    def check_repository(self, repository: Repository) -> Iterator[RepositoryHit]:
        if not repository.workflows or repository.updaters:
            return
        count = len(repository.workflows)
        workflows = f"{count} workflow{'s' if count != 1 else ''}"
        yield RepositoryHit(
            f"the repository has {workflows} but no Dependabot or Renovate "
            f"configuration: nothing proposes updates for pinned actions and dependencies "
            f"(looked for {LOOKED_FOR})",
            repository.workflows[0],
            Span.at(1, 1),
        )
