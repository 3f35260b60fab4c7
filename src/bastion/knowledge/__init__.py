"""What bastion knows about actions, read from ``actions.toml`` the first time it is asked.

The schema is in docs/knowledge.md. The file is scanned for its entries' names on the first
question, and an entry is parsed when it is first asked for, so a run pays for the actions
it meets, not for the whole file. Users extend or override entries from their
configuration (``[tool.bastion.actions."owner/repo"]``); :func:`extend` installs those
tables before the rules run. Lookups take a :class:`~bastion.model.uses.Uses`, whose name is
already canonical, so every spelling GitHub accepts finds the same entry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bastion.model.uses import Uses, UsesKind

if TYPE_CHECKING:
    from bastion.knowledge.schema import ActionInfo


class KnowledgeError(ValueError):
    """A table of the knowledge base (the packaged file or a user's) does not fit the schema."""


def lookup(uses: Uses | None) -> ActionInfo | None:
    """What is known about the action ``uses`` names (any version)."""
    if uses is None or uses.kind is not UsesKind.REPOSITORY:
        return None
    return named(uses.name)


def named(name: str) -> ActionInfo | None:
    """The entry of a canonical name (``owner/repo[/path]``, lower case)."""
    if _extra:
        extra = dict(_extra).get(name)
        if extra is not None:
            return extra
    found = _built.get(name)
    if found is None:
        written = _packaged().get(name)
        if written is None:
            return None
        from bastion.knowledge import schema

        found = _built[name] = schema.packaged_entry(*written)
    return found


def entries() -> Mapping[str, ActionInfo]:
    """Every entry (each packaged one read now), the configuration's included."""
    table = {name: info for name in _packaged() if (info := named(name)) is not None}
    table.update(_extra)
    return table


def major_version(uses: Uses, text: str = "", end: int = -1) -> int | None:
    """The major version ``uses`` runs: from its ref (``v4``, ``v4.2.1``), or for a SHA pin
    from the version comment after it in ``text`` (``@<sha> # v4.2.1``), if any."""
    from bastion.knowledge import schema

    return schema.major_version(uses, text, end)


def extend(tables: Mapping[str, object], where: str = "configuration") -> None:
    """Add or replace entries from a user's ``actions`` tables (same schema); an empty
    mapping leaves the packaged entries alone."""
    global _extra  # noqa: PLW0603 - installed once per process, before the rules run
    if not tables and not _extra:
        return
    from bastion.knowledge import schema

    parsed = {
        schema.canonical(name): schema.action(name, value, where) for name, value in tables.items()
    }
    _extra = tuple(parsed.items())


def validate(tables: Mapping[str, object], where: str) -> None:
    """Raise :class:`KnowledgeError` if a user's tables do not fit the schema."""
    from bastion.knowledge import schema

    for name, value in tables.items():
        schema.action(name, value, where)


_extra: tuple[tuple[str, ActionInfo], ...] = ()
_built: dict[str, ActionInfo] = {}


@functools.cache
def _packaged() -> dict[str, tuple[str, str]]:
    from bastion.knowledge import schema  # only when a rule first asks

    return schema.packaged()
