"""A GitHub look-alike on loopback: git's own ``http-backend`` plus a few REST endpoints.

``/OWNER/REPO.git/...`` runs ``git http-backend`` as a CGI program over bare repositories in
``root`` (protocol v2 negotiated from the ``Git-Protocol`` header); ``/api/v3/...`` answers
from ``rest`` (path -> JSON, or (status, JSON)). Every request is logged with its headers;
``latency`` seconds are added to each answer. Repositories listed in ``private`` answer 401
without a token and 404 with a wrong one, as GitHub does.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

GIT_HTTP_BACKEND = (
    Path(
        subprocess.run(
            ["git", "--exec-path"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    / "git-http-backend"
)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@dataclass(frozen=True, slots=True)
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class ServerState:
    root: Path
    latency: float = 0.0
    rest: dict[str, Any] = field(default_factory=dict)
    private: dict[str, str] = field(default_factory=dict)
    """``owner/repo`` -> the token it requires."""
    log: list[Logged] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def git_requests(self) -> list[Logged]:
        return [entry for entry in self.log if ".git/" in entry.path]

    def rest_requests(self) -> list[Logged]:
        return [entry for entry in self.log if entry.path.startswith("/api/v3/")]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        with state.lock:
            state.log.append(Logged(self.command, self.path, headers, body))
        if state.latency:
            time.sleep(state.latency)
        path = urlsplit(self.path).path
        if path.startswith("/api/v3/"):
            self._rest(path, state)
            return
        slug = "/".join(path.strip("/").split("/")[:2]).removesuffix(".git")
        required = state.private.get(slug)
        if required is not None:
            given = headers.get("authorization", "")
            expected = "Basic " + base64.b64encode(f"x-access-token:{required}".encode()).decode()
            if not given:
                self._send(401, b"Authentication required", "text/plain")
                return
            if given != expected:
                self._send(404, b"Repository not found", "text/plain")
                return
        self._git(body, headers)

    def _rest(self, path: str, state: ServerState) -> None:
        query = urlsplit(self.path).query
        key = f"{path}?{query}" if f"{path}?{query}" in state.rest else path
        answer = state.rest.get(key)
        if answer is None:
            payload = {"message": "Not Found", "documentation_url": "https://docs.example/rest"}
            self._send(404, json.dumps(payload).encode(), "application/json")
            return
        status, data, extra = 200, answer, dict[str, str]()
        if isinstance(answer, tuple):
            status, data = answer[0], answer[1]
            extra = answer[2] if len(answer) > 2 else {}
        self._send(status, json.dumps(data).encode(), "application/json", extra)

    def _git(self, body: bytes, headers: dict[str, str]) -> None:
        parts = urlsplit(self.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.state.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "REQUEST_METHOD": self.command,
            "PATH_INFO": _as_stored(self.server.state.root, parts.path),
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.0",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        protocol = headers.get("git-protocol")
        if protocol:
            env["HTTP_GIT_PROTOCOL"] = protocol
            env["GIT_PROTOCOL"] = protocol
        done = subprocess.run(
            [str(GIT_HTTP_BACKEND)], input=body, capture_output=True, env=env, check=False
        )
        output = done.stdout
        split = output.find(b"\r\n\r\n")
        separator = 4
        if split < 0:
            split, separator = output.find(b"\n\n"), 2
        if split < 0:
            message = done.stderr or b"http-backend gave no answer"
            self._send(500, message, "text/plain")
            return
        status = 200
        response_headers: dict[str, str] = {}
        for line in output[:split].decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                response_headers[name.strip()] = value.strip()
        content_type = response_headers.pop("Content-Type", "application/octet-stream")
        self._send(status, output[split + separator :], content_type, response_headers)

    def _send(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            if name.lower() not in ("content-length", "content-type"):
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _as_stored(root: Path, path: str) -> str:
    """``/OWNER/REPO.git/...`` spelled as the repository is stored: GitHub matches owner and
    repository names whatever their case."""
    parts = path.split("/", 3)
    if len(parts) < 3 or (root / parts[1] / parts[2]).exists():
        return path
    for owner in root.iterdir():
        if owner.name.lower() != parts[1].lower():
            continue
        for repo in owner.iterdir():
            if repo.name.lower() == parts[2].lower():
                return "/".join(["", owner.name, repo.name, *parts[3:]])
    return path


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ServerState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is part of the tests


@dataclass
class Loopback:
    state: ServerState
    url: str


def serve(state: ServerState) -> Iterator[Loopback]:
    """Run the server in a thread for the duration of a ``with``/fixture."""
    server = _Server(state)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield Loopback(state, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Building repositories with the git CLI --------------------------------------------------


class RepoBuilder:
    """A work tree that pushes to a bare repository ``root/OWNER/REPO.git``."""

    def __init__(self, root: Path, owner: str, repo: str, work: Path) -> None:
        self.bare = root / owner / f"{repo}.git"
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        self.work = work / f"{owner}__{repo}"
        self._clock = 1_700_000_000
        self.git_bare("init", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        self.git_bare("config", "uploadpack.allowFilter", "true")
        self.git_bare("config", "uploadpack.allowAnySHA1InWant", "true")
        self.work.mkdir(parents=True)
        self.git("init", "--initial-branch=main")
        self.git("remote", "add", "origin", str(self.bare))

    def git_bare(self, *args: str, cwd: Path | None = None) -> str:
        return _git(list(args), cwd or self.bare, self._env())

    def git(self, *args: str) -> str:
        return _git(list(args), self.work, self._env())

    def _env(self) -> dict[str, str]:
        stamp = f"{self._clock} +0000"
        return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}

    def commit(self, message: str) -> str:
        self._clock += 3600
        (self.work / "file.txt").write_text(f"{message}\n")
        self.git("add", "file.txt")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, commit: str = "HEAD", *, annotated: bool = False) -> None:
        if annotated:
            self.git("tag", "-f", "-a", "-m", f"release {name}", name, commit)
        else:
            self.git("tag", "-f", name, commit)

    def push(self, *refspecs: str) -> None:
        self.git("push", "-q", "--force", "origin", *(refspecs or ("--all",)))
        if not refspecs:
            self.git("push", "-q", "--force", "origin", "--tags")


def _git(args: list[str], cwd: Path, extra: dict[str, str]) -> str:
    env = {**os.environ, **GIT_ENV, **extra}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def have_git() -> bool:
    return shutil.which("git") is not None and GIT_HTTP_BACKEND.exists()


# Building many repositories fast, with git fast-import -----------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A commit to write: ``label`` names it in the returned map; ``files`` path -> bytes."""

    label: str
    files: dict[str, bytes]
    message: str = ""
    links: dict[str, str] = field(default_factory=dict)
    """Symbolic links: path -> target."""


@dataclass(frozen=True, slots=True)
class RefSpec:
    """A branch or tag pointing at the commit of ``label``; ``annotated`` makes a tag object
    whose id is returned under the key ``tag:NAME``."""

    name: str
    label: str
    tag: bool = False
    annotated: bool = False


def import_repository(
    root: Path,
    owner: str,
    repo: str,
    snapshots: list[Snapshot],
    refs: list[RefSpec],
    *,
    default_branch: str = "main",
) -> dict[str, str]:
    """Write a bare repository ``root/OWNER/REPO.git`` in one ``git fast-import`` run.

    Every snapshot becomes a parentless commit (reachable only through the refs, or by id,
    which the repository allows in ``want``). Returns label -> commit id, and
    ``tag:NAME`` -> tag object id for annotated tags.
    """
    bare = root / owner / f"{repo}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **GIT_ENV}
    _git(["init", "-q", "--bare", f"--initial-branch={default_branch}", str(bare)], root, env)
    _git(["config", "uploadpack.allowFilter", "true"], bare, env)
    _git(["config", "uploadpack.allowAnySHA1InWant", "true"], bare, env)
    stream = bytearray()
    marks: dict[str, int] = {}
    stamp = "1700000000 +0000"
    who = "Test <test@example.invalid>"

    def data(payload: bytes) -> None:
        stream.extend(f"data {len(payload)}\n".encode())
        stream.extend(payload)
        stream.extend(b"\n")

    for number, snapshot in enumerate(snapshots, start=1):
        marks[snapshot.label] = number
        stream.extend(f"reset refs/build\ncommit refs/build\nmark :{number}\n".encode())
        stream.extend(f"author {who} {stamp}\ncommitter {who} {stamp}\n".encode())
        data((snapshot.message or snapshot.label).encode())
        for path, content in sorted(snapshot.files.items()):
            stream.extend(f"M 100644 inline {path}\n".encode())
            data(content)
        for path, target in sorted(snapshot.links.items()):
            stream.extend(f"M 120000 inline {path}\n".encode())
            data(target.encode())
        stream.extend(b"\n")
    tag_marks: dict[str, int] = {}
    for ref in refs:
        mark = marks[ref.label]
        if ref.annotated:
            tag_marks[ref.name] = len(marks) + len(tag_marks) + 1
            stream.extend(f"tag {ref.name}\nmark :{tag_marks[ref.name]}\nfrom :{mark}\n".encode())
            stream.extend(f"tagger {who} {stamp}\n".encode())
            data(f"release {ref.name}".encode())
        else:
            kind = "tags" if ref.tag else "heads"
            stream.extend(f"reset refs/{kind}/{ref.name}\nfrom :{mark}\n\n".encode())
    marks_file = bare / "bastion-marks"
    done = subprocess.run(
        ["git", "fast-import", "--quiet", f"--export-marks={marks_file}"],
        cwd=bare,
        env=env,
        input=bytes(stream),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git fast-import failed for {owner}/{repo}: {done.stderr.decode()}")
    by_mark = {
        int(line.split()[0][1:]): line.split()[1]
        for line in marks_file.read_text().splitlines()
        if line.strip()
    }
    marks_file.unlink()
    ids = {label: by_mark[mark] for label, mark in marks.items()}
    ids.update({f"tag:{name}": by_mark[mark] for name, mark in tag_marks.items()})
    return ids
