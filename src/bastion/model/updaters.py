"""Typed, span-carrying views of dependency-updater and pre-commit configurations.

- :class:`Dependabot` reads ``.github/dependabot.yml``: its ``updates`` entries are
  :class:`DependabotUpdate` views with routes ``updates/N``, each with its ``cooldown``.
- :class:`Renovate` reads a Renovate configuration (any of its file names, or the
  ``renovate`` key of ``package.json``): presets, ``minimumReleaseAge``, ``packageRules``
  and the switches that turn managers off.
- :class:`PreCommit` reads ``.pre-commit-config.yaml``: its ``repos`` with their ``rev``.

As with workflows, building a view also checks the structure the tool itself insists on;
whatever it would refuse is recorded in ``problems`` (reported as ``syntax-error``) while
every part that can still be read is read. YAML views keep their PyYAML nodes (with marks,
so a fix can edit the text in place); the Renovate view keeps JSON5 nodes with spans.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from bastion.findings import Span
from bastion.model.workflow import Fields
from bastion.source.json5 import JsonArray, JsonNode, JsonObject, JsonScalar
from bastion.source.yaml import (
    Document,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    node_span,
    scalar_value,
)

__all__ = [
    "DEPENDABOT_KEYS",
    "ConfigProblem",
    "Days",
    "Dependabot",
    "DependabotCooldown",
    "DependabotUpdate",
    "PackageRule",
    "PreCommit",
    "PreCommitRepo",
    "Preset",
    "PresetEffect",
    "ReleaseAge",
    "Renovate",
    "build_dependabot",
    "build_pre_commit",
    "build_renovate",
    "duration_days",
    "string_items",
]


class ConfigProblem(NamedTuple):
    """Something the updater or pre-commit would refuse; reported as ``syntax-error``."""

    message: str
    span: Span
    route: str = ""


# ---------------------------------------------------------------- Dependabot

DEPENDABOT_KEYS = frozenset(
    {"version", "updates", "registries", "enable-beta-ecosystems", "multi-ecosystem-groups"}
)
COOLDOWN_DAY_KEYS = ("default-days", "semver-major-days", "semver-minor-days", "semver-patch-days")
COOLDOWN_KEYS = frozenset({*COOLDOWN_DAY_KEYS, "include", "exclude"})


class Days(NamedTuple):
    """One ``*-days`` setting of a cooldown."""

    key: str
    value: int
    node: ScalarNode


class DependabotCooldown(NamedTuple):
    """The ``cooldown`` mapping of an ``updates`` entry (route ``updates/N/cooldown``)."""

    route: str
    key: ScalarNode
    node: Node
    days: dict[str, Days]
    """The day settings that are present, by key (``default-days``, ``semver-major-days``...)."""
    include: tuple[str, ...]
    exclude: tuple[str, ...]

    def days_for(self, update_type: str) -> int:
        """Days an update of a type waits (``major``, ``minor``, ``patch``, or ``other`` for
        versions that are not semver): its own key, else ``default-days``, else 0."""
        own = self.days.get(f"semver-{update_type}-days") or self.days.get("default-days")
        return own.value if own is not None else 0

    @property
    def shortest(self) -> tuple[int, Days | None]:
        """The shortest wait any update gets, and the setting responsible (None: a type has
        no setting at all, so it waits 0 days)."""
        default = self.days.get("default-days")
        found: tuple[int, Days | None] = (default.value, default) if default else (0, None)
        for update_type in ("major", "minor", "patch"):
            own = self.days.get(f"semver-{update_type}-days")
            if own is not None and own.value < found[0]:
                found = (own.value, own)
        return found


class DependabotUpdate(NamedTuple):
    """One entry of ``updates`` (route ``updates/N``).

    ``node`` is the entry's mapping: for a block mapping, ``node.start_mark.column`` is the
    column of its keys, where a fix inserts new keys such as ``cooldown``.
    """

    position: int
    """Its index in ``updates``."""
    route: str
    node: MappingNode
    fields: Fields
    ecosystem: str | None
    directories: tuple[str, ...]
    cooldown: DependabotCooldown | None
    insecure_code_execution: ScalarNode | None
    """The value of ``insecure-external-code-execution``, when set."""

    @property
    def label(self) -> str:
        """How a message names the entry: ``npm (/web)`` or ``entry 3``."""
        where = f" ({', '.join(self.directories)})" if self.directories else ""
        return f"{self.ecosystem}{where}" if self.ecosystem else f"entry {self.position + 1}"


class Dependabot:
    """The view of a ``dependabot.yml``, filled in by :func:`build_dependabot`."""

    __slots__ = ("document", "node", "path", "problems", "updates", "updates_key", "updates_node")

    def __init__(self, path: str, document: Document, node: Node) -> None:
        self.path = path
        self.document = document
        self.node = node
        self.updates: list[DependabotUpdate] = []
        self.updates_key: ScalarNode | None = None
        """The ``updates`` key, when the file has one."""
        self.updates_node: SequenceNode | None = None
        self.problems: list[ConfigProblem] = []

    def covers(self, ecosystem: str) -> bool:
        return any(update.ecosystem == ecosystem for update in self.updates)


def _problem(node: Node, message: str, route: str = "") -> ConfigProblem:
    return ConfigProblem(message, node_span(node), route)


def _strings(node: Node | None) -> tuple[str, ...]:
    if isinstance(node, ScalarNode):
        return (node.value,)
    if isinstance(node, SequenceNode):
        return tuple(item.value for item in node.value if isinstance(item, ScalarNode))
    return ()


def build_dependabot(path: str, document: Document) -> Dependabot:
    """The view of a ``dependabot.yml``; what Dependabot would refuse lands in ``problems``."""
    root = document.root
    config = Dependabot(path, document, root)
    if not isinstance(root, MappingNode):
        config.problems.append(
            _problem(root, "a Dependabot configuration must be a mapping (version, updates)")
        )
        return config
    fields = Fields(root)
    for entry in fields:
        if entry.key.value not in DEPENDABOT_KEYS:
            allowed = ", ".join(sorted(DEPENDABOT_KEYS))
            config.problems.append(
                _problem(
                    entry.key,
                    f"unknown Dependabot key {entry.key.value!r} (allowed: {allowed})",
                )
            )
    version = fields.scalar("version")
    if version is None:
        config.problems.append(_problem(root, "a Dependabot configuration needs `version: 2`"))
    elif str(scalar_value(version)) != "2":
        config.problems.append(
            _problem(version, f"Dependabot reads only `version: 2`, not {version.value!r}")
        )
    updates_entry = fields.entry("updates")
    if updates_entry is None:
        config.problems.append(_problem(root, "a Dependabot configuration needs `updates`"))
        return config
    config.updates_key = updates_entry.key
    updates = updates_entry.value
    if not isinstance(updates, SequenceNode):
        config.problems.append(
            _problem(updates, "`updates` must be a list of package ecosystems", "updates")
        )
        return config
    config.updates_node = updates
    for index, item in enumerate(updates.value):
        route = f"updates/{index}"
        if not isinstance(item, MappingNode):
            config.problems.append(
                _problem(item, f"updates entry {index + 1} must be a mapping", route)
            )
            continue
        config.updates.append(_build_update(config, index, route, item))
    return config


def _build_update(
    config: Dependabot, index: int, route: str, node: MappingNode
) -> DependabotUpdate:
    fields = Fields(node)
    ecosystem_node = fields.get("package-ecosystem")
    ecosystem = None
    if isinstance(ecosystem_node, ScalarNode) and ecosystem_node.value:
        ecosystem = ecosystem_node.value
    else:
        config.problems.append(
            _problem(
                ecosystem_node or node,
                f"updates entry {index + 1} needs a `package-ecosystem`",
                route,
            )
        )
    directories = _strings(fields.get("directory")) + _strings(fields.get("directories"))
    cooldown = None
    cooldown_entry = fields.entry("cooldown")
    if cooldown_entry is not None:
        cooldown = _build_cooldown(
            config, f"{route}/cooldown", cooldown_entry.key, cooldown_entry.value
        )
    insecure = fields.scalar("insecure-external-code-execution")
    if insecure is not None and insecure.value not in ("allow", "deny"):
        config.problems.append(
            _problem(
                insecure,
                "`insecure-external-code-execution` is either `allow` or `deny`, "
                f"not {insecure.value!r}",
                f"{route}/insecure-external-code-execution",
            )
        )
    return DependabotUpdate(index, route, node, fields, ecosystem, directories, cooldown, insecure)


def _build_cooldown(
    config: Dependabot, route: str, key: ScalarNode, node: Node
) -> DependabotCooldown:
    days: dict[str, Days] = {}
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    if not isinstance(node, MappingNode):
        if not (isinstance(node, ScalarNode) and scalar_value(node) is None):
            config.problems.append(_problem(node, "`cooldown` must be a mapping", route))
        return DependabotCooldown(route, key, node, days, include, exclude)
    fields = Fields(node)
    for entry in fields:
        name = entry.key.value
        if name not in COOLDOWN_KEYS:
            allowed = ", ".join(sorted(COOLDOWN_KEYS))
            config.problems.append(
                _problem(entry.key, f"unknown cooldown key {name!r} (allowed: {allowed})", route)
            )
        elif name in COOLDOWN_DAY_KEYS:
            value = scalar_value(entry.value) if isinstance(entry.value, ScalarNode) else None
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                assert isinstance(entry.value, ScalarNode)
                days[name] = Days(name, value, entry.value)
            else:
                config.problems.append(
                    _problem(entry.value, f"`{name}` must be a number of days", f"{route}/{name}")
                )
    include = _strings(fields.get("include"))
    exclude = _strings(fields.get("exclude"))
    return DependabotCooldown(route, key, node, days, include, exclude)


# ---------------------------------------------------------------- Renovate


_DURATION_PART = re.compile(r"\s*(-?\d*\.?\d+)\s*([a-zA-Z]*)\s*,?")
_UNIT_DAYS = {
    **dict.fromkeys(("milliseconds", "millisecond", "msecs", "msec", "ms", ""), 1 / 86_400_000),
    **dict.fromkeys(("seconds", "second", "secs", "sec", "s"), 1 / 86_400),
    **dict.fromkeys(("minutes", "minute", "mins", "min", "m"), 1 / 1440),
    **dict.fromkeys(("hours", "hour", "hrs", "hr", "h"), 1 / 24),
    **dict.fromkeys(("days", "day", "d"), 1.0),
    **dict.fromkeys(("weeks", "week", "w"), 7.0),
    **dict.fromkeys(("months", "month"), 30.0),
    **dict.fromkeys(("years", "year", "yrs", "yr", "y"), 365.25),
}


def duration_days(text: str) -> float | None:
    """Days in a Renovate duration (``"3 days"``, ``"1 week"``, ``"2 weeks 3 days"``,
    ``"72h"``, ``"1 month"`` = 30 days); None when Renovate would not understand it."""
    position = 0
    total = 0.0
    text = text.strip()
    if not text:
        return None
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if not match or match.end() == position:
            return None
        number, unit = match.groups()
        if unit == "M":
            scale = 30.0
        else:
            found = _UNIT_DAYS.get(unit.lower())
            if found is None:
                return None
            scale = found
        total += float(number) * scale
        position = match.end()
    return total


class ReleaseAge(NamedTuple):
    """A ``minimumReleaseAge`` (or the older ``stabilityDays``) as written."""

    key: str
    node: JsonScalar
    route: str
    days: float
    """0 for ``null`` or a zero duration: no cooldown."""

    @property
    def written(self) -> str:
        value = self.node.value
        if value is None:
            return "null"
        return f'"{value}"' if isinstance(value, str) else str(value)


BUILTIN_PRESET_NAMESPACES = frozenset(
    {
        "abandonments", "compatibility", "config", "customManagers", "default", "docker",
        "global", "group", "helpers", "mergeConfidence", "monorepo", "npm", "packages",
        "preview", "regexManagers", "replacements", "schedule", "security", "workarounds",
    }
)  # fmt: skip
"""The namespaces of the presets built into Renovate (``:name`` is the ``default`` one)."""


class Preset(NamedTuple):
    """One name in ``extends``: built into Renovate, or fetched from elsewhere."""

    name: str
    node: JsonScalar
    route: str

    @property
    def builtin(self) -> bool:
        """Presets Renovate ships (``config:recommended``, ``:semanticCommits``, ``group:x``).

        Everything else is fetched when Renovate runs: ``github>``, ``gitlab>``, ``local>``
        and other host prefixes, URLs, and npm packages (``name``, ``name:preset``,
        ``@scope/name``).
        """
        name = self.base
        if ">" in name or "/" in name:
            return False
        namespace, colon, _ = name.partition(":")
        return bool(colon) and (namespace == "" or namespace in BUILTIN_PRESET_NAMESPACES)

    @property
    def base(self) -> str:
        """The name without arguments: ``:label(deps)`` gives ``:label``."""
        return self.name.split("(", 1)[0]

    @property
    def effect(self) -> PresetEffect | None:
        """What a known built-in preset changes; None for the others."""
        return BUILTIN_PRESET_EFFECTS.get(self.base)


class PresetEffect(NamedTuple):
    """What a built-in preset does to the settings bastion's rules read."""

    release_ages: tuple[tuple[str, float], ...] = ()
    """``(datasource, days)``: a ``minimumReleaseAge`` the preset sets for one datasource."""
    through: str = ""
    """The preset that brings the effect, when it comes through ``extends``."""
    disables: str = ""
    """What the preset turns off: ``"renovate"`` (everything) or ``"version-updates"``
    (every update that does not fix a vulnerability)."""


_NPM_THREE_DAYS = (("npm", 3.0),)
BUILTIN_PRESET_EFFECTS: dict[str, PresetEffect] = {
    "security:minimumReleaseAgeNpm": PresetEffect(_NPM_THREE_DAYS),
    "security:minimum-release-age-npm": PresetEffect(_NPM_THREE_DAYS),
    "npm:unpublishSafe": PresetEffect(_NPM_THREE_DAYS),
    ":unpublishSafe": PresetEffect(_NPM_THREE_DAYS),
    "security:minimumReleaseAgeCrates": PresetEffect((("crate", 3.0),)),
    "config:best-practices": PresetEffect(_NPM_THREE_DAYS, through="security:minimumReleaseAgeNpm"),
    ":disableRenovate": PresetEffect(disables="renovate"),
    "security:only-security-updates": PresetEffect(disables="version-updates"),
}
"""The built-in presets known to change a cooldown or switch updates off, as defined in
Renovate's ``lib/config/presets/internal``. Every other built-in preset is assumed to do
neither (docs/dependency-rules.md lists what was checked)."""


LEGACY_CONDITIONS = {
    "packageNames": "matchPackageNames",
    "packagePatterns": "matchPackagePatterns",
    "packagePrefixes": "matchPackagePrefixes",
    "excludePackageNames": "excludePackageNames",
    "excludePackagePatterns": "excludePackagePatterns",
    "depTypeList": "matchDepTypes",
    "paths": "matchPaths",
    "languages": "matchLanguages",
    "managers": "matchManagers",
    "datasources": "matchDatasources",
    "updateTypes": "matchUpdateTypes",
    "baseBranchList": "matchBaseBranches",
    "sourceUrlPrefixes": "matchSourceUrlPrefixes",
}
"""Package-rule conditions of older Renovate versions, which it still migrates, by the name
they have now."""
ALL_PACKAGES = frozenset({"*", "**", "/.*/", ".*", "/.+/", ".+"})
"""Package name patterns that match every package."""

MATCHERS_ALL_PACKAGES = frozenset(
    {"matchUpdateTypes", "matchManagers", "matchDatasources", "matchDepTypes", "matchCategories"}
)
"""Package-rule conditions that select kinds of updates rather than particular packages."""


class PackageRule(NamedTuple):
    position: int
    """Its index in ``packageRules``."""
    route: str
    node: JsonObject
    minimum_release_age: ReleaseAge | None
    enabled: bool | None
    conditions: dict[str, JsonNode]
    """The ``match*`` and ``exclude*`` keys of the rule (older names such as
    ``packagePatterns`` under their current ones)."""

    @property
    def selects_packages(self) -> bool:
        """Whether the rule is limited to particular packages (names, sources, files...),
        rather than to every package of some managers, datasources or update types."""
        for key, value in self.conditions.items():
            if key in MATCHERS_ALL_PACKAGES:
                continue
            if (
                key in ("matchPackageNames", "matchPackagePatterns")
                and set(string_items(value)) <= ALL_PACKAGES
            ):
                continue
            return True
        return False

    def managers(self) -> tuple[str, ...] | None:
        value = self.conditions.get("matchManagers")
        return string_items(value) if value is not None else None


def string_items(node: JsonNode | None) -> tuple[str, ...]:
    """The strings of a JSON string or array of strings (other items are skipped)."""
    if isinstance(node, JsonScalar) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, JsonArray):
        return tuple(
            item.value
            for item in node.items
            if isinstance(item, JsonScalar) and isinstance(item.value, str)
        )
    return ()


class Renovate:
    """The view of a Renovate configuration, filled in by :func:`build_renovate`."""

    __slots__ = (
        "enabled", "enabled_managers", "extends", "minimum_release_age", "node",
        "package_rules", "path", "prefix", "problems",
    )  # fmt: skip

    def __init__(self, path: str, node: JsonNode, prefix: str = "") -> None:
        self.path = path
        self.node = node
        """The configuration object (inside ``package.json``, the value of its ``renovate``
        key)."""
        self.prefix = prefix
        """Route prefix: ``renovate/`` inside package.json, else empty."""
        self.extends: list[Preset] = []
        self.minimum_release_age: ReleaseAge | None = None
        self.package_rules: list[PackageRule] = []
        self.enabled: JsonScalar | None = None
        """The top-level ``enabled`` switch, when set."""
        self.enabled_managers: JsonNode | None = None
        self.problems: list[ConfigProblem] = []

    @property
    def root(self) -> JsonObject | None:
        return self.node if isinstance(self.node, JsonObject) else None

    def manager_switch(self, manager: str) -> JsonScalar | None:
        """The ``enabled`` value of a manager's own object (``"github-actions": {...}``)."""
        root = self.root
        own = root.get(manager) if root is not None else None
        if isinstance(own, JsonObject):
            switch = own.get("enabled")
            if isinstance(switch, JsonScalar):
                return switch
        return None

    def manager_listed(self, manager: str) -> bool | None:
        """Whether ``enabledManagers`` lists ``manager``; None when it is not set."""
        if self.enabled_managers is None:
            return None
        return manager in string_items(self.enabled_managers)


def build_renovate(path: str, node: JsonNode, prefix: str = "") -> Renovate:
    """The view of a Renovate configuration object; ``prefix`` starts every route."""
    config = Renovate(path, node, prefix)
    if not isinstance(node, JsonObject):
        config.problems.append(
            ConfigProblem("a Renovate configuration must be a JSON object", node.span, prefix)
        )
        return config
    extends = node.get("extends")
    if isinstance(extends, JsonScalar) and isinstance(extends.value, str):
        config.extends.append(Preset(extends.value, extends, f"{prefix}extends"))
    elif isinstance(extends, JsonArray):
        for index, item in enumerate(extends.items):
            if isinstance(item, JsonScalar) and isinstance(item.value, str):
                config.extends.append(Preset(item.value, item, f"{prefix}extends/{index}"))
            else:
                config.problems.append(
                    ConfigProblem(
                        "each `extends` entry must be a preset name (a string)",
                        item.span,
                        f"{prefix}extends/{index}",
                    )
                )
    elif extends is not None:
        config.problems.append(
            ConfigProblem("`extends` must be a list of preset names", extends.span, prefix)
        )
    config.minimum_release_age = _release_age(config, node, prefix)
    rules = node.get("packageRules")
    if isinstance(rules, JsonArray):
        for index, item in enumerate(rules.items):
            route = f"{prefix}packageRules/{index}"
            if not isinstance(item, JsonObject):
                config.problems.append(
                    ConfigProblem("each `packageRules` entry must be an object", item.span, route)
                )
                continue
            age = _release_age(config, item, f"{route}/")
            enabled = item.get("enabled")
            conditions = {
                LEGACY_CONDITIONS.get(member.key, member.key): member.value
                for member in item.effective_members()
                if member.key.startswith(("match", "exclude")) or member.key in LEGACY_CONDITIONS
            }
            switch = enabled.value if isinstance(enabled, JsonScalar) else None
            config.package_rules.append(
                PackageRule(
                    index,
                    route,
                    item,
                    age,
                    switch if isinstance(switch, bool) else None,
                    conditions,
                )
            )
    elif rules is not None:
        config.problems.append(
            ConfigProblem("`packageRules` must be a list of objects", rules.span, prefix)
        )
    enabled = node.get("enabled")
    if isinstance(enabled, JsonScalar):
        config.enabled = enabled
    config.enabled_managers = node.get("enabledManagers")
    return config


def _release_age(config: Renovate, node: JsonObject, prefix: str) -> ReleaseAge | None:
    found: ReleaseAge | None = None
    for member in node.effective_members():
        if member.key not in ("minimumReleaseAge", "stabilityDays"):
            continue
        value = member.value
        route = f"{prefix}{member.key}"
        days: float | None = None
        if isinstance(value, JsonScalar):
            if value.value is None:
                days = 0.0
            elif member.key == "minimumReleaseAge" and isinstance(value.value, str):
                days = duration_days(value.value)
            elif (
                member.key == "stabilityDays"
                and isinstance(value.value, int | float)
                and not isinstance(value.value, bool)
                and math.isfinite(value.value)
            ):
                days = float(value.value)
        if days is None or not isinstance(value, JsonScalar):
            expected = (
                'a duration such as "7 days"' if member.key == "minimumReleaseAge" else "a number"
            )
            config.problems.append(
                ConfigProblem(f"`{member.key}` must be {expected}", value.span, route)
            )
            continue
        # minimumReleaseAge wins over the stabilityDays it replaced.
        if found is None or member.key == "minimumReleaseAge":
            found = ReleaseAge(member.key, value, route, days)
    return found


# ---------------------------------------------------------------- pre-commit

PRE_COMMIT_LOCAL_REPOS = frozenset({"local", "meta"})


class PreCommitRepo(NamedTuple):
    """One entry of ``repos`` (route ``repos/N``)."""

    position: int
    """Its index in ``repos``."""
    route: str
    node: MappingNode
    repo: str | None
    rev: ScalarNode | None

    @property
    def is_remote(self) -> bool:
        return self.repo is not None and self.repo not in PRE_COMMIT_LOCAL_REPOS


class PreCommit:
    """The view of a ``.pre-commit-config.yaml``, filled in by :func:`build_pre_commit`."""

    __slots__ = ("document", "node", "path", "problems", "repos")

    def __init__(self, path: str, document: Document, node: Node) -> None:
        self.path = path
        self.document = document
        self.node = node
        self.repos: list[PreCommitRepo] = []
        self.problems: list[ConfigProblem] = []


def build_pre_commit(path: str, document: Document) -> PreCommit:
    """The view of a ``.pre-commit-config.yaml``."""
    root = document.root
    config = PreCommit(path, document, root)
    if not isinstance(root, MappingNode):
        config.problems.append(
            _problem(root, "a pre-commit configuration must be a mapping with `repos`")
        )
        return config
    repos = Fields(root).get("repos")
    if repos is None:
        config.problems.append(_problem(root, "a pre-commit configuration needs `repos`"))
        return config
    if not isinstance(repos, SequenceNode):
        config.problems.append(_problem(repos, "`repos` must be a list", "repos"))
        return config
    for index, item in enumerate(repos.value):
        route = f"repos/{index}"
        if not isinstance(item, MappingNode):
            config.problems.append(_problem(item, f"repos entry {index + 1} must be a mapping"))
            continue
        fields = Fields(item)
        repo = fields.text("repo")
        rev = fields.scalar("rev")
        if repo is None:
            config.problems.append(_problem(item, f"repos entry {index + 1} needs a `repo`", route))
        elif repo not in PRE_COMMIT_LOCAL_REPOS and rev is None:
            config.problems.append(
                _problem(item, f"repos entry {index + 1} ({repo}) needs a `rev`", route)
            )
        config.repos.append(PreCommitRepo(index, route, item, repo, rev))
    return config
