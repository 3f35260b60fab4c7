"""Configuration: ``[tool.bastion]`` in ``pyproject.toml`` or the whole of ``.github/bastion.toml``.

```toml
[tool.bastion]
select = ["unpinned-action", "dangerous-trigger"]   # default: every rule
ignore = ["persisted-credentials"]
min-severity = "low"
min-confidence = "medium"
exclude = ["tests/fixtures/**"]     # not collected from directories (named files still are)

[tool.bastion.per-path-ignores]
".github/workflows/legacy-*.yml" = ["excessive-permissions"]

[tool.bastion.rules.unpinned-action]
allow = ["slsa-framework/slsa-github-generator/*"]

[tool.bastion.actions."example/setup-tool"]     # the knowledge base (docs/knowledge.md)
cache = [{ input = "cache", when = "unless-off", off = ["false"] }]
```
In ``.github/bastion.toml`` the same keys stand at the top level, without ``tool.bastion``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final, TypeVar

from bastion import knowledge
from bastion.errors import UsageError
from bastion.findings import Confidence, Severity, escape_text
from bastion.rules import RULES_BY_ID
from bastion.rules.base import OptionValue
from bastion.source import files

MAX_CONFIG_BYTES = 1024 * 1024
"""A configuration file larger than this is refused (bastion's own keys fit in a few KiB)."""

Level = TypeVar("Level", Severity, Confidence)

_KEYS = {
    "select", "ignore", "min-severity", "min-confidence", "exclude", "per-path-ignores", "rules",
    "actions",
}  # fmt: skip


class Config:
    """The settings of a run (read-only once made)."""

    __slots__ = (
        "actions",
        "exclude",
        "ignore",
        "min_confidence",
        "min_severity",
        "per_path_ignores",
        "root",
        "rule_settings",
        "select",
        "source",
    )

    def __init__(
        self,
        *,
        select: frozenset[str] | None = None,
        ignore: frozenset[str] = frozenset(),
        min_severity: Severity = Severity.INFO,
        min_confidence: Confidence = Confidence.LOW,
        exclude: tuple[str, ...] = (),
        per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = (),
        rule_settings: Mapping[str, Mapping[str, OptionValue]] | None = None,
        actions: Mapping[str, object] | None = None,
        root: Path | None = None,
        source: Path | None = None,
    ) -> None:
        self.select: Final = select
        """Rule ids to run; None runs every rule."""
        self.ignore: Final = ignore
        self.min_severity: Final = min_severity
        self.min_confidence: Final = min_confidence
        self.exclude: Final = exclude
        """Patterns of paths (relative to ``root``) that directory collection skips."""
        self.per_path_ignores: Final = per_path_ignores
        self.rule_settings: Final = {} if rule_settings is None else rule_settings
        self.actions: Final = {} if actions is None else actions
        """Entries added to the knowledge base of actions (docs/knowledge.md), by name."""
        self.root: Final = Path.cwd() if root is None else root
        """Directory the per-path patterns are relative to (default: the working directory)."""
        self.source: Final = source

    def __repr__(self) -> str:
        return f"Config(source={self.source!r})"

    def overridden(
        self,
        *,
        select: frozenset[str] | None = None,
        ignore: frozenset[str] | None = None,
        min_severity: Severity | None = None,
        min_confidence: Confidence | None = None,
    ) -> Config:
        """This configuration with the given settings in place of its own (None: keep)."""
        return Config(
            select=self.select if select is None else select,
            ignore=self.ignore if ignore is None else ignore,
            min_severity=self.min_severity if min_severity is None else min_severity,
            min_confidence=self.min_confidence if min_confidence is None else min_confidence,
            exclude=self.exclude,
            per_path_ignores=self.per_path_ignores,
            rule_settings=self.rule_settings,
            actions=self.actions,
            root=self.root,
            source=self.source,
        )

    def enabled(self, rule_id: str) -> bool:
        selected = self.select is None or rule_id in self.select
        return selected and rule_id not in self.ignore

    def ignored_for_path(self, path: str) -> frozenset[str]:
        """Rules switched off for ``path`` by ``per-path-ignores``."""
        if not self.per_path_ignores:
            return frozenset()
        candidates = self._candidates(path)
        found: set[str] = set()
        for pattern, rules in self.per_path_ignores:
            if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
                found |= rules
        return frozenset(found)

    def excludes(self, path: Path) -> bool:
        """Whether directory collection skips ``path`` (``exclude`` patterns)."""
        if not self.exclude:
            return False
        candidates = self._candidates(str(path))
        return any(fnmatch.fnmatchcase(c, p) for p in self.exclude for c in candidates)

    def _candidates(self, path: str) -> set[str]:
        """``path`` as given and relative to ``root``, the forms patterns are matched against."""
        candidates = {Path(path).as_posix()}
        with contextlib.suppress(ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
            candidates.add(Path(path).resolve().relative_to(self.root.resolve()).as_posix())
        return candidates


def discover(start: Path) -> Path | None:
    """The nearest configuration file at or above ``start``, stopping at a repository root."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory.resolve(), *directory.resolve().parents):
        dedicated = candidate / ".github" / "bastion.toml"
        if dedicated.is_file():
            return dedicated
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return pyproject
        if (candidate / ".git").exists():
            return None
    return None


def _has_tool_section(pyproject: Path) -> bool:
    """Whether a pyproject.toml configures bastion; one that cannot be read is an error only
    when its text names ``tool.bastion``, so a broken file of another tool is passed over."""
    try:
        tool = _read_toml(pyproject).get("tool")
    except UsageError:
        try:
            data = files.read_file(
                pyproject, Path(os.path.realpath(pyproject)).parent, MAX_CONFIG_BYTES
            )
        except files.FileAccessError:
            return False
        mentions = b"tool.bastion" in data
        if mentions:
            raise
        return False
    return isinstance(tool, dict) and "bastion" in tool


def _read_toml(path: Path) -> dict[str, object]:
    shown = escape_text(str(path))
    try:
        # Bounded and regular files only; the file may lie anywhere (``--config FILE``).
        data = files.read_file(path, Path(os.path.realpath(path)).parent, MAX_CONFIG_BYTES)
    except files.FileAccessError as error:
        raise UsageError(f"cannot read {shown}: {error.reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise UsageError(
            f"{shown} is not UTF-8: byte 0x{data[error.start]:02x} at line {line}, byte "
            f"{column} of the line (offset {error.start}); TOML files must be UTF-8"
        ) from None
    import tomllib  # only a run with a configuration file reads TOML

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{shown} is not valid TOML: {error}") from None


def load(path: Path) -> Config:
    """Read and validate a configuration file; raise UsageError naming what is wrong."""
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("bastion", {}) if isinstance(tool, dict) else {}
        where = f"{escape_text(str(path))} [tool.bastion]"
    else:
        table = data
        where = escape_text(str(path))
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    root = path.parent.parent if path.parent.name == ".github" else path.parent
    return from_table(table, where, root=root, source=path)


def from_table(
    table: Mapping[str, object], where: str, *, root: Path, source: Path | None = None
) -> Config:
    unknown = set(table) - _KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    select = table.get("select")
    return Config(
        select=frozenset(_rule_ids(select, f"{where} select")) if select is not None else None,
        ignore=frozenset(_rule_ids(table.get("ignore", []), f"{where} ignore")),
        min_severity=_level(
            Severity.parse, table.get("min-severity", "info"), where, "min-severity"
        ),
        min_confidence=_level(
            Confidence.parse, table.get("min-confidence", "low"), where, "min-confidence"
        ),
        exclude=tuple(_strings(table.get("exclude", []), f"{where} exclude")),
        per_path_ignores=_per_path(table.get("per-path-ignores", {}), where),
        rule_settings=_rule_settings(table.get("rules", {}), where),
        actions=_actions(table.get("actions", {}), where),
        root=root,
        source=source,
    )


def _actions(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise UsageError(f"{where} actions must be a table of actions by name")
    try:
        knowledge.validate(value, where)
    except knowledge.KnowledgeError as error:
        raise UsageError(f"{error} (see docs/knowledge.md)") from None
    return value


def rule_ids(value: str, what: str) -> list[str]:
    """Comma-separated rule ids from the command line."""
    return _rule_ids([part.strip() for part in value.split(",") if part.strip()], what)


def _rule_ids(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{what} must be a list of rule ids")
    unknown = [v for v in value if v not in RULES_BY_ID]
    if unknown:
        raise UsageError(
            f"{what}: unknown rule {', '.join(unknown)} (run `bastion rules` for the list)"
        )
    return list(value)


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{what} must be a list of strings")
    return list(value)


def _level(parse: Callable[[str], Level], value: object, where: str, key: str) -> Level:
    if not isinstance(value, str):
        raise UsageError(f"{where} {key} must be a string")
    try:
        return parse(value)
    except ValueError as error:
        raise UsageError(f"{where} {key}: {error}") from None


def _per_path(value: object, where: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise UsageError(f"{where} per-path-ignores must be a table of pattern = [rule ids]")
    return tuple(
        (pattern, frozenset(_rule_ids(rules, f"{where} per-path-ignores {pattern!r}")))
        for pattern, rules in value.items()
    )


def _rule_settings(value: object, where: str) -> dict[str, dict[str, OptionValue]]:
    if not isinstance(value, dict):
        raise UsageError(f"{where} rules must be a table of rule tables")
    settings: dict[str, dict[str, OptionValue]] = {}
    for rule_id, options in value.items():
        rule = RULES_BY_ID.get(rule_id)
        if rule is None:
            raise UsageError(f"{where} rules: unknown rule {rule_id!r}")
        if not isinstance(options, dict):
            raise UsageError(f"{where} rules.{rule_id} must be a table")
        known = {option.name: option for option in rule.options}
        parsed: dict[str, OptionValue] = {}
        for name, raw in options.items():
            option = known.get(name)
            if option is None:
                names = ", ".join(known) or "none"
                raise UsageError(
                    f"{where} rules.{rule_id}: unknown option {name!r} (options: {names})"
                )
            parsed[name] = _coerce(raw, option.default, f"{where} rules.{rule_id}.{name}")
        settings[rule_id] = parsed
    return settings


def _coerce(raw: object, default: OptionValue, what: str) -> OptionValue:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        raise UsageError(f"{what} must be true or false")
    if isinstance(default, int):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise UsageError(f"{what} must be a whole number")
    if isinstance(default, tuple):
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        raise UsageError(f"{what} must be a list of strings")
    if isinstance(raw, str):
        return raw
    raise UsageError(f"{what} must be a string")
