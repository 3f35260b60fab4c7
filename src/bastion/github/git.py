"""Git's protocol version 2 over smart HTTP, on urllib: list refs and fetch commit graphs.

Every call is **one** HTTP request: a POST straight to ``REPO.git/git-upload-pack`` with
``Git-Protocol: version=2``. The ``GET info/refs`` capability advertisement that git itself
sends first is skipped; GitHub and ``git http-backend`` both serve a v2 command without it.

* :func:`list_refs` runs ``ls-refs`` with ``peel`` and ``symrefs``: every branch and tag,
  annotated tags peeled to their commit, and the default branch.
* :func:`fetch_commits` runs ``fetch`` with ``filter tree:0`` (commits only, no trees or
  blobs) and reads the commits out of the pack (deltas included).
* :func:`has_commits` runs one negotiation round (no ``done``): the server acknowledges the
  ``have`` lines of objects it holds.
* :func:`fetch_objects` runs ``fetch`` with ``deepen 1`` and ``filter blob:none``: the commits
  asked for and every tree of their snapshots, flattened into :class:`Snapshot`, plus the
  blobs named by id in the same request (``want`` lines naming blobs: the server must allow
  any object id in ``want``, as GitHub does; a filter leaves out only the blobs nobody named).
  :func:`fetch_trees` and :func:`fetch_blobs` ask for one kind only.

Errors are :class:`GitError` with a message that says what to do; a token is sent only to
the host it belongs to and never appears in a message.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bastion import __version__
from bastion.errors import BastionError
from bastion.github.host import UNREACHABLE_HINT, Host, Token

FLUSH = b"0000"
DELIM = b"0001"
RESPONSE_END = b"0002"
MAX_PKT_PAYLOAD = 65516
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
"""A pack larger than this is refused (a commits-only pack of 256 MiB is a million commits)."""
MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 30.0
AGENT = f"bastion/{__version__}"

_OBJ_COMMIT, _OBJ_TREE, _OBJ_BLOB, _OBJ_TAG, _OBJ_OFS_DELTA, _OBJ_REF_DELTA = 1, 2, 3, 4, 6, 7
_TYPE_NAMES = {_OBJ_COMMIT: b"commit", _OBJ_TREE: b"tree", _OBJ_BLOB: b"blob", _OBJ_TAG: b"tag"}
_TYPE_CODES = {name.decode(): code for code, name in _TYPE_NAMES.items()}


class GitError(BastionError):
    """A git request failed; ``status`` is the HTTP status (0 when none came back)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status

    @property
    def not_found(self) -> bool:
        """The repository does not exist, or is private and the credentials cannot see it."""
        return self.status in (401, 404)

    @property
    def missing_object(self) -> str | None:
        """The object id a ``fetch`` was refused for (``not our ref OID``): git's server
        stops at the first ``want`` it does not hold and names it."""
        found = _NOT_OUR_REF.search(str(self))
        return found.group(1) if found else None


_NOT_OUR_REF = re.compile(r"not our ref ([0-9a-f]{40}(?:[0-9a-f]{24})?)\b")


# pkt-line -------------------------------------------------------------------------------


def pkt_line(data: bytes | str) -> bytes:
    """One pkt-line: four hex digits of length (itself included), then the payload."""
    payload = data.encode() if isinstance(data, str) else data
    if len(payload) > MAX_PKT_PAYLOAD:
        raise ValueError(f"a pkt-line holds at most {MAX_PKT_PAYLOAD} bytes")
    return f"{len(payload) + 4:04x}".encode() + payload


@dataclass(frozen=True, slots=True)
class Packet:
    """A decoded pkt-line: ``kind`` is "data", "flush", "delim" or "end"."""

    kind: str
    payload: bytes = b""

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace").rstrip("\n")


_SPECIAL = {0: "flush", 1: "delim", 2: "end"}


def read_packets(data: bytes | memoryview) -> Iterator[Packet]:
    """Decode a stream of pkt-lines; malformed input raises GitError."""
    view = memoryview(data)
    position = 0
    while position < len(view):
        head = bytes(view[position : position + 4])
        try:
            length = int(head, 16)
        except ValueError:
            raise GitError(f"malformed pkt-line length {head!r} at byte {position}") from None
        if length in _SPECIAL:
            yield Packet(_SPECIAL[length])
            position += 4
            continue
        if length < 4 or position + length > len(view):
            raise GitError(f"malformed or truncated pkt-line at byte {position}")
        yield Packet("data", bytes(view[position + 4 : position + length]))
        position += length


def _command(name: str, arguments: Iterable[str]) -> bytes:
    parts = [pkt_line(f"command={name}\n"), pkt_line(f"agent={AGENT}\n"), DELIM]
    parts.extend(pkt_line(f"{argument}\n") for argument in arguments)
    parts.append(FLUSH)
    return b"".join(parts)


# Transport ------------------------------------------------------------------------------


@dataclass(slots=True)
class Counter:
    """Requests sent and bytes received, for benchmarks and tests (thread-safe)."""

    requests: int = 0
    received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, received: int) -> None:
        with self._lock:
            self.requests += 1
            self.received += received


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass(frozen=True, slots=True)
class GitClient:
    """Talks to the git endpoints of one host, with a token or anonymously."""

    host: Host
    token: Token | None = None
    timeout: float = DEFAULT_TIMEOUT
    counter: Counter = field(default_factory=Counter)

    def __repr__(self) -> str:
        return f"GitClient({self.host.web_url!r}, token={self.token})"

    def upload_pack(self, owner: str, repo: str, body: bytes) -> bytes:
        """POST a v2 command to the repository's ``git-upload-pack``; return the body."""
        url = f"{self.host.git_url(owner, repo)}/git-upload-pack"
        what = f"{owner}/{repo}"
        opener = urllib.request.build_opener(_NoRedirects())
        for _ in range(MAX_REDIRECTS + 1):
            request = urllib.request.Request(url, data=body, method="POST")
            request.add_header("Content-Type", "application/x-git-upload-pack-request")
            request.add_header("Accept", "application/x-git-upload-pack-result")
            request.add_header("Git-Protocol", "version=2")
            request.add_header("User-Agent", f"git/2.45.0 ({AGENT})")
            if self.token is not None and _same_origin(url, self.host.web_url):
                credential = base64.b64encode(f"x-access-token:{self.token.value}".encode())
                request.add_header("Authorization", f"Basic {credential.decode()}")
            try:
                with opener.open(request, timeout=self.timeout) as response:
                    data = _read_bounded(response, what)
                    self.counter.add(len(data))
                    _check_content_type(response.headers.get("Content-Type", ""), what)
                    return data
            except urllib.error.HTTPError as error:
                self.counter.add(0)
                location = error.headers.get("Location") if error.headers else None
                if error.code in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    continue
                raise _http_error(error.code, what, self.token) from None
            except TimeoutError:
                raise GitError(
                    f"{self.host.hostname} did not answer within {self.timeout:.0f} s "
                    f"while listing {what}; try again later"
                ) from None
            except urllib.error.URLError as error:
                raise GitError(
                    f"cannot reach {self.host.web_url} for {what}: {error.reason}; "
                    f"{UNREACHABLE_HINT}"
                ) from None
            except (http.client.HTTPException, ConnectionError, OSError) as error:
                raise GitError(f"the connection to {self.host.hostname} failed: {error}") from None
        raise GitError(f"too many redirects for {what} (more than {MAX_REDIRECTS})")


def _same_origin(url: str, base: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(base).netloc.lower()


def _read_bounded(response: http.client.HTTPResponse, what: str) -> bytes:
    data = response.read(MAX_RESPONSE_BYTES + 1)
    if len(data) > MAX_RESPONSE_BYTES:
        raise GitError(f"the answer for {what} is larger than {MAX_RESPONSE_BYTES >> 20} MiB")
    return data


def _check_content_type(content_type: str, what: str) -> None:
    if "application/x-git-upload-pack-result" not in content_type:
        raise GitError(
            f"the server did not answer as a git server for {what} (content type "
            f"{content_type or 'missing'!r}); is --github-url the web address of a GitHub?"
        )


def _http_error(status: int, what: str, token: Token | None) -> GitError:
    if status in (401, 404):
        if token is None:
            detail = (
                "does not exist, or is private: set GH_TOKEN (or log in with `gh auth login`) "
                "if you should have access"
            )
        else:
            detail = (
                f"does not exist, or is private and the token from {token.source} cannot "
                "read it (GitHub answers 404 rather than say which)"
            )
        return GitError(f"repository {what} {detail}", status)
    if status == 403:
        detail = "access is forbidden (the token lacks access, or a rate limit was hit)"
        return GitError(f"repository {what}: {detail}", status)
    if status in (429, 503):
        return GitError(f"the server is overloaded or rate limiting ({status}) for {what}", status)
    return GitError(f"the server answered HTTP {status} for {what}", status)


# ls-refs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefListing:
    """A repository's branches and tags, each mapped to the commit it names."""

    heads: dict[str, str]
    """Branch name -> commit."""
    tags: dict[str, str]
    """Tag name -> commit (annotated tags peeled)."""
    default_branch: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"heads": self.heads, "tags": self.tags, "default_branch": self.default_branch}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RefListing:
        heads, tags, default = data["heads"], data["tags"], data.get("default_branch")
        if not isinstance(heads, dict) or not isinstance(tags, dict):
            raise ValueError("heads and tags must be objects")
        return cls(
            {str(k): str(v) for k, v in heads.items()},
            {str(k): str(v) for k, v in tags.items()},
            default if isinstance(default, str) else None,
        )

    def tags_at(self, commit: str) -> list[str]:
        return [name for name, target in self.tags.items() if target == commit]


def list_refs(client: GitClient, owner: str, repo: str) -> RefListing:
    """Branches, tags (peeled) and the default branch, in one request."""
    body = _command(
        "ls-refs",
        ["peel", "symrefs", "ref-prefix HEAD", "ref-prefix refs/heads/", "ref-prefix refs/tags/"],
    )
    answer = client.upload_pack(owner, repo, body)
    return parse_ls_refs(answer, f"{owner}/{repo}")


def parse_ls_refs(answer: bytes, what: str = "the repository") -> RefListing:
    heads: dict[str, str] = {}
    tags: dict[str, str] = {}
    default: str | None = None
    ended = False
    for packet in read_packets(answer):
        if packet.kind == "flush":
            ended = True
            break
        if packet.kind != "data":
            raise GitError(f"unexpected {packet.kind} packet in the ref list of {what}")
        line = packet.text
        _raise_on_err(line, what)
        fields = line.split(" ")
        if len(fields) < 2 or not _is_oid(fields[0]):
            raise GitError(
                f"the server's ref list of {what} is malformed ({line[:80]!r}); it may not "
                "speak git protocol version 2"
            )
        oid, name = fields[0], fields[1]
        attributes = dict(f.split(":", 1) for f in fields[2:] if ":" in f)
        target = attributes.get("peeled", oid)
        if name == "HEAD":
            default = attributes.get("symref-target", "").removeprefix("refs/heads/") or None
        elif name.startswith("refs/heads/"):
            heads[name.removeprefix("refs/heads/")] = oid
        elif name.startswith("refs/tags/"):
            tags[name.removeprefix("refs/tags/")] = target
    if not ended:
        raise GitError(f"the ref list of {what} was cut short")
    return RefListing(heads, tags, default)


def _raise_on_err(line: str, what: str) -> None:
    if line.startswith("ERR "):
        raise GitError(f"the git server refused the request for {what}: {line[4:]}")


def _is_oid(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


# fetch ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commit:
    oid: str
    parents: tuple[str, ...]
    committed_at: int
    """Committer time, seconds since the epoch (set by whoever made the commit)."""


def fetch_commits(
    client: GitClient,
    owner: str,
    repo: str,
    wants: Iterable[str],
    haves: Iterable[str] = (),
) -> list[Commit]:
    """The commits reachable from ``wants`` and not from ``haves``, commits only.

    The server leaves out everything reachable from a ``have`` it holds, so the answer is
    the commits between the haves and the wants.
    """
    arguments = ["no-progress", "ofs-delta", "filter tree:0"]
    arguments.extend(f"want {oid}" for oid in dict.fromkeys(wants))
    arguments.extend(f"have {oid}" for oid in dict.fromkeys(haves))
    arguments.append("done")
    what = f"{owner}/{repo}"
    answer = client.upload_pack(owner, repo, _command("fetch", arguments))
    objects = read_pack(packfile_section(answer, what), what)
    return [_parse_commit(o.data, o.oid, what) for o in objects if o.kind == "commit"]


def has_commits(
    client: GitClient, owner: str, repo: str, want: str, haves: Iterable[str]
) -> set[str]:
    """Of ``haves``, the objects the server holds (it acknowledges them), in one round."""
    arguments = ["no-progress", f"want {want}"]
    arguments.extend(f"have {oid}" for oid in dict.fromkeys(haves))
    what = f"{owner}/{repo}"
    answer = client.upload_pack(owner, repo, _command("fetch", arguments))
    acknowledged: set[str] = set()
    in_acks = False
    for packet in read_packets(answer):
        if packet.kind != "data":
            if in_acks:
                break
            continue
        line = packet.text
        _raise_on_err(line, what)
        if line == "acknowledgments":
            in_acks = True
        elif in_acks and line.startswith("ACK "):
            acknowledged.add(line[4:].strip())
        elif in_acks and line in ("NAK", "ready"):
            continue
        elif line == "packfile":
            break
    return acknowledged


def packfile_section(answer: bytes, what: str) -> bytes:
    """The pack carried in side band 1 of the ``packfile`` section."""
    chunks: list[bytes] = []
    in_pack = False
    for packet in read_packets(answer):
        if packet.kind != "data":
            if in_pack:
                break
            continue
        if not in_pack:
            line = packet.text
            _raise_on_err(line, what)
            if line == "packfile":
                in_pack = True
            continue
        band, payload = packet.payload[:1], packet.payload[1:]
        if band == b"\x01":
            chunks.append(payload)
        elif band == b"\x03":
            message = payload.decode("utf-8", "replace").strip()
            raise GitError(f"the git server failed while sending {what}: {message}")
    if not in_pack:
        raise GitError(f"the git server sent no pack for {what}")
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class PackObject:
    kind: str
    """"commit", "tree", "blob" or "tag"."""
    oid: str
    data: bytes


def read_pack(pack: bytes, what: str = "the repository") -> list[PackObject]:
    """Decode a pack (checksum verified, deltas resolved) into its objects."""
    if len(pack) < 32 or pack[:4] != b"PACK":
        raise GitError(f"the pack for {what} is malformed (no PACK header)")
    version = int.from_bytes(pack[4:8], "big")
    count = int.from_bytes(pack[8:12], "big")
    if version not in (2, 3):
        raise GitError(f"the pack for {what} has unsupported version {version}")
    if hashlib.sha1(pack[:-20]).digest() != pack[-20:]:
        raise GitError(f"the pack for {what} is corrupt (checksum mismatch)")
    view = memoryview(pack)[:-20]
    by_offset: dict[int, PackObject] = {}
    by_oid: dict[bytes, PackObject] = {}
    pending: list[tuple[int, int, int | bytes, bytes]] = []
    position = 12
    try:
        for _ in range(count):
            start = position
            kind, size, position = _entry_header(view, position)
            base: int | bytes | None = None
            if kind == _OBJ_OFS_DELTA:
                distance, position = _ofs_distance(view, position)
                base = start - distance
            elif kind == _OBJ_REF_DELTA:
                base = bytes(view[position : position + 20])
                position += 20
            data, position = _inflate(view, position, size)
            if base is None:
                if kind not in _TYPE_NAMES:
                    raise GitError(f"the pack for {what} holds an object of unknown type {kind}")
                _remember(by_offset, by_oid, start, kind, data)
            else:
                pending.append((start, kind, base, data))
    except (zlib.error, IndexError) as error:
        raise GitError(f"the pack for {what} is malformed: {error}") from None
    # Resolve deltas; a base may itself be a delta that comes later, so loop until stable.
    while pending:
        left = []
        for start, kind, base, delta in pending:
            found = by_offset.get(base) if isinstance(base, int) else by_oid.get(base)
            if found is None:
                left.append((start, kind, base, delta))
                continue
            data = _apply_delta(found.data, delta, what)
            _remember(by_offset, by_oid, start, _TYPE_CODES[found.kind], data)
        if len(left) == len(pending):
            raise GitError(f"the pack for {what} has deltas against objects it does not hold")
        pending = left
    return [by_offset[start] for start in sorted(by_offset)]


def _remember(
    by_offset: dict[int, PackObject],
    by_oid: dict[bytes, PackObject],
    start: int,
    kind: int,
    data: bytes,
) -> None:
    header = _TYPE_NAMES[kind] + b" " + str(len(data)).encode() + b"\0"
    digest = hashlib.sha1(header + data).digest()
    entry = PackObject(_TYPE_NAMES[kind].decode(), digest.hex(), data)
    by_offset[start] = entry
    by_oid[digest] = entry


def _entry_header(view: memoryview, position: int) -> tuple[int, int, int]:
    byte = view[position]
    kind = (byte >> 4) & 7
    size = byte & 15
    shift = 4
    position += 1
    while byte & 0x80:
        byte = view[position]
        size |= (byte & 0x7F) << shift
        shift += 7
        position += 1
    return kind, size, position


def _ofs_distance(view: memoryview, position: int) -> tuple[int, int]:
    byte = view[position]
    distance = byte & 0x7F
    position += 1
    while byte & 0x80:
        byte = view[position]
        distance = ((distance + 1) << 7) | (byte & 0x7F)
        position += 1
    return distance, position


def _inflate(view: memoryview, position: int, size: int) -> tuple[bytes, int]:
    """Inflate one zlib stream starting at ``position``; return the data and where it ends."""
    decompressor = zlib.decompressobj()
    chunk = max(64, size + size // 8 + 64)
    output: list[bytes] = []
    cursor = position
    while not decompressor.eof:
        if cursor >= len(view):
            raise GitError("the pack ends inside an object")
        piece = view[cursor : cursor + chunk]
        output.append(decompressor.decompress(piece))
        cursor += len(piece)
        chunk *= 2
    data = b"".join(output)
    if len(data) != size:
        raise GitError(f"an object in the pack inflates to {len(data)} bytes, not {size}")
    return data, cursor - len(decompressor.unused_data)


def _delta_size(delta: bytes, position: int) -> tuple[int, int]:
    size = shift = 0
    while True:
        byte = delta[position]
        position += 1
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return size, position


def _apply_delta(base: bytes, delta: bytes, what: str) -> bytes:
    try:
        source_size, position = _delta_size(delta, 0)
        target_size, position = _delta_size(delta, position)
        if source_size != len(base):
            raise GitError(f"a delta in the pack for {what} does not fit its base")
        out = bytearray()
        while position < len(delta):
            op = delta[position]
            position += 1
            if op & 0x80:
                offset = length = 0
                for bit in range(4):
                    if op & (1 << bit):
                        offset |= delta[position] << (8 * bit)
                        position += 1
                for bit in range(3):
                    if op & (0x10 << bit):
                        length |= delta[position] << (8 * bit)
                        position += 1
                out += base[offset : offset + (length or 0x10000)]
            elif op:
                out += delta[position : position + op]
                position += op
            else:
                raise GitError(f"a delta in the pack for {what} has a reserved opcode")
    except IndexError:
        raise GitError(f"a delta in the pack for {what} is truncated") from None
    if len(out) != target_size:
        raise GitError(f"a delta in the pack for {what} produced the wrong size")
    return bytes(out)


def _parse_commit(data: bytes, oid: str, what: str) -> Commit:
    header_end = data.find(b"\n\n")
    header = data if header_end < 0 else data[:header_end]
    parents: list[str] = []
    committed_at = 0
    for line in header.split(b"\n"):
        if line.startswith(b"parent "):
            parents.append(line[7:].decode("ascii", "replace"))
        elif line.startswith(b"committer "):
            parts = line.rsplit(b" ", 2)
            if len(parts) == 3 and parts[1].isdigit():
                committed_at = int(parts[1])
    if not header.startswith(b"tree "):
        raise GitError(f"a commit in the pack for {what} has no tree line")
    return Commit(oid, tuple(parents), committed_at)


# Snapshots and blobs --------------------------------------------------------------------

MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK, MODE_TREE, MODE_SUBMODULE = (
    "100644",
    "100755",
    "120000",
    "40000",
    "160000",
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The files of one commit: path -> (mode, blob id); no content."""

    commit: str
    files: dict[str, tuple[str, str]]

    def blob(self, path: str) -> str | None:
        """The blob id of a regular file (or symlink) at ``path``."""
        entry = self.files.get(path)
        return entry[1] if entry is not None else None

    def to_json(self) -> dict[str, object]:
        return {"commit": self.commit, "files": {p: list(e) for p, e in self.files.items()}}

    @classmethod
    def from_json(cls, data: object) -> Snapshot:
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ValueError("a snapshot is an object with files")
        files: dict[str, tuple[str, str]] = {}
        for path, entry in data["files"].items():
            if not isinstance(entry, list) or len(entry) != 2:
                raise ValueError("a snapshot entry is [mode, blob]")
            files[str(path)] = (str(entry[0]), str(entry[1]))
        return cls(str(data.get("commit", "")), files)


@dataclass(frozen=True, slots=True)
class Objects:
    """What one ``fetch`` brought: snapshots by the id asked for, blobs by id."""

    snapshots: dict[str, Snapshot]
    blobs: dict[str, bytes]


def fetch_objects(
    client: GitClient, owner: str, repo: str, commits: Iterable[str], blobs: Iterable[str] = ()
) -> Objects:
    """The snapshots of ``commits`` (trees, no blob they hold) and the blobs ``blobs``, in one
    request; nothing is sent when both are empty.

    An id in ``commits`` may name an annotated tag: its snapshot is that of the commit it
    peels to (``Snapshot.commit``). Submodules are left out (their commit lives in another
    repository). An object the server does not hold fails the whole request with a GitError
    whose ``missing_object`` names it. A named blob the server leaves out is simply absent
    from ``Objects.blobs`` (ask for it alone with :func:`fetch_blobs`).
    """
    wanted = list(dict.fromkeys(commits))
    wanted_blobs = [oid for oid in dict.fromkeys(blobs) if oid not in wanted]
    if not wanted and not wanted_blobs:
        return Objects({}, {})
    arguments = ["no-progress", "ofs-delta"]
    if wanted:
        arguments.extend(["deepen 1", "filter blob:none"])
    arguments.extend(f"want {oid}" for oid in wanted + wanted_blobs)
    arguments.append("done")
    what = f"{owner}/{repo}"
    answer = client.upload_pack(owner, repo, _command("fetch", arguments))
    objects = read_pack(packfile_section(answer, what), what)
    trees = {o.oid: o.data for o in objects if o.kind == "tree"}
    commit_trees = {o.oid: _commit_tree(o.data, o.oid, what) for o in objects if o.kind == "commit"}
    tag_targets = {o.oid: _tag_target(o.data) for o in objects if o.kind == "tag"}
    snapshots: dict[str, Snapshot] = {}
    for oid in wanted:
        commit = oid
        for _ in range(MAX_TAG_CHAIN):
            if commit not in tag_targets:
                break
            commit = tag_targets[commit]
        tree = commit_trees.get(commit)
        if tree is None:
            raise GitError(f"the git server sent no commit {oid[:12]} of {what}")
        snapshots[oid] = Snapshot(commit, _flatten(trees, tree, what))
    named = set(wanted_blobs)
    return Objects(
        snapshots, {o.oid: o.data for o in objects if o.kind == "blob" and o.oid in named}
    )


def fetch_trees(
    client: GitClient, owner: str, repo: str, commits: Iterable[str]
) -> dict[str, Snapshot]:
    """The snapshots of ``commits`` (trees only, no blobs), in one request (see
    :func:`fetch_objects`)."""
    return fetch_objects(client, owner, repo, commits).snapshots


def fetch_blobs(client: GitClient, owner: str, repo: str, oids: Iterable[str]) -> dict[str, bytes]:
    """The content of the blobs ``oids``, in one request (each checked against its id)."""
    wanted = list(dict.fromkeys(oids))
    blobs = fetch_objects(client, owner, repo, (), wanted).blobs
    missing = [oid for oid in wanted if oid not in blobs]
    if missing:
        raise GitError(f"the git server did not send blob {missing[0][:12]} of {owner}/{repo}")
    return {oid: blobs[oid] for oid in wanted}


def parse_tree(data: bytes, what: str = "the repository") -> list[tuple[str, str, str]]:
    """The entries of a tree object: (mode, name, object id)."""
    entries: list[tuple[str, str, str]] = []
    position = 0
    while position < len(data):
        space = data.find(b" ", position)
        nul = data.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 21 > len(data):
            raise GitError(f"a tree in the pack for {what} is malformed")
        mode = data[position:space].decode("ascii", "replace")
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        entries.append((mode, name, data[nul + 1 : nul + 21].hex()))
        position = nul + 21
    return entries


MAX_SNAPSHOT_FILES = 200_000
"""A snapshot with more files than this is refused (no action repository comes close)."""


def _flatten(trees: dict[str, bytes], root: str, what: str) -> dict[str, tuple[str, str]]:
    files: dict[str, tuple[str, str]] = {}
    stack = [("", root)]
    while stack:
        prefix, oid = stack.pop()
        data = trees.get(oid)
        if data is None:
            raise GitError(f"the git server left tree {oid[:12]} out of the pack for {what}")
        for mode, name, child in parse_tree(data, what):
            path = f"{prefix}{name}"
            if mode == MODE_TREE:
                stack.append((f"{path}/", child))
            elif mode != MODE_SUBMODULE:
                files[path] = (mode, child)
        if len(files) > MAX_SNAPSHOT_FILES:
            raise GitError(f"a commit of {what} has more than {MAX_SNAPSHOT_FILES} files")
    return dict(sorted(files.items()))


MAX_TAG_CHAIN = 10
"""Tags of tags followed at most."""


def _tag_target(data: bytes) -> str:
    return data[7:47].decode("ascii") if data.startswith(b"object ") else ""


def _commit_tree(data: bytes, oid: str, what: str) -> str:
    if not data.startswith(b"tree ") or len(data) < 45:
        raise GitError(f"commit {oid[:12]} in the pack for {what} has no tree line")
    return data[5:45].decode("ascii")
