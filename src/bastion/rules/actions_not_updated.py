from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from bastion.findings import Area, Confidence, Point, Severity, Span
from bastion.model.repository import Repository
from bastion.rules.base import RepositoryHit, Rule
from bastion.source.yaml import node_span

if TYPE_CHECKING:
    from bastion.model.updaters import Dependabot, Renovate

ACTIONS = "github-actions"


class Gap(NamedTuple):
    """Why one updater configuration leaves the workflows' actions alone, and where."""

    message: str
    span: Span
    route: str


class ActionsNotUpdated(Rule):
    """Flags updater configurations that do not cover GitHub Actions.

    The check looks at all the updater configurations of a repository together: it is
    enough that one of them covers the actions. Dependabot covers them with an `updates`
    entry whose `package-ecosystem` is `github-actions`. Renovate covers them by default,
    unless its `github-actions` manager is left out of `enabledManagers` or switched off
    (`"github-actions": {"enabled": false}`, or a package rule matching only that manager
    with `"enabled": false`), or Renovate itself is switched off (`"enabled": false`,
    `:disableRenovate`) or limited to vulnerability fixes (`security:only-security-updates`).
    The finding points at what leaves the actions out: Dependabot's `updates` key, or the
    Renovate setting responsible.

    ## Why it matters
    Actions pinned to commits (CI/CD control C2) stay on those commits until someone moves
    them; an update bot is what keeps pins from going stale and brings in security fixes of
    the actions themselves. The playbook (dependency practice D1) relies on Dependabot or
    Renovate for this, and Astral's Renovate preset pins action digests and keeps them
    updated.

    ## Example
    ```yaml
    # .github/dependabot.yml
    version: 2
    updates:                      # flagged: only npm is updated
      - package-ecosystem: npm
        directory: /
        schedule:
          interval: weekly
    ```

    ## How to fix
    ```yaml
    version: 2
    updates:
      - package-ecosystem: npm
        directory: /
        schedule:
          interval: weekly
        cooldown:
          default-days: 7
      - package-ecosystem: github-actions
        directory: /
        schedule:
          interval: weekly
        cooldown:
          default-days: 7
    ```

    With Renovate, remove whatever switches the `github-actions` manager off, or add it to
    `enabledManagers`.
    """

    id = "actions-not-updated"
    summary = "an updater configuration that does not cover GitHub Actions"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.DEPENDENCIES

    def check_repository(self, repository: Repository) -> Iterator[RepositoryHit]:
        gaps = [(config, _gap(config)) for config in repository.configs]
        if not gaps or any(gap is None for _, gap in gaps):
            return
        for config, gap in gaps:
            assert gap is not None
            yield RepositoryHit(gap.message, config.path, gap.span, gap.route)


def _gap(config: Dependabot | Renovate) -> Gap | None:
    from bastion.model.updaters import Dependabot  # loaded with the configurations

    if isinstance(config, Dependabot):
        return _dependabot_gap(config)
    return _renovate_gap(config)


def _dependabot_gap(config: Dependabot) -> Gap | None:
    if config.covers(ACTIONS):
        return None
    ecosystems = sorted({u.ecosystem for u in config.updates if u.ecosystem is not None})
    updated = f"updates {', '.join(ecosystems)} but not" if ecosystems else "does not update"
    message = (
        f"Dependabot {updated} `{ACTIONS}`: the actions the workflows use never get update "
        f"pull requests (add an `updates` entry with `package-ecosystem: {ACTIONS}`)"
    )
    if config.updates_key is not None:
        return Gap(message, node_span(config.updates_key), "updates")
    return Gap(message, _first_point(node_span(config.node).start), "")


def _renovate_gap(config: Renovate) -> Gap | None:
    suffix = "the actions the workflows use never get update pull requests"
    if config.enabled is not None and config.enabled.value is False:
        return Gap(
            f"Renovate is switched off (`enabled: false`): {suffix}",
            config.enabled.span,
            f"{config.prefix}enabled",
        )
    for preset in config.extends:
        effect = preset.effect
        if effect is None or not effect.disables:
            continue
        what = (
            "switches Renovate off"
            if effect.disables == "renovate"
            else "limits Renovate to vulnerability fixes"
        )
        return Gap(f"the preset `{preset.name}` {what}: {suffix}", preset.node.span, preset.route)
    listed = config.manager_listed(ACTIONS)
    if listed is False and config.enabled_managers is not None:
        return Gap(
            f"`enabledManagers` leaves out `{ACTIONS}`: {suffix}",
            config.enabled_managers.span,
            f"{config.prefix}enabledManagers",
        )
    switch = config.manager_switch(ACTIONS)
    if switch is not None and switch.value is False:
        return Gap(
            f"the `{ACTIONS}` manager is switched off: {suffix}",
            switch.span,
            f"{config.prefix}{ACTIONS}/enabled",
        )
    for rule in config.package_rules:
        if rule.enabled is not False or rule.managers() != (ACTIONS,):
            continue
        if rule.selects_packages or set(rule.conditions) != {"matchManagers"}:
            continue
        enabled = rule.node.get("enabled")
        span = enabled.span if enabled is not None else rule.node.span
        return Gap(
            f"a package rule switches the `{ACTIONS}` manager off: {suffix}",
            span,
            f"{rule.route}/enabled",
        )
    return None


def _first_point(point: Point) -> Span:
    return Span(point, Point(point.line, point.column + 1))
