"""Reading and writing the files of a repository without being turned against the user.

Every command reads and writes through this module. A read stays inside the repository (a
symlink whose real path leaves it is refused, never followed), opens regular files only
(never a FIFO, a device or a socket, which could block or never end), and reads at most a
bound. A write replaces the file atomically: a temporary file in the same directory, with the
old file's mode, synced, then renamed over it; on any failure the original is untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO, NamedTuple

from bastion.errors import BastionError

MIB = 1024 * 1024
CHUNK = 64 * 1024
TEMPORARY_SUFFIX = ".bastion-fix"
"""Temporary files are ``.NAME.XXXXXXXX.bastion-fix`` beside the file they replace."""
LEFTOVER_NOTE = "a temporary file an earlier bastion run left when it was stopped"
"""What to say about a leftover temporary file ``write_atomic`` removed."""
_RANDOM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
_RANDOM_LENGTH = 8


class FileAccessError(BastionError):
    """A file was not read or not written. ``reason`` describes it from the file's side
    ("the file is ..."), fit for a finding; ``str()`` names the path."""

    def __init__(self, path: Path | str, reason: str, message: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(message if message is not None else f"{path}: {reason}")


class OutsideRepository(FileAccessError):
    """A symlink leads out of the repository; bastion neither reads nor writes through it."""

    def __init__(self, path: Path | str, root: Path, done: str = "read") -> None:
        self.root = root
        super().__init__(
            path,
            f"the file is a symlink to outside the repository and was not {done}; bastion "
            "reads and writes only files inside the repository",
        )


class NotRegularFile(FileAccessError):
    """A FIFO, device, socket, directory, dangling symlink or symlink loop."""


class TooLarge(FileAccessError):
    def __init__(self, path: Path | str, limit: int, size: int | None, what: str) -> None:
        self.limit = limit
        self.size = size
        amount = f"{size / MIB:.1f} MiB, larger" if size is not None else "larger"
        super().__init__(
            path,
            f"{what} is too large ({amount} than the {_mebibytes(limit)} bastion reads) "
            "and was not read",
        )


class ReadFailed(FileAccessError):
    """The operating system refused the read (permissions, I/O error)."""


class WriteError(FileAccessError):
    """A write failed or was refused; the original file is as it was."""

    def __init__(self, path: Path | str, cause: str) -> None:
        super().__init__(
            path,
            f"cannot write the file: {cause}; it is unchanged",
            f"cannot write {path}: {cause}; the file is unchanged",
        )


def _mebibytes(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


# -- where a repository ends --


def repository_root(path: Path) -> Path:
    """The repository a path lies in, resolved: the nearest directory at or above it holding
    ``.git``; without one, the directory holding the ``.github`` the path is in; else the
    path itself (its directory, for a file)."""
    start = os.path.abspath(path)
    directory = start if is_directory(start) else os.path.dirname(start)
    candidate = directory
    while True:  # the directory, then each above it (what Path.parents gives)
        if os.path.lexists(os.path.join(candidate, ".git")):
            return Path(os.path.realpath(candidate))
        above = os.path.dirname(candidate)
        if above == candidate:
            break
        candidate = above
    parts = Path(directory).parts
    if ".github" in parts:
        last = len(parts) - 1 - parts[::-1].index(".github")
        return Path(os.path.realpath(Path(*parts[:last])))
    return Path(os.path.realpath(directory))


def outside(path: Path, root: Path) -> Path | None:
    """The real path of ``path`` if symlinks take it outside ``root`` (a resolved path)."""
    real = Path(os.path.realpath(path))
    return None if real.is_relative_to(root) else real


def is_directory(path: Path | str) -> bool:
    """Whether ``path`` is, or leads through symlinks to, a directory (False on any error,
    a symlink loop included)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


_OPEN_PATH_ONLY = getattr(os, "O_PATH", 0)
"""Linux's ``O_PATH``: a descriptor that names a file without opening it (so opening a FIFO
or a device this way has no effect), whose real path ``/proc/self/fd`` tells."""


class Resolved(NamedTuple):
    """Where a path led when it was resolved: its real path, and what was there."""

    real: str
    mode: int
    size: int
    device: int
    inode: int

    @classmethod
    def of(cls, real: str, status: os.stat_result) -> Resolved:
        return cls(real, status.st_mode, status.st_size, status.st_dev, status.st_ino)


def resolve(path: Path | str) -> Resolved | None:
    """The real path of ``path`` and the status of what it names, as the kernel resolved them
    in one lookup; None when the last component is a symlink, the path does not resolve or
    the system cannot tell (no ``O_PATH`` or no ``/proc``): ask ``os.path.realpath`` then.

    This is the fast way to the answer ``os.path.realpath`` gives, which looks up each
    component of the path in turn.
    """
    if not _OPEN_PATH_ONLY:
        return None
    try:
        descriptor = os.open(path, _OPEN_PATH_ONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISLNK(status.st_mode):
            return None
        real = os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if not real.startswith("/") or real.endswith(" (deleted)"):
        return None
    return Resolved.of(real, status)


def real_path(path: Path | str) -> str:
    """``os.path.realpath(path)``, found in one kernel lookup when the path names an existing
    file or directory that is not itself a symlink."""
    resolved = resolve(path)
    return resolved.real if resolved is not None else os.path.realpath(path)


def is_inside(real: str, root: Path) -> bool:
    """Whether the real path ``real`` lies in (or is) the resolved directory ``root``; what
    ``Path(real).is_relative_to(root)`` says, without parsing either path."""
    top = str(root)
    if top == "/":
        return real.startswith("/")
    return real == top or real.startswith(top + "/")


def _real_path(path: Path) -> Path:
    """The real path of ``path``; raises NotRegularFile for a loop or a dangling symlink."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotRegularFile(path, "the file is a symlink loop and was not read") from None
        if os.path.islink(path):
            raise NotRegularFile(
                path, "the file is a symlink to a file that does not exist"
            ) from None
        raise ReadFailed(path, f"cannot read the file: {error.strerror or error}") from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _not_regular(path: Path | str, mode: int) -> NotRegularFile:
    return NotRegularFile(path, f"the file is {_kind(mode)}, not a regular file, and was not read")


# -- reading --


def read_file(path: Path, root: Path | None, limit: int, resolved: Resolved | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    ``root`` is the resolved repository the file must really lie in (None: the repository
    ``repository_root`` finds for it). ``resolved``: what :func:`resolve` said of ``path``
    earlier (None: resolve it now); the file read must still be the one it found. Raises
    OutsideRepository, NotRegularFile, TooLarge or ReadFailed; never blocks on a FIFO, never
    reads more than ``limit + 1`` bytes.
    """
    if resolved is None:
        resolved = resolve(path)  # None for a symlink: resolve it component by component
    real = str(_real_path(path)) if resolved is None else resolved.real
    if root is None:
        root = repository_root(path)
    if not is_inside(real, root):
        raise OutsideRepository(path, root)
    if resolved is None:
        try:
            resolved = Resolved.of(real, os.stat(real))
        except OSError as error:
            raise ReadFailed(path, f"cannot read the file: {error.strerror or error}") from None
    if not stat.S_ISREG(resolved.mode):
        raise _not_regular(path, resolved.mode)
    if resolved.size > limit:
        raise TooLarge(path, limit, resolved.size, "the file")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(real, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:  # the file became a symlink since we resolved it
            raise NotRegularFile(path, "the file changed into a symlink and was not read") from None
        raise ReadFailed(path, f"cannot read the file: {error.strerror or error}") from None
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            raise _not_regular(path, opened.st_mode)
        if (opened.st_dev, opened.st_ino) != (resolved.device, resolved.inode):
            raise ReadFailed(path, "the file was replaced while it was being read; run again")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(descriptor, min(CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as error:
        raise ReadFailed(path, f"cannot read the file: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    if total > limit:
        raise TooLarge(path, limit, None, "the file")
    return b"".join(chunks)


def read_stream(stream: BinaryIO, limit: int, name: str = "<stdin>") -> bytes:
    """At most ``limit`` bytes of ``stream`` (standard input), read in bounded chunks; raises
    TooLarge as soon as there are more, without reading the rest."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise TooLarge(name, limit, None, "standard input")
    return b"".join(chunks)


# -- writing --


def leftover_temporaries(path: Path) -> list[Path]:
    """Temporary files an earlier, killed write of ``path`` left beside it."""
    pattern = re.compile(
        re.escape(f".{path.name}.")
        + f"[{re.escape(_RANDOM_ALPHABET)}]{{{_RANDOM_LENGTH}}}"
        + re.escape(TEMPORARY_SUFFIX)
    )
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    found = []
    for name in sorted(names):
        if pattern.fullmatch(name):
            candidate = path.parent / name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(candidate).st_mode):
                    found.append(candidate)
    return found


def write_atomic(
    path: Path, data: bytes, *, root: Path | None = None, expected: bytes | None = None
) -> list[Path]:
    """Replace the file at ``path`` (or create it) with ``data``, all or nothing.

    A symlink is written through to its target, which must lie inside ``root`` (None: the
    repository ``repository_root`` finds). ``expected`` is the content the file must still
    hold (it was read, then worked on): if it changed meanwhile, nothing is written. The old
    file's permission bits are kept. Returns the leftover temporary files of earlier killed
    writes, which are removed. Raises WriteError (or OutsideRepository, NotRegularFile).
    """
    if root is None:
        root = repository_root(path)
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(root):
        raise OutsideRepository(path, root, "written")
    current = _status_before_write(real)
    if current is not None and not stat.S_ISREG(current.st_mode):
        raise NotRegularFile(path, f"the file is {_kind(current.st_mode)} and was not written")
    if expected is not None:
        try:
            now = read_file(real, root, len(expected))
        except FileAccessError:
            now = None
        if now != expected:
            raise WriteError(real, "it changed while bastion was working on it; run again")
    removed = []
    for leftover in leftover_temporaries(real):
        with contextlib.suppress(OSError):
            os.unlink(leftover)
            removed.append(leftover)
    mode = stat.S_IMODE(current.st_mode) if current is not None else None
    _replace(real, data, mode=mode, durable=True)
    return removed


def _status_before_write(path: Path) -> os.stat_result | None:
    """``os.lstat(path)``, None when nothing is there yet; raises WriteError."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _write_error(path, error) from None


def write_report(path: Path, data: bytes) -> None:
    """Write a report (``--output FILE``) that the user named, wherever it is.

    The file is replaced, never written through: a symlink planted at that name (a pull
    request can add ``results.sarif -> ~/.bashrc``) becomes a regular file holding the
    report, and its target is left alone. Raises WriteError.
    """
    current = _status_before_write(path)
    if current is not None and stat.S_ISDIR(current.st_mode):
        raise NotRegularFile(path, "the path is a directory and was not written")
    _replace(path, data, mode=None, durable=False)


def _replace(target: Path, data: bytes, *, mode: int | None, durable: bool) -> None:
    """Put ``data`` at ``target`` through a temporary file beside it and one rename (with
    ``mode`` when given; synced to disk, directory included, when ``durable``); on failure
    the temporary file is removed and ``target`` is as it was. Raises WriteError."""
    temporary, descriptor = _create_temporary(target)
    try:
        if mode is not None:
            os.fchmod(descriptor, mode)
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        if durable:
            os.fsync(descriptor)
        os.close(descriptor)
        descriptor = -1
        os.replace(temporary, target)
    except OSError as error:
        if descriptor >= 0:
            with contextlib.suppress(OSError):
                os.close(descriptor)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise _write_error(target, error) from None
    if durable:
        _sync_directory(target.parent)


def _create_temporary(real: Path) -> tuple[Path, int]:
    import secrets  # only a command that writes files needs it

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(_RANDOM_LENGTH))
        temporary = real.parent / f".{real.name}.{name}{TEMPORARY_SUFFIX}"
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise _write_error(real, error) from None
    raise WriteError(real, "no temporary file could be created beside it")


def _write_error(real: Path, error: OSError) -> WriteError:
    return WriteError(real, error.strerror or str(error))


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; some file systems cannot sync a directory, which is fine."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
