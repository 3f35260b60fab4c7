"""The target of a ``uses:``: a local action, a Docker image, or a repository at a ref.

A repository target is kept in one canonical form, so that every spelling GitHub runs the
same way names the same action: the runner downloads ``owner/repo`` at the ref and joins
the path to the folder it unpacked it into (a path join), so empty segments, ``.`` and
``..`` inside the repository do not change which action runs
(``actions/checkout////@v4``, ``actions/cache/save/../save@v4``), and owner and
repository names are case-insensitive on GitHub. ``slug`` keeps the case written (for
messages); ``name`` is lower case (for comparisons).
"""

from __future__ import annotations

import posixpath
import re
from enum import Enum
from typing import NamedTuple

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


class UsesKind(Enum):
    LOCAL = "local"
    DOCKER = "docker"
    REPOSITORY = "repository"


class Uses(NamedTuple):
    text: str
    kind: UsesKind
    owner: str = ""
    repo: str = ""
    path: str = ""
    """Subdirectory of the action, or the workflow file of a reusable workflow."""
    ref: str | None = None
    image: str = ""

    @property
    def slug(self) -> str:
        """``owner/repo`` or ``owner/repo/path``, without the ref."""
        base = f"{self.owner}/{self.repo}"
        return f"{base}/{self.path}" if self.path else base

    @property
    def name(self) -> str:
        """The canonical name: ``owner/repo[/path]`` in lower case (compare with this)."""
        return self.slug.lower()

    @property
    def is_sha_pinned(self) -> bool:
        return self.ref is not None and _FULL_SHA.fullmatch(self.ref) is not None

    @property
    def is_reusable_workflow(self) -> bool:
        return self.kind is UsesKind.REPOSITORY and self.path.startswith(".github/workflows/")

    def is_action(self, slug: str) -> bool:
        """Whether this names the action ``slug`` (case-insensitive, any ref)."""
        return self.kind is UsesKind.REPOSITORY and self.name == slug


def parse_uses(text: str) -> Uses:
    text = text.strip()
    if text.startswith(("./", "$/")) or text in (".", "$"):
        return Uses(text, UsesKind.LOCAL)
    if text.startswith("docker://"):
        return Uses(text, UsesKind.DOCKER, image=text.removeprefix("docker://"))
    name, at, ref = text.partition("@")
    owner, _, rest = name.partition("/")
    repo, _, path = rest.partition("/")
    return Uses(text, UsesKind.REPOSITORY, owner, repo, canonical_path(path), ref if at else None)


def canonical_path(path: str) -> str:
    """``path`` inside the repository with empty segments, ``.`` and ``..`` resolved; a path
    that climbs out of the repository is kept as written (GitHub refuses it)."""
    if not path or ("//" not in path and "." not in path and not path.endswith("/")):
        return path
    joined = posixpath.normpath(path.strip("/") or ".")
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return path
    return joined


def image_is_digest_pinned(image: str) -> bool:
    return _DIGEST.search(image.strip()) is not None
