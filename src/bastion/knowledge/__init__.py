"""What bastion knows about actions, read from ``actions.toml`` the first time it is asked.

The schema is in docs/knowledge.md. Users extend or override entries from their
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
    return _table().get(uses.name)


def named(name: str) -> ActionInfo | None:
    """The entry of a canonical name (``owner/repo[/path]``, lower case)."""
    return _table().get(name)


def entries() -> Mapping[str, ActionInfo]:
    return _table()


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
    if tuple(parsed.items()) != _extra:
        _extra = tuple(parsed.items())
        _table.cache_clear()


def validate(tables: Mapping[str, object], where: str) -> None:
    """Raise :class:`KnowledgeError` if a user's tables do not fit the schema."""
    from bastion.knowledge import schema

    for name, value in tables.items():
        schema.action(name, value, where)


_extra: tuple[tuple[str, ActionInfo], ...] = ()


@functools.cache
def _table() -> dict[str, ActionInfo]:
    from bastion.knowledge import schema  # only when a rule first asks

    table = schema.packaged()
    table.update(_extra)
    return table
