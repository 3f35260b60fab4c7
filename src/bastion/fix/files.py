"""Where fixes may be written, and writing them without ever leaving a half-written file."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class WriteError(Exception):
    pass


def repository_root(argument: Path) -> Path:
    """The repository a command-line path lies in (the nearest directory above it holding
    ``.git``); without one, the path itself (its directory, for a file). Resolved."""
    start = Path(os.path.abspath(argument))
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate.resolve()
    return directory.resolve()


def outside(path: Path, root: Path) -> Path | None:
    """The real path of ``path`` if symlinks take it outside ``root``, else None."""
    real = path.resolve()
    return None if real.is_relative_to(root) else real


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace the file at ``path`` (a real path, not a symlink) with ``data``.

    The new content goes to a temporary file in the same directory, which takes the old
    file's permission bits and then replaces it in one rename, so a reader sees either the
    old file or the new one. Refuses when the file no longer holds ``expected`` (it was
    changed while we worked on it).
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.read_bytes() != expected:
            raise WriteError(f"{path} changed while it was being fixed; run the fix again")
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".bastion-fix"
        )
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None
