"""The schema of the knowledge base: its types, and the reader of its tables (docs/knowledge.md).

Imported on the first question a rule asks, so that start-up does not pay for it; its
records are named tuples, which cost a fraction of a dataclass to create.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from bastion.knowledge import KnowledgeError
from bastion.model.uses import Uses, UsesKind, parse_uses

_WHEN = frozenset({"always", "set", "true", "unless-off", "contains"})
_CONFIDENCES = frozenset({"high", "medium", "low"})
_CACHE_KEYS = frozenset(
    {"always", "versions", "input", "when", "off", "auto", "value", "confidence", "note",
     "skipped-on", "unless-job-uses", "only-if-job-runs"}
)  # fmt: skip
_ACTION_KEYS = frozenset(
    {"source", "cache", "code-inputs", "publishes", "publishes-when", "credential-inputs",
     "index-inputs", "default-index", "oidc", "attests", "attests-whole-repository",
     "permissions", "permissions-when", "needs-no-token", "downloads", "attacker-outputs",
     "credential-for", "pr-head-outputs"}
)  # fmt: skip
_OUTPUT_KEYS = frozenset(
    {"names", "holds", "unsafe-input", "unsafe-values", "escaped", "json-values"}
)
_RANGE = re.compile(r"(?:(>=|<)(\d+)|(\d+)-(\d+))")
_VERSION = re.compile(r"v?(\d+)(?:\.\d+)*\b")
_COMMENT_VERSION = re.compile(r"[ \t]+#[ \t]*(?:tag[:= ]\s*)?v?(\d+)(?:\.\d+)*\b")


class Versions(NamedTuple):
    """A range of major versions: ``low <= major < high``."""

    low: int = 0
    high: int | None = None

    def holds(self, major: int) -> bool:
        return self.low <= major and (self.high is None or major < self.high)


class CacheUse(NamedTuple):
    """How an action uses the Actions cache, for a range of its versions."""

    when: str
    """``always`` (its purpose), ``set`` (when the input is given), ``true`` (when the input is
    true), ``unless-off`` (by default, unless the input has an ``off`` value), ``contains``
    (when the input's value contains ``value``)."""
    input: str = ""
    versions: Versions = Versions()
    off: tuple[str, ...] = ("false", "")
    auto: tuple[str, ...] = ()
    """Values that leave the decision to the action (treated like the default)."""
    value: str = ""
    confidence: str = "high"
    """How sure a finding is when the action caches by default (or always)."""
    note: str = ""
    skipped_on: tuple[str, ...] = ()
    """Events (``tag-push`` for a push of tags) under which the default does not cache."""
    unless_job_uses: tuple[str, ...] = ()
    """Actions whose presence in the job means the default does not apply (another package
    manager than the one the default caches for)."""
    only_if_job_runs: tuple[str, ...] = ()
    """Commands (``npm ci``) one of which the job must run for the default to apply."""


class Outputs(NamedTuple):
    """Outputs of an action that carry outsider text, or name a pull request's head."""

    names: frozenset[str]
    """Output names (lower case); ``*files`` matches every name that ends in ``files``."""
    holds: str
    """What they hold, for messages."""
    unsafe_input: str = ""
    """An input under whose ``unsafe_values`` the outputs are raw text; under any other
    value the action escapes them or leaves them out."""
    unsafe_values: frozenset[str] = frozenset()
    escaped: bool = False
    """Under other values the outputs are still produced, shell-escaped (low confidence)."""
    json_values: frozenset[str] = frozenset()
    """Values of ``unsafe_input`` under which the outputs are JSON."""


_NO_NAMES: Mapping[str, str] = MappingProxyType({})


class ActionInfo(NamedTuple):
    name: str
    source: str = ""
    cache: tuple[CacheUse, ...] = ()
    code_inputs: Mapping[str, str] = _NO_NAMES
    """Inputs run as code: input (lower case) -> language, for messages."""
    publishes: str = ""
    """The registry it publishes to."""
    publishes_when: str = ""
    """``push`` (with ``push: true``), ``goreleaser`` (unless its args skip publishing)."""
    credential_inputs: tuple[str, ...] = ()
    credential_for: str = ""
    """The registry whose credential it configures for later steps (`gem push`...)."""
    index_inputs: tuple[str, ...] = ()
    """Inputs that point it at another index than the registry's own."""
    default_index: tuple[str, ...] = ()
    """Labels of the host names of the registry's own indexes: an index input whose host has
    none of them points at another index."""
    oidc: bool = False
    """It exchanges the job's OIDC token for a short-lived credential."""
    attests: bool = False
    attests_whole_repository: bool = False
    """Every path of the repository attests (reusable workflows of a generator)."""
    permissions: Mapping[str, str] = _NO_NAMES
    permissions_when: str = ""
    """Token needs that depend on inputs (documentation; fix/permissions.py has the logic)."""
    needs_no_token: bool = False
    downloads: str = ""
    attacker_outputs: Outputs | None = None
    pr_head_outputs: Outputs | None = None

    def cache_uses(self, major: int | None) -> tuple[CacheUse, ...]:
        """The cache entries of a version (every entry whose range holds it, or, for an
        unknown version, those of the newest range)."""
        if major is not None:
            return tuple(c for c in self.cache if c.versions.holds(major))
        if not self.cache:
            return ()
        newest = max(c.versions.low for c in self.cache)
        return tuple(c for c in self.cache if c.versions.holds(newest))


_HEADER = re.compile(r'^\[actions\."([^"\n]+)"\][ \t]*$', re.MULTILINE)
"""The header of an entry of ``actions.toml``: every table there is one on its own line."""


def packaged() -> dict[str, tuple[str, str]]:
    """The entries of the packaged ``actions.toml``, not yet read: canonical name -> (the
    name as written, the text of its table). Each is parsed on its first lookup."""
    text = Path(__file__).with_name("actions.toml").read_text("utf-8")
    headers = list(_HEADER.finditer(text))
    ends = [h.start() for h in headers[1:]] + [len(text)]
    return {
        canonical(header.group(1)): (header.group(1), text[header.end() : end])
        for header, end in zip(headers, ends, strict=True)
    }


def packaged_entry(name: str, body: str) -> ActionInfo:
    """One entry of ``actions.toml`` from the text of its table."""
    try:
        value = tomllib.loads(body)
    except tomllib.TOMLDecodeError as error:
        raise KnowledgeError(f"actions.toml: actions.{name!r}: {error}") from None
    return action(name, value, "actions.toml")


def major_version(uses: Uses, text: str, end: int) -> int | None:
    ref = uses.ref or ""
    match = _VERSION.fullmatch(ref)
    if match:
        return int(match.group(1))
    if uses.is_sha_pinned and 0 <= end <= len(text):
        line_end = text.find("\n", end)
        rest = text[end : line_end if line_end >= 0 else len(text)]
        found = _COMMENT_VERSION.match(rest)
        if found:
            return int(found.group(1))
    return None


def canonical(name: str) -> str:
    """The canonical name of an entry's key (``KnowledgeError`` if it names no action)."""
    uses = parse_uses(f"{name}@x")
    if uses.kind is not UsesKind.REPOSITORY or not uses.owner or not uses.repo:
        raise KnowledgeError(f"`{name}` is not an action name (owner/repo or owner/repo/path)")
    return uses.name


def action(name: str, value: object, where: str) -> ActionInfo:
    """One entry, checked against the schema."""
    what = f"{where}: actions.{name!r}"
    if not isinstance(value, dict):
        raise KnowledgeError(f"{what} must be a table")
    unknown = set(value) - _ACTION_KEYS
    if unknown:
        raise KnowledgeError(f"{what}: unknown key(s) {', '.join(sorted(unknown))}")
    caches = value.get("cache", [])
    if not isinstance(caches, list):
        raise KnowledgeError(f"{what}.cache must be a list of tables")
    code = value.get("code-inputs", {})
    if not isinstance(code, dict) or not all(isinstance(v, str) for v in code.values()):
        raise KnowledgeError(f"{what}.code-inputs must map input names to languages")
    return ActionInfo(
        name=canonical(name),
        source=_text(value, "source", what),
        cache=tuple(_cache(item, f"{what}.cache") for item in caches),
        code_inputs={k.lower(): v for k, v in code.items()},
        publishes=_text(value, "publishes", what),
        publishes_when=_text(value, "publishes-when", what),
        credential_inputs=_names(value, "credential-inputs", what),
        credential_for=_text(value, "credential-for", what),
        index_inputs=_names(value, "index-inputs", what),
        default_index=_names(value, "default-index", what),
        oidc=_flag(value, "oidc", what),
        attests=_flag(value, "attests", what),
        attests_whole_repository=_flag(value, "attests-whole-repository", what),
        permissions=_scopes(_text(value, "permissions", what), what),
        permissions_when=_text(value, "permissions-when", what),
        needs_no_token=_flag(value, "needs-no-token", what),
        downloads=_text(value, "downloads", what),
        attacker_outputs=_outputs(value.get("attacker-outputs"), f"{what}.attacker-outputs"),
        pr_head_outputs=_outputs(value.get("pr-head-outputs"), f"{what}.pr-head-outputs"),
    )


def _outputs(value: object, what: str) -> Outputs | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise KnowledgeError(f"{what} must be a table")
    unknown = set(value) - _OUTPUT_KEYS
    if unknown:
        raise KnowledgeError(f"{what}: unknown key(s) {', '.join(sorted(unknown))}")
    names = _names(value, "names", what)
    if not names:
        raise KnowledgeError(f"{what}: `names` lists at least one output")
    return Outputs(
        names=frozenset(n.lower() for n in names),
        holds=_text(value, "holds", what),
        unsafe_input=_text(value, "unsafe-input", what).lower(),
        unsafe_values=frozenset(v.lower() for v in _names(value, "unsafe-values", what)),
        escaped=_flag(value, "escaped", what),
        json_values=frozenset(v.lower() for v in _names(value, "json-values", what)),
    )


def _cache(item: object, what: str) -> CacheUse:
    if not isinstance(item, dict):
        raise KnowledgeError(f"{what}: each entry must be a table")
    unknown = set(item) - _CACHE_KEYS
    if unknown:
        raise KnowledgeError(f"{what}: unknown key(s) {', '.join(sorted(unknown))}")
    when = "always" if _flag(item, "always", what) else _text(item, "when", what)
    if when not in _WHEN:
        raise KnowledgeError(f"{what}: `when` must be one of {', '.join(sorted(_WHEN))}")
    name = _text(item, "input", what).lower()
    if when != "always" and not name:
        raise KnowledgeError(f"{what}: `input` is required with `when = {when!r}`")
    confidence = _text(item, "confidence", what) or "high"
    if confidence not in _CONFIDENCES:
        raise KnowledgeError(f"{what}: `confidence` must be high, medium or low")
    off = _names(item, "off", what) if "off" in item else ("false", "")
    return CacheUse(
        when=when,
        input=name,
        versions=_versions(_text(item, "versions", what), what),
        off=tuple(v.lower() for v in off),
        auto=tuple(v.lower() for v in _names(item, "auto", what)),
        value=_text(item, "value", what),
        confidence=confidence,
        note=_text(item, "note", what),
        skipped_on=_names(item, "skipped-on", what),
        unless_job_uses=tuple(canonical(n) for n in _names(item, "unless-job-uses", what)),
        only_if_job_runs=_names(item, "only-if-job-runs", what),
    )


def _versions(text: str, what: str) -> Versions:
    if not text:
        return Versions()
    match = _RANGE.fullmatch(text.replace(" ", ""))
    if match is None:
        raise KnowledgeError(f"{what}: `versions` must be `>=N`, `<N` or `N-M`, not {text!r}")
    sign, number, low, high = match.groups()
    if sign == ">=":
        return Versions(int(number))
    if sign == "<":
        return Versions(0, int(number))
    return Versions(int(low), int(high) + 1)


def _scopes(text: str, what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        scope, colon, level = (s.strip() for s in part.partition(":"))
        if not colon or level not in ("read", "write", "none"):
            raise KnowledgeError(f"{what}: `permissions` must read `scope: read|write, …`")
        found[scope] = level
    return found


def _text(table: dict[str, object], key: str, what: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise KnowledgeError(f"{what}: `{key}` must be a string")
    return value


def _flag(table: dict[str, object], key: str, what: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise KnowledgeError(f"{what}: `{key}` must be true or false")
    return value


def _names(table: dict[str, object], key: str, what: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{what}: `{key}` must be a list of strings")
    return tuple(value)
