from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Area, Confidence, Point, Severity, Span
from bastion.model.workflow import Fields
from bastion.rules.base import Hit, Option, Rule
from bastion.source.yaml import MappingNode, Node, ScalarNode, node_span

if TYPE_CHECKING:  # the updater models load with the configurations they read
    from bastion.model.updaters import (
        Dependabot,
        DependabotCooldown,
        DependabotUpdate,
        PackageRule,
        Renovate,
    )
    from bastion.source.json5 import JsonObject

NO_AGE_UPDATE_TYPES = frozenset({"lockFileMaintenance", "replacement", "pin", "pinDigest"})
"""Update types Renovate cannot hold back by release age (its own presets exempt them)."""


class UpdaterCooldown(Rule):
    """Flags dependency updates that are proposed before they are `days` old.

    - **Dependabot**: every `updates` entry needs a `cooldown` whose shortest wait is at
      least `days`. A `semver-major-days`, `semver-minor-days` or `semver-patch-days` key
      sets the wait of its update type, and `default-days` sets the wait of every other
      update (and of ecosystems whose versions are not semver); a type with neither waits
      0 days. `exclude: ["*"]` switches the cooldown off; an `include` list that does not
      hold `*` limits it to the dependencies it names (reported with medium confidence).
    - **Renovate**: `minimumReleaseAge` (or the older `stabilityDays`) must be at least
      `days` for every package, whether set at the top level or by a package rule with no
      conditions. A package rule that lowers it for a whole manager, datasource or update
      type is flagged; one that exempts particular packages (`matchPackageNames` and the
      like) is the playbook's per-group practice and is not. Presets built into Renovate
      are interpreted where their effect is known (`config:best-practices` brings
      `security:minimumReleaseAgeNpm`: 3 days, npm packages only). A preset fetched from
      elsewhere (`github>org/repo`, `local>...`, an npm package) cannot be read offline:
      when no cooldown is set in the file itself, the result is reported as unknown with
      low confidence, naming the preset, rather than passing silently.

    ## Why it matters
    Malicious releases (a hijacked maintainer account, a compromised publishing workflow)
    are usually found and pulled within hours or days. A cooldown keeps update bots from
    proposing a version until it has been public that long, so most such releases never
    reach the repository. The playbook (dependency practice D2) uses cooldowns in both
    Dependabot and Renovate; Astral's Renovate preset sets `minimumReleaseAge: '7 days'`
    and exempts only its own first-party packages.

    ## Example
    ```yaml
    # .github/dependabot.yml
    updates:
      - package-ecosystem: npm       # flagged: no cooldown
        directory: /
        schedule:
          interval: daily
    ```

    ```json
    { "extends": ["config:recommended"], "minimumReleaseAge": "1 day" }
    ```
    (flagged: one day is shorter than 7)

    ## How to fix
    ```yaml
    updates:
      - package-ecosystem: npm
        directory: /
        schedule:
          interval: daily
        cooldown:
          default-days: 7
    ```

    ```json
    { "extends": ["config:recommended"], "minimumReleaseAge": "7 days" }
    ```

    Security updates are not held back by either cooldown. To let your own packages through
    at once, exempt them by name (`cooldown.exclude` in Dependabot, a package rule with
    `matchPackageNames` and `"minimumReleaseAge": null` in Renovate).
    """

    id = "updater-cooldown"
    summary = "Dependabot or Renovate without a cooldown of at least N days"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.DEPENDENCIES
    options = (Option("days", 7, "the shortest cooldown, in days, that an update must wait"),)

    # ------------------------------------------------------------ Dependabot

    def check_dependabot(self, config: Dependabot) -> Iterator[Hit]:
        need = self.setting_int("days")
        for update in config.updates:
            cooldown = update.cooldown
            if cooldown is None:
                yield Hit(
                    f"Dependabot proposes {update.label} updates the day they are released: "
                    f"the entry has no `cooldown` (add `cooldown: {{default-days: {need}}}`)",
                    update.node,
                    update.route,
                    span=entry_head(update.node),
                )
                continue
            yield from self._check_dependabot_cooldown(update, cooldown, need)

    def _check_dependabot_cooldown(
        self, update: DependabotUpdate, cooldown: DependabotCooldown, need: int
    ) -> Iterator[Hit]:
        days, setting = cooldown.shortest
        if days < need:
            if setting is not None:
                yield Hit(
                    f"`{setting.key}: {setting.value}`: {update.label} updates are proposed "
                    f"{_age(days)}; the cooldown should be at least {_days(need)}",
                    setting.node,
                    f"{cooldown.route}/{setting.key}",
                )
            elif not cooldown.days:
                yield Hit(
                    f"the cooldown of {update.label} sets no days, so updates wait 0 days "
                    f"(add `default-days: {need}`)",
                    cooldown.key,
                    cooldown.route,
                )
            else:
                uncovered = [
                    kind
                    for kind in ("major", "minor", "patch")
                    if f"semver-{kind}-days" not in cooldown.days
                ]
                which = f"{'/'.join(uncovered)} updates, " if uncovered else ""
                yield Hit(
                    f"the cooldown of {update.label} sets no `default-days`, so {which}updates "
                    "of versions that are not semver, and every update of an ecosystem without "
                    f"semver support, wait 0 days (add `default-days: {need}`)",
                    cooldown.key,
                    cooldown.route,
                    confidence=Confidence.MEDIUM,
                )
        if not isinstance(cooldown.node, MappingNode):
            return
        fields = Fields(cooldown.node)
        if "*" in cooldown.exclude:
            yield Hit(
                f"`exclude: ['*']` switches the cooldown of {update.label} off for every "
                "dependency",
                _value_node(fields, "exclude", cooldown.node),
                f"{cooldown.route}/exclude",
            )
        elif cooldown.include and "*" not in cooldown.include:
            yield Hit(
                f"the cooldown of {update.label} applies only to {_listed(cooldown.include)} "
                "in `include`; every other dependency is proposed the day it is released",
                _value_node(fields, "include", cooldown.node),
                f"{cooldown.route}/include",
                confidence=Confidence.MEDIUM,
            )

    # ------------------------------------------------------------ Renovate

    def check_renovate(self, config: Renovate) -> Iterator[Hit]:
        root = config.root
        if root is None or _switched_off(config):
            return
        need = self.setting_int("days")
        age = config.minimum_release_age
        blanket = _blanket_rule(config)
        if age is not None:
            if age.days < need:
                yield Hit(
                    f"`{age.key}: {age.written}` lets Renovate propose updates "
                    f"{_age(age.days)}; the cooldown should be at least {_days(need)}",
                    age.node,
                    age.route,
                )
        elif blanket is None:
            yield from self._missing_renovate_age(config, root, need)
        for rule in config.package_rules:
            yield from self._check_package_rule(rule, need)

    def _missing_renovate_age(self, config: Renovate, root: JsonObject, need: int) -> Iterator[Hit]:
        external = [preset for preset in config.extends if not preset.builtin]
        if external:
            names = ", ".join(f"`{preset.name}`" for preset in external)
            several = len(external) > 1
            yield Hit(
                f"the cooldown could not be verified: this file sets no `minimumReleaseAge`, "
                f"and the preset{'s' if several else ''} {names}, which bastion cannot read "
                f"offline, may or may not set one of at least {_days(need)}",
                external[0].node,
                external[0].route,
                confidence=Confidence.LOW,
            )
            return
        partial: list[str] = []
        for preset in config.extends:
            effect = preset.effect
            if effect is None or not effect.release_ages:
                continue
            ages = ", ".join(f"{_days(days)} for {source}" for source, days in effect.release_ages)
            via = f" (through `{effect.through}`)" if effect.through else ""
            partial.append(f"`{preset.name}` sets {ages} only{via}")
        lines = [
            str(rule.minimum_release_age.node.span.start.line)
            for rule in config.package_rules
            if rule.minimum_release_age is not None and rule.minimum_release_age.days >= need
        ]
        if lines:
            partial.append(f"packageRules set one for some packages only (line {', '.join(lines)})")
        detail = f"; {'; '.join(partial)}" if partial else ""
        start = root.span.start
        yield Hit(
            "Renovate proposes updates the day they are released: no `minimumReleaseAge` "
            f"applies to every package{detail} "
            f'(add `"minimumReleaseAge": "{need} days"`)',
            root,
            config.prefix.rstrip("/"),
            span=Span(start, Point(start.line, start.column + 1)),
        )

    def _check_package_rule(self, rule: PackageRule, need: int) -> Iterator[Hit]:
        from bastion.model.updaters import string_items

        age = rule.minimum_release_age
        if age is None or age.days >= need or rule.enabled is False or rule.selects_packages:
            return
        update_types = rule.conditions.get("matchUpdateTypes")
        if update_types is not None and set(string_items(update_types)) <= NO_AGE_UPDATE_TYPES:
            return
        scope = _rule_scope(rule)
        yield Hit(
            f"a package rule lowers `{age.key}` to {age.written} for {scope}; "
            f"the cooldown should be at least {_days(need)} (exempt your own packages by name "
            "instead)",
            age.node,
            age.route,
        )


def entry_head(node: MappingNode) -> Span:
    """The first line of a mapping entry: its first key, and its value when that is a scalar."""
    if not node.value:
        return node_span(node)
    key, value = node.value[0]
    last = value if isinstance(value, ScalarNode) else key
    return Span(node_span(key).start, node_span(last).end)


def _value_node(fields: Fields, name: str, fallback: Node) -> Node:
    found = fields.get(name)
    return found if found is not None else fallback


def _switched_off(config: Renovate) -> bool:
    if config.enabled is not None and config.enabled.value is False:
        return True
    return any(
        preset.effect is not None and preset.effect.disables == "renovate"
        for preset in config.extends
    )


def _blanket_rule(config: Renovate) -> PackageRule | None:
    """The last package rule that sets a release age for every package, if any."""
    found = None
    for rule in config.package_rules:
        if rule.minimum_release_age is None or rule.enabled is False:
            continue
        if all(key == "matchPackageNames" and not rule.selects_packages for key in rule.conditions):
            found = rule
    return found


def _rule_scope(rule: PackageRule) -> str:
    from bastion.model.updaters import string_items

    parts = [
        f"{key} {', '.join(string_items(value)) or '(any)'}"
        for key, value in rule.conditions.items()
        if key not in ("matchPackageNames", "matchPackagePatterns")
    ]
    return f"every update matching {'; '.join(parts)}" if parts else "every package"


def _listed(names: tuple[str, ...]) -> str:
    return f"`{names[0]}`" if len(names) == 1 else f"the {len(names)} dependencies listed"


def _days(days: float) -> str:
    shown = f"{days:g}"
    return f"{shown} day" if days == 1 else f"{shown} days"


def _age(days: float) -> str:
    if days <= 0:
        return "the day they are released"
    if days < 1:
        return f"after {days * 24:g} hours"
    return f"after {_days(days)}"
