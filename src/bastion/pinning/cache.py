"""The on-disk cache of online answers, in the user cache directory.

``BASTION_CACHE_DIR``, else ``$XDG_CACHE_HOME/bastion``, else ``~/.cache/bastion``; the
pinning answers live under ``pinning/v1/HOST/OWNER/REPO/``. Ref listings and releases expire
(``REFS_TTL``); answers keyed by a commit SHA never do, since a commit cannot change.
Unreadable or corrupt entries count as missing; writes are atomic (rename into place).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion.github.host import Host
from bastion.github.rest import default_cache_dir

REFS_TTL = 3600.0
"""Seconds a repository's ref listing (and its releases) is trusted before listing it again."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class Cache:
    def __init__(
        self,
        host: Host,
        directory: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = directory if directory is not None else default_cache_dir()
        netloc = host.web_url.split("://", 1)[-1]
        self.root = base / "pinning" / "v1" / _safe(netloc)
        self.clock = clock

    def path(self, owner: str, repo: str, name: str) -> Path:
        return self.root / _safe(owner.lower()) / _safe(repo.lower()) / f"{name}.json"

    def read(self, owner: str, repo: str, name: str, max_age: float | None) -> Any:
        """The stored value, or None when missing, corrupt, or older than ``max_age``."""
        try:
            entry = json.loads(self.path(owner, repo, name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or "value" not in entry:
            return None
        stored = entry.get("stored_at")
        if max_age is not None and (
            not isinstance(stored, int | float) or self.clock() - stored > max_age
        ):
            return None
        return entry["value"]

    def age(self, owner: str, repo: str, name: str) -> float | None:
        try:
            entry = json.loads(self.path(owner, repo, name).read_text(encoding="utf-8"))
            return float(self.clock() - entry["stored_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, owner: str, repo: str, name: str, value: Any) -> None:
        """Store ``value``; a cache that cannot be written is silently skipped."""
        path = self.path(owner, repo, name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"stored_at": self.clock(), "value": value}, out)
            os.replace(temporary, path)
        except OSError:
            return


def _safe(part: str) -> str:
    cleaned = _UNSAFE.sub("_", part)
    return cleaned if cleaned.strip(".") else "_"
