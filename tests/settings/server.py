"""A local GitHub REST API on loopback, for the settings audit and apply tests and the bench.

It keeps organisations and repositories in memory and answers in the shapes of GitHub's
OpenAPI description (see shared/reference/github-api.md): rulesets (repository and
organisation, with the effective rules of a branch computed from them), Actions policy and
token defaults, environments and their branch policies, secret names, immutable releases,
members and collaborators, and workflow files through the contents API.

It behaves the way the real service does where a client can get it wrong:

* tokens carry fine-grained permissions; an endpoint the token may not use answers 403 or
  404 (per endpoint, as GitHub does); ``X-Accepted-GitHub-Permissions`` names what the
  endpoint needs on *every* answer to a fine-grained token, success or not (GitHub changelog
  2023-08-10), and classic tokens (``add_token(..., classic=True)``) get
  ``X-Accepted-OAuth-Scopes`` instead;
* enterprise rulesets (``source_type: Enterprise``) apply to every organisation; their
  bypass actors are shown only with ``enterprise_administration`` write;
* organisation rulesets accept ``required_deployments`` (GitHub's description lists the
  rule in ``org-rules``);
* the environment PUT replaces: a field the body leaves out goes back to its default (the
  assumption bastion is built for, see docs/settings.md), reviewers are at most six;
* archived repositories answer 403 to writes; disabled ones 403 to everything but their own
  object; a renamed repository answers 301 to reads and 307 to writes at its old name, both
  to ``/repositories/{id}/...``;
* ``ghes_version`` set: ``GET /meta`` reports ``installed_version`` and, unless
  ``ghes_immutable_releases``, the immutable-releases endpoints do not exist (404);
* ``bypass_actors`` is left out of a ruleset for callers without write access to it;
* lists are paginated with ``per_page``/``page`` and a ``Link`` header of absolute URLs;
* GET answers carry an ``ETag``; ``If-None-Match`` gets 304, which is not counted against
  the rate limit (``x-ratelimit-remaining`` is);
* faults can be queued: 403 or 429 with ``Retry-After``, and exhausted primary limits;
* an optional latency is added to every answer.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

gitserver: ModuleType | None
try:
    from tests.pinning import gitserver
except (OSError, subprocess.CalledProcessError):  # No git on this machine.
    gitserver = None

JSON = Any

READ, WRITE = "read", "write"
_REPO_PATTERN = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
"""``GET /repos/{owner}/{repo}``: the one answer a disabled repository still gives."""
ALL_PERMISSIONS = {
    "metadata": WRITE,
    "administration": WRITE,
    "actions": WRITE,
    "contents": WRITE,
    "secrets": WRITE,
    "environments": WRITE,
    "organization_administration": WRITE,
    "members": WRITE,
    "organization_secrets": WRITE,
}
READ_ONLY = dict.fromkeys(ALL_PERMISSIONS, READ)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    archived: bool = False
    default_branch: str = "main"
    actions: dict[str, JSON] = field(
        default_factory=lambda: {
            "enabled": True,
            "allowed_actions": "all",
            "sha_pinning_required": False,
        }
    )
    workflow: dict[str, JSON] = field(
        default_factory=lambda: {
            "default_workflow_permissions": "write",
            "can_approve_pull_request_reviews": True,
        }
    )
    rulesets: list[dict[str, JSON]] = field(default_factory=list)
    protection: dict[str, dict[str, JSON]] = field(default_factory=dict)
    environments: dict[str, dict[str, JSON]] = field(default_factory=dict)
    branch_policies: dict[str, list[dict[str, JSON]]] = field(default_factory=dict)
    protection_apps: dict[str, list[dict[str, JSON]]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    environment_secrets: dict[str, list[str]] = field(default_factory=dict)
    immutable_releases: bool = False
    admins: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    releases: list[dict[str, JSON]] = field(default_factory=list)
    """Releases in GitHub's shape, newest first (see ``GitHub.release``)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags: name -> commit SHA."""
    annotated_tags: dict[str, str] = field(default_factory=dict)
    """The tags of ``tags`` that are annotated: name -> the SHA of their tag object."""
    default_branch_commits: set[str] = field(default_factory=set)
    """Commits the default branch contains (for the compare API)."""
    attestations: dict[str, list[JSON]] = field(default_factory=dict)
    """Sigstore bundles by the hex SHA-256 of their subject."""
    owner_id: int = 0
    """The numeric id of the owner (``owner.id`` in GitHub's repository object)."""
    disabled: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Org:
    login: str
    id: int
    two_factor_requirement_enabled: bool = False
    owners: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    two_factor_disabled: list[str] = field(default_factory=list)
    two_factor_insecure: list[str] = field(default_factory=list)
    actions: dict[str, JSON] = field(
        default_factory=lambda: {
            "enabled_repositories": "all",
            "allowed_actions": "all",
            "sha_pinning_required": False,
        }
    )
    workflow: dict[str, JSON] = field(
        default_factory=lambda: {
            "default_workflow_permissions": "write",
            "can_approve_pull_request_reviews": True,
        }
    )
    rulesets: list[dict[str, JSON]] = field(default_factory=list)
    secrets: list[dict[str, JSON]] = field(default_factory=list)
    immutable_releases: str = "none"
    teams: dict[str, int] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    enterprise_rulesets: list[dict[str, JSON]] = field(default_factory=list)
    """The enterprise's rulesets (the server's one list, shared by every organisation)."""


@dataclass
class Fault:
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    remaining: int
    method: str | None = None


@dataclass
class Counters:
    requests: int = 0
    not_modified: int = 0
    writes: int = 0
    git: int = 0
    """Git smart-HTTP requests (not counted against the REST rate limit, as on GitHub)."""
    by_path: dict[str, int] = field(default_factory=dict)

    @property
    def counted(self) -> int:
        return self.requests - self.not_modified


class Denied(Exception):
    def __init__(self, permission: str, status: int) -> None:
        self.permission = permission
        self.status = status


class Missing(Exception):
    pass


class Invalid(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


Handler = Callable[["Call"], tuple[int, JSON]]


@dataclass
class Call:
    server: GitHub
    method: str
    match: re.Match[str]
    query: dict[str, str]
    body: JSON
    permissions: dict[str, str]
    required: list[str] = field(default_factory=list)
    """The permissions the handler asked for, for ``X-Accepted-GitHub-Permissions``."""

    def need(self, permission: str, level: str = READ, *, denied: int = 403) -> None:
        self.required.append(f"{permission}={level}")
        granted = self.permissions.get(permission)
        if granted is None or (level == WRITE and granted != WRITE):
            raise Denied(f"{permission}={level}", denied)

    def can(self, permission: str, level: str = READ) -> bool:
        granted = self.permissions.get(permission)
        return granted is not None and (level == READ or granted == WRITE)

    def org(self) -> Org:
        org = self.server.orgs.get(self.match.group("org"))
        if org is None:
            raise Missing
        return org

    def repo(self) -> Repo:
        org = self.server.orgs.get(self.match.group("owner"))
        repo = org.repos.get(self.match.group("repo")) if org else None
        if repo is None:
            raise Missing
        if repo.private and not self.permissions:
            raise Missing
        if repo.disabled and self.match.re.pattern != _REPO_PATTERN:
            raise Invalid(403, "Repository access blocked")
        if repo.archived and self.method != "GET":
            raise Invalid(403, "Repository was archived so is read-only.")
        return repo


class GitHub:
    """The state, the routes and the HTTP server; use as a context manager."""

    def __init__(self) -> None:
        self.orgs: dict[str, Org] = {}
        self.tokens: dict[str, dict[str, str]] = {}
        self.classic_tokens: set[str] = set()
        self.enterprise_rulesets: list[dict[str, JSON]] = []
        self.renamed: dict[str, Repo] = {}
        """Old ``owner/name`` -> the repository now answering at another name."""
        self.ghes_version: str | None = None
        self.ghes_immutable_releases = False
        self.org_required_deployments = True
        self.git_disabled = False
        """True plays a server with git over HTTP turned off (bastion falls back to the
        contents API)."""
        self._git_root: Path | None = None
        self._git_built: dict[int, tuple[object, ...]] = {}
        self._git_lock = threading.Lock()
        """Whether organisation rulesets accept ``required_deployments`` (the description
        lists it; ``False`` plays a GitHub that refuses it)."""
        self.latency = 0.0
        self.faults: list[Fault] = []
        self.counters = Counters()
        self.rate_limit = 5000
        self.rate_reset_in = 3600
        self.active = 0
        self.max_active = 0
        self.seen_headers: list[dict[str, str]] = []
        self._lock = threading.RLock()
        self._next_id = 1000
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register_routes()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> GitHub:
        github = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                github.handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._http.daemon_threads = True
        self._http.request_queue_size = 128
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._http is not None
        assert self._thread is not None
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
        if self._git_root is not None:
            shutil.rmtree(self._git_root, ignore_errors=True)

    @property
    def web_url(self) -> str:
        """The web base for ``Host.from_web_url``: the API is then served under /api/v3."""
        assert self._http is not None
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    # Fixtures -----------------------------------------------------------------------------

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def add_org(self, login: str, **fields: Any) -> Org:
        org = Org(login, self.new_id(), **fields)
        org.enterprise_rulesets = self.enterprise_rulesets
        self.orgs[login] = org
        return org

    def add_repo(self, org: Org, name: str, **fields: Any) -> Repo:
        repo = Repo(org.login, name, self.new_id(), owner_id=org.id, **fields)
        org.repos[name] = repo
        return repo

    def add_token(self, value: str, permissions: dict[str, str], *, classic: bool = False) -> str:
        self.tokens[value] = dict(permissions)
        if classic:
            self.classic_tokens.add(value)
        return value

    def rename(self, repo: Repo, new_name: str) -> None:
        """Rename ``repo``; its old name answers with redirects, as GitHub's does."""
        org = self.orgs[repo.owner]
        self.renamed[repo.full_name] = repo
        del org.repos[repo.name]
        repo.name = new_name
        org.repos[new_name] = repo

    def fail(
        self,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        **headers: str,
    ) -> None:
        """Answer the next ``times`` requests (of ``method``, if given) whose path matches
        with ``status``."""
        named = {name.replace("_", "-").lower(): value for name, value in headers.items()}
        self.faults.append(Fault(re.compile(path_pattern), status, named, times, method))

    def ruleset(self, owner: Org | Repo | None, **fields: JSON) -> dict[str, JSON]:
        """Add a ruleset in GitHub's shape to an organisation, a repository, or (``None``)
        the enterprise of every organisation."""
        ruleset: dict[str, JSON] = {
            "id": self.new_id(),
            "name": "ruleset",
            "target": "branch",
            "enforcement": "active",
            "bypass_actors": [],
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
            "rules": [],
        }
        ruleset.update(fields)
        if owner is None:
            ruleset["source_type"] = "Enterprise"
            ruleset["source"] = "enterprise"
            ruleset["conditions"].setdefault(
                "organization_name", {"include": ["~ALL"], "exclude": []}
            )
            ruleset["conditions"].setdefault(
                "repository_name", {"include": ["~ALL"], "exclude": []}
            )
            self.enterprise_rulesets.append(ruleset)
        elif isinstance(owner, Org):
            ruleset["source_type"] = "Organization"
            ruleset["source"] = owner.login
            ruleset["conditions"].setdefault(
                "repository_name", {"include": ["~ALL"], "exclude": [], "protected": True}
            )
            owner.rulesets.append(ruleset)
        else:
            ruleset["source_type"] = "Repository"
            ruleset["source"] = owner.full_name
            owner.rulesets.append(ruleset)
        return ruleset

    def release(
        self,
        repo: Repo,
        tag: str,
        assets: dict[str, bytes],
        *,
        immutable: bool = True,
        digests: bool = True,
    ) -> dict[str, JSON]:
        """Publish a release of ``tag`` with ``assets`` (name -> content) in GitHub's shape;
        each asset's ``digest`` is its SHA-256, as GitHub computes it at upload."""
        release_id = self.new_id()
        release: dict[str, JSON] = {
            "id": release_id,
            "node_id": "RE_X",
            "tag_name": tag,
            "target_commitish": repo.default_branch,
            "name": tag,
            "body": "",
            "draft": False,
            "prerelease": False,
            "immutable": immutable,
            "created_at": "2026-01-01T00:00:00Z",
            "published_at": "2026-01-01T00:00:00Z",
            "html_url": f"/{repo.full_name}/releases/tag/{tag}",
            "assets": [
                {
                    "id": self.new_id(),
                    "node_id": "RA_X",
                    "name": name,
                    "label": "",
                    "state": "uploaded",
                    "content_type": "application/octet-stream",
                    "size": len(data),
                    "digest": "sha256:" + hashlib.sha256(data).hexdigest() if digests else None,
                    "download_count": 0,
                    "browser_download_url": f"/{repo.full_name}/releases/download/{tag}/{name}",
                }
                for name, data in assets.items()
            ],
        }
        repo.releases.insert(0, release)
        return release

    # HTTP ---------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self._handle(request)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        self.seen_headers.append({k.lower(): v for k, v in request.headers.items()})
        parts = urlsplit(request.path)
        path = unquote(parts.path.removeprefix("/api/v3"))
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        method = request.command
        git = re.fullmatch(r"/([^/]+)/([^/]+)\.git/git-upload-pack", parts.path)
        if git is not None and method == "POST":
            self._git(request, git.group(1), git.group(2), raw)
            return
        moved = self._moved(path)
        if moved is not None:
            with self._lock:
                self.counters.requests += 1
            location = f"http://{request.headers.get('Host', '127.0.0.1')}/api/v3{moved}"
            if parts.query:
                location += f"?{parts.query}"
            body = {"message": "Moved Permanently", "url": location}
            status = 301 if method == "GET" else 307
            self._send(request, status, body, {"location": location})
            return
        path = self._by_id(path)
        with self._lock:
            self.counters.requests += 1
            if method != "GET":
                self.counters.writes += 1
            key = f"{method} {_shape(path)}"
            self.counters.by_path[key] = self.counters.by_path.get(key, 0) + 1
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.remaining > 0 and f.pattern.search(path) and f.method in (None, method)
                ),
                None,
            )
            if fault is not None:
                fault.remaining -= 1
        if fault is not None:
            body = {"message": "You have exceeded a secondary rate limit."}
            if fault.headers.get("x-ratelimit-remaining") == "0":
                body = {"message": "API rate limit exceeded"}
            self._send(request, fault.status, body, dict(fault.headers))
            return
        authorization = request.headers.get("Authorization", "")
        permissions: dict[str, str] = {}
        fine_grained = False
        if authorization:
            token = authorization.removeprefix("Bearer ").strip()
            if token not in self.tokens:
                self._send(request, 401, {"message": "Bad credentials"}, {})
                return
            permissions = self.tokens[token]
            fine_grained = token not in self.classic_tokens
        try:
            body_json = json.loads(raw) if raw else None
        except ValueError:
            self._send(request, 400, {"message": "Problems parsing JSON"}, {})
            return
        status, payload, headers = self._dispatch(
            method, path, query, body_json, permissions, fine_grained=fine_grained
        )
        if "link" not in headers and isinstance(payload, Paged):
            payload, link = payload.page(request, query)
            if link:
                headers["link"] = link
        if method == "GET" and status == 200:
            data = _encode(payload)
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            headers["etag"] = etag
            if request.headers.get("If-None-Match") == etag:
                with self._lock:
                    self.counters.not_modified += 1
                self._send(request, 304, None, headers, counted=False)
                return
        self._send(request, status, payload, headers)

    # Git --------------------------------------------------------------------------------

    def _git(self, request: BaseHTTPRequestHandler, owner: str, name: str, body: bytes) -> None:
        """``git-upload-pack`` (protocol v2) over a bare repository holding ``repo.files``
        as one commit on the default branch, served by git's own ``http-backend``."""
        with self._lock:
            self.counters.git += 1
            repo = self._git_repo(owner, name)
        token = _basic_token(request.headers.get("Authorization", ""))
        permissions = self.tokens.get(token or "")
        if repo is None or (repo.private and permissions is None):
            self._send_raw(request, 404, b"Repository not found", "text/plain")
            return
        if repo.disabled or (repo.private and permissions and "contents" not in permissions):
            self._send_raw(request, 403, b"Forbidden", "text/plain")
            return
        if gitserver is None or self.git_disabled:
            self._send_raw(request, 404, b"Not Found", "text/plain")
            return
        with self._git_lock:
            root = self._git_build(repo)
        status, content_type, data = _upload_pack(
            root, f"/{repo.owner}/{repo.name}.git/git-upload-pack", body, request
        )
        self._send_raw(request, status, data, content_type)

    def _git_repo(self, owner: str, name: str) -> Repo | None:
        moved = self.renamed.get(f"{owner}/{name}")
        if moved is not None:
            return moved
        org = self.orgs.get(owner)
        return org.repos.get(name) if org is not None else None

    def _git_build(self, repo: Repo) -> Path:
        """The bare repositories' root, with ``repo``'s current files written (again, when
        they changed since the last request)."""
        assert gitserver is not None
        if self._git_root is None:
            self._git_root = Path(tempfile.mkdtemp(prefix="bastion-settings-git-"))
        key = (
            repo.full_name,
            repo.default_branch,
            tuple(
                sorted((path, hashlib.sha1(data).hexdigest()) for path, data in repo.files.items())
            ),
        )
        if self._git_built.get(repo.id) != key:
            bare = self._git_root / repo.owner / f"{repo.name}.git"
            shutil.rmtree(bare, ignore_errors=True)
            snapshots = [gitserver.Snapshot("head", dict(repo.files))] if repo.files else []
            refs = [gitserver.RefSpec(repo.default_branch, "head")] if repo.files else []
            gitserver.import_repository(
                self._git_root,
                repo.owner,
                repo.name,
                snapshots,
                refs,
                default_branch=repo.default_branch,
            )
            self._git_built[repo.id] = key
        return self._git_root

    def _send_raw(
        self, request: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str
    ) -> None:
        with self._lock:
            self.active -= 1
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _moved(self, path: str) -> str | None:
        """``/repositories/{id}/...`` for a path at a renamed repository's old name."""
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if match is None:
            return None
        repo = self.renamed.get(f"{match.group(1)}/{match.group(2)}")
        if repo is None:
            return None
        return f"/repositories/{repo.id}{match.group(3) or ''}"

    def _by_id(self, path: str) -> str:
        match = re.fullmatch(r"/repositories/(\d+)(/.*)?", path)
        if match is None:
            return path
        number = int(match.group(1))
        for org in self.orgs.values():
            for repo in org.repos.values():
                if repo.id == number:
                    return f"/repos/{repo.full_name}{match.group(2) or ''}"
        return path

    def _send(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        payload: JSON,
        headers: dict[str, str],
        *,
        counted: bool = True,
    ) -> None:
        with self._lock:
            self.active -= 1  # Done working; only the answer's bytes remain.
        data = b"" if payload is None or status in (204, 304) else _encode(payload)
        request.send_response(status)
        with self._lock:
            used = self.counters.counted
        request.send_header("x-ratelimit-limit", str(self.rate_limit))
        request.send_header("x-ratelimit-used", str(used))
        if "x-ratelimit-remaining" not in headers:
            request.send_header("x-ratelimit-remaining", str(max(0, self.rate_limit - used)))
        if "x-ratelimit-reset" not in headers:
            request.send_header("x-ratelimit-reset", str(int(time.time()) + self.rate_reset_in))
        for name, value in headers.items():
            request.send_header(name, value)
        if data:
            request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if data:
            request.wfile.write(data)

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: JSON,
        permissions: dict[str, str],
        *,
        fine_grained: bool = True,
    ) -> tuple[int, JSON, dict[str, str]]:
        for route_method, pattern, handler in self._routes:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match is None:
                continue
            call = Call(self, method, match, query, body, permissions)
            status, payload, headers = self._call(handler, call)
            if permissions and call.required:
                needed = ", ".join(dict.fromkeys(call.required))
                if fine_grained:
                    headers["x-accepted-github-permissions"] = needed
                else:
                    headers["x-accepted-oauth-scopes"] = _scopes(call.required)
            return status, payload, headers
        return 404, {"message": "Not Found"}, {}

    def _call(self, handler: Handler, call: Call) -> tuple[int, JSON, dict[str, str]]:
        try:
            with self._lock:
                status, payload = handler(call)
        except Denied as denied:
            message = (
                "Not Found"
                if denied.status == 404
                else "Resource not accessible by personal access token"
            )
            del call.required[call.required.index(denied.permission) + 1 :]
            return (
                denied.status,
                {"message": message, "documentation_url": "https://docs.github.com/rest"},
                {},
            )
        except Missing:
            return 404, {"message": "Not Found"}, {}
        except Invalid as invalid:
            return invalid.status, {"message": invalid.message}, {}
        return status, payload, {}

    # Routes -------------------------------------------------------------------------------

    def _route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        expanded = (
            pattern.replace("{org}", r"(?P<org>[^/]+)")
            .replace("{owner}", r"(?P<owner>[^/]+)")
            .replace("{repo}", r"(?P<repo>[^/]+)")
            .replace("{id}", r"(?P<id>\d+)")
            .replace("{env}", r"(?P<env>[^/]+)")
            .replace("{branch}", r"(?P<branch>.+)")
            .replace("{path}", r"(?P<path>.+)")
            .replace("{tag}", r"(?P<tag>.+)")
            .replace("{sha}", r"(?P<sha>[0-9a-f]{40})")
            .replace("{digest}", r"(?P<digest>sha256:[0-9a-f]{64})")
        )

        def register(handler: Handler) -> Handler:
            self._routes.append((method, re.compile(expanded), handler))
            return handler

        return register

    def _immutable_endpoint(self) -> None:
        """An Enterprise Server without immutable releases has no such endpoint: 404."""
        if self.ghes_version is not None and not self.ghes_immutable_releases:
            raise Missing

    def _register_routes(self) -> None:
        route = self._route

        # Organisation ---------------------------------------------------------------------
        @route("GET", "/orgs/{org}")
        def get_org(call: Call) -> tuple[int, JSON]:
            org = call.org()
            data: dict[str, JSON] = {"login": org.login, "id": org.id, "type": "Organization"}
            if call.can("organization_administration"):
                data["two_factor_requirement_enabled"] = org.two_factor_requirement_enabled
            return 200, data

        @route("GET", "/orgs/{org}/repos")
        def org_repos(call: Call) -> tuple[int, JSON]:
            org = call.org()
            repos = [
                _repo_object(r, call)
                for r in org.repos.values()
                if not r.private or call.permissions
            ]
            return 200, Paged(repos)

        @route("GET", "/orgs/{org}/members")
        def org_members(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("members")
            kind = call.query.get("filter", "all")
            if kind in ("2fa_disabled", "2fa_insecure"):
                call.need("organization_administration", denied=422)
                logins = (
                    org.two_factor_disabled if kind == "2fa_disabled" else org.two_factor_insecure
                )
            elif call.query.get("role") == "admin":
                logins = org.owners
            else:
                logins = org.owners + org.members
            return 200, Paged([_user(login) for login in logins])

        @route("GET", "/orgs/{org}/actions/permissions")
        def org_actions(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", denied=404)
            return 200, dict(org.actions)

        @route("PUT", "/orgs/{org}/actions/permissions")
        def set_org_actions(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", WRITE)
            org.actions.update(_fields(call.body, org.actions))
            return 204, None

        @route("GET", "/orgs/{org}/actions/permissions/workflow")
        def org_workflow(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", denied=404)
            return 200, dict(org.workflow)

        @route("PUT", "/orgs/{org}/actions/permissions/workflow")
        def set_org_workflow(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", WRITE)
            org.workflow.update(_fields(call.body, org.workflow))
            return 204, None

        @route("GET", "/orgs/{org}/rulesets")
        def org_rulesets(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", WRITE, denied=404)
            return 200, Paged([_summary(r) for r in _targets(org.rulesets, call)])

        @route("GET", "/orgs/{org}/rulesets/{id}")
        def org_ruleset(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", WRITE, denied=404)
            return 200, _find(org.rulesets, int(call.match.group("id")))

        @route("POST", "/orgs/{org}/rulesets")
        def create_org_ruleset(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", WRITE)
            ruleset = _new_ruleset(call, "Organization", org.login)
            org.rulesets.append(ruleset)
            return 201, ruleset

        @route("PUT", "/orgs/{org}/rulesets/{id}")
        def update_org_ruleset(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_administration", WRITE)
            ruleset = _find(org.rulesets, int(call.match.group("id")))
            ruleset.update(_ruleset_fields(call.body))
            return 200, ruleset

        @route("GET", "/orgs/{org}/actions/secrets")
        def org_secrets(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("organization_secrets")
            return 200, Paged(
                [{**_secret(s["name"]), "visibility": s["visibility"]} for s in org.secrets],
                key="secrets",
            )

        @route("GET", "/orgs/{org}/settings/immutable-releases")
        def org_immutable(call: Call) -> tuple[int, JSON]:
            self._immutable_endpoint()
            org = call.org()
            call.need("organization_administration")
            return 200, {"enforced_repositories": org.immutable_releases}

        @route("PUT", "/orgs/{org}/settings/immutable-releases")
        def set_org_immutable(call: Call) -> tuple[int, JSON]:
            self._immutable_endpoint()
            org = call.org()
            call.need("organization_administration", WRITE)
            value = (call.body or {}).get("enforced_repositories")
            if value not in ("all", "none", "selected"):
                raise Invalid(422, "Invalid request: enforced_repositories")
            org.immutable_releases = value
            return 204, None

        @route("GET", "/orgs/{org}/teams/{path}")
        def team(call: Call) -> tuple[int, JSON]:
            org = call.org()
            call.need("members")
            slug = call.match.group("path")
            if slug not in org.teams:
                raise Missing
            return 200, {"id": org.teams[slug], "slug": slug, "name": slug}

        @route("GET", "/users/{path}")
        def user(call: Call) -> tuple[int, JSON]:
            return 200, _user(call.match.group("path"))

        # Repository -----------------------------------------------------------------------
        @route("GET", "/repos/{owner}/{repo}")
        def get_repo(call: Call) -> tuple[int, JSON]:
            return 200, _repo_object(call.repo(), call)

        @route("GET", "/repos/{owner}/{repo}/actions/permissions")
        def repo_actions(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration")
            return 200, dict(repo.actions)

        @route("PUT", "/repos/{owner}/{repo}/actions/permissions")
        def set_repo_actions(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            repo.actions.update(_fields(call.body, repo.actions))
            return 204, None

        @route("GET", "/repos/{owner}/{repo}/actions/permissions/workflow")
        def repo_workflow(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration")
            return 200, dict(repo.workflow)

        @route("PUT", "/repos/{owner}/{repo}/actions/permissions/workflow")
        def set_repo_workflow(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            repo.workflow.update(_fields(call.body, repo.workflow))
            return 204, None

        @route("GET", "/repos/{owner}/{repo}/rulesets")
        def repo_rulesets(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            found = list(repo.rulesets)
            if call.query.get("includes_parents", "true") == "true":
                found = _org_rulesets_for(self.orgs[repo.owner], repo) + found
            return 200, Paged([_summary(r) for r in _targets(found, call)])

        @route("GET", "/repos/{owner}/{repo}/rulesets/{id}")
        def repo_ruleset(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            number = int(call.match.group("id"))
            candidates = list(repo.rulesets) + _org_rulesets_for(self.orgs[repo.owner], repo)
            ruleset = dict(_find(candidates, number))
            editor = {
                "Enterprise": "enterprise_administration",
                "Organization": "organization_administration",
            }.get(ruleset["source_type"], "administration")
            writer = call.can(editor, WRITE)
            if not writer:
                ruleset.pop("bypass_actors", None)
            ruleset["current_user_can_bypass"] = "never"
            return 200, ruleset

        @route("POST", "/repos/{owner}/{repo}/rulesets")
        def create_repo_ruleset(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            ruleset = _new_ruleset(call, "Repository", repo.full_name)
            repo.rulesets.append(ruleset)
            return 201, ruleset

        @route("PUT", "/repos/{owner}/{repo}/rulesets/{id}")
        def update_repo_ruleset(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            ruleset = _find(repo.rulesets, int(call.match.group("id")))
            ruleset.update(_ruleset_fields(call.body))
            return 200, ruleset

        @route("GET", "/repos/{owner}/{repo}/rules/branches/{branch}")
        def branch_rules(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            branch = call.match.group("branch")
            org = self.orgs[repo.owner]
            rules = []
            for ruleset in _org_rulesets_for(org, repo) + repo.rulesets:
                if ruleset["enforcement"] != "active" or ruleset["target"] != "branch":
                    continue
                if not _ref_matches(ruleset, f"refs/heads/{branch}", repo):
                    continue
                for rule in ruleset["rules"]:
                    rules.append(
                        {
                            **rule,
                            "ruleset_source_type": ruleset["source_type"],
                            "ruleset_source": ruleset["source"],
                            "ruleset_id": ruleset["id"],
                        }
                    )
            return 200, Paged(rules)

        @route("GET", "/repos/{owner}/{repo}/branches/{branch}/protection")
        def protection(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration")
            found = repo.protection.get(call.match.group("branch"))
            if found is None:
                raise Invalid(404, "Branch not protected")
            return 200, found

        @route("GET", "/repos/{owner}/{repo}/environments")
        def environments(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("actions")
            items = [_environment(repo, name, call) for name in repo.environments]
            return 200, Paged(items, key="environments")

        @route("GET", "/repos/{owner}/{repo}/environments/{env}")
        def environment(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("actions")
            name = call.match.group("env")
            if name not in repo.environments:
                raise Missing
            return 200, _environment(repo, name, call)

        @route("PUT", "/repos/{owner}/{repo}/environments/{env}")
        def set_environment(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            name = call.match.group("env")
            body = call.body if isinstance(call.body, dict) else {}
            reviewers = list(body.get("reviewers") or [])
            if len(reviewers) > 6:
                raise Invalid(422, "Invalid request: reviewers can have at most 6 items")
            wait = body.get("wait_timer", 0)
            if not isinstance(wait, int) or not 0 <= wait <= 43200:
                raise Invalid(422, "Invalid request: wait_timer must be between 0 and 43200")
            policy = body.get("deployment_branch_policy")
            if policy is not None and policy.get("protected_branches") == policy.get(
                "custom_branch_policies"
            ):
                raise Invalid(422, "Only one of protected_branches and custom_branch_policies")
            previous = repo.environments.get(name, {})
            # Replace: what the body leaves out goes back to its default.
            repo.environments[name] = {
                "reviewers": reviewers,
                "prevent_self_review": bool(body.get("prevent_self_review", False)),
                "wait_timer": wait,
                "deployment_branch_policy": policy,
                "can_admins_bypass": body.get("can_admins_bypass", True),
            }
            if "can_admins_bypass" not in previous and "can_admins_bypass" not in body:
                repo.environments[name].pop("can_admins_bypass")
            return 200, _environment(repo, name, call)

        @route("GET", "/repos/{owner}/{repo}/environments/{env}/deployment-branch-policies")
        def branch_policies(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("actions")
            name = call.match.group("env")
            if name not in repo.environments:
                raise Missing
            return 200, Paged(list(repo.branch_policies.get(name, [])), key="branch_policies")

        @route("POST", "/repos/{owner}/{repo}/environments/{env}/deployment-branch-policies")
        def add_branch_policy(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            name = call.match.group("env")
            if name not in repo.environments:
                raise Missing
            policy = {
                "id": self.new_id(),
                "node_id": "X",
                "name": call.body["name"],
                "type": call.body.get("type", "branch"),
            }
            repo.branch_policies.setdefault(name, []).append(policy)
            return 200, policy

        @route("DELETE", "/repos/{owner}/{repo}/environments/{env}/deployment-branch-policies/{id}")
        def delete_branch_policy(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("administration", WRITE)
            policies = repo.branch_policies.get(call.match.group("env"), [])
            number = int(call.match.group("id"))
            kept = [p for p in policies if p["id"] != number]
            if len(kept) == len(policies):
                raise Missing
            repo.branch_policies[call.match.group("env")] = kept
            return 204, None

        @route("GET", "/repos/{owner}/{repo}/environments/{env}/deployment_protection_rules")
        def protection_rules(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("actions")
            rules = repo.protection_apps.get(call.match.group("env"), [])
            return 200, {
                "total_count": len(rules),
                "custom_deployment_protection_rules": rules,
            }

        @route("GET", "/repos/{owner}/{repo}/actions/secrets")
        def repo_secrets(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("secrets")
            return 200, Paged([_secret(n) for n in repo.secrets], key="secrets")

        @route("GET", "/repos/{owner}/{repo}/actions/organization-secrets")
        def visible_org_secrets(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("secrets")
            org = self.orgs[repo.owner]
            visible = [
                s
                for s in org.secrets
                if s["visibility"] == "all"
                or (s["visibility"] == "private" and repo.private)
                or (s["visibility"] == "selected" and repo.name in s.get("repositories", []))
            ]
            return 200, Paged([_secret(s["name"]) for s in visible], key="secrets")

        @route("GET", "/meta")
        def meta(call: Call) -> tuple[int, JSON]:
            if self.ghes_version is None:
                return 200, {"verifiable_password_authentication": True, "hooks": []}
            return 200, {
                "verifiable_password_authentication": True,
                "installed_version": self.ghes_version,
            }

        @route("GET", "/repos/{owner}/{repo}/immutable-releases")
        def immutable(call: Call) -> tuple[int, JSON]:
            self._immutable_endpoint()
            repo = call.repo()
            call.need("administration", denied=404)
            org = self.orgs[repo.owner]
            enforced = org.immutable_releases == "all"
            if not (repo.immutable_releases or enforced):
                raise Missing
            return 200, {"enabled": True, "enforced_by_owner": enforced}

        @route("PUT", "/repos/{owner}/{repo}/immutable-releases")
        def set_immutable(call: Call) -> tuple[int, JSON]:
            self._immutable_endpoint()
            repo = call.repo()
            call.need("administration", WRITE)
            repo.immutable_releases = True
            return 204, None

        @route("GET", "/repos/{owner}/{repo}/collaborators")
        def collaborators(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            call.need("metadata")
            org = self.orgs[repo.owner]
            if call.query.get("permission") != "admin":
                raise Invalid(422, "only permission=admin is served here")
            logins = list(repo.admins)
            if call.query.get("affiliation", "all") == "all":
                logins = org.owners + [x for x in logins if x not in org.owners]
            return 200, Paged([{**_user(x), "role_name": "admin"} for x in logins])

        # Releases, tags and attestations --------------------------------------------------
        @route("GET", "/repos/{owner}/{repo}/releases/latest")
        def latest_release(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            published = [r for r in repo.releases if not r["draft"] and not r["prerelease"]]
            if not published:
                raise Missing
            return 200, published[0]

        @route("GET", "/repos/{owner}/{repo}/releases/tags/{tag}")
        def release_by_tag(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            tag = call.match.group("tag")
            for release in repo.releases:
                if release["tag_name"] == tag and not release["draft"]:
                    return 200, release
            raise Missing

        @route("GET", "/repos/{owner}/{repo}/git/ref/tags/{tag}")
        def tag_ref(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            tag = call.match.group("tag")
            if tag not in repo.tags:
                raise Missing
            if tag in repo.annotated_tags:  # The ref names the tag object, not the commit.
                sha = repo.annotated_tags[tag]
                target = {"type": "tag", "sha": sha, "url": f"/git/tags/{sha}"}
            else:
                sha = repo.tags[tag]
                target = {"type": "commit", "sha": sha, "url": f"/git/commits/{sha}"}
            return 200, {
                "ref": f"refs/tags/{tag}",
                "node_id": "REF_X",
                "url": f"/repos/{repo.full_name}/git/refs/tags/{tag}",
                "object": target,
            }

        @route("GET", "/repos/{owner}/{repo}/git/tags/{sha}")
        def tag_object(call: Call) -> tuple[int, JSON]:
            # GitHub's "Get a tag": annotated tags only, by the SHA of their tag object.
            repo = call.repo()
            sha = call.match.group("sha")
            tag = next((t for t, s in repo.annotated_tags.items() if s == sha), None)
            if tag is None:
                raise Missing
            commit = repo.tags[tag]
            return 200, {
                "node_id": "TAG_X",
                "tag": tag,
                "sha": sha,
                "url": f"/repos/{repo.full_name}/git/tags/{sha}",
                "message": f"Release {tag}\n",
                "tagger": {
                    "name": "alice",
                    "email": "alice@example.com",
                    "date": "2026-01-01T00:00:00Z",
                },
                "object": {"type": "commit", "sha": commit, "url": f"/git/commits/{commit}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            }

        @route("GET", "/repos/{owner}/{repo}/compare/{path}")
        def compare(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            base, dots, head = call.match.group("path").partition("...")
            if not dots or base != repo.default_branch:
                raise Invalid(404, "Not Found")
            if head in repo.default_branch_commits:
                status, ahead, behind = "behind", 0, 1
            else:
                status, ahead, behind = "diverged", 1, 1
            return 200, {
                "status": status,
                "ahead_by": ahead,
                "behind_by": behind,
                "total_commits": ahead,
                "commits": [],
                "files": [],
            }

        @route("GET", "/repos/{owner}/{repo}/attestations/{digest}")
        def attestations(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            bundles = repo.attestations.get(call.match.group("digest").removeprefix("sha256:"))
            if not bundles:
                raise Missing
            items = [
                {
                    "bundle": bundle,
                    "repository_id": repo.id,
                    "bundle_url": f"https://attestations.invalid/{repo.id}/{n}",
                }
                for n, bundle in enumerate(bundles)
            ]
            return 200, Paged(items, key="attestations")

        @route("GET", "/repos/{owner}/{repo}/contents")
        def root_contents(call: Call) -> tuple[int, JSON]:
            return contents(call)

        @route("GET", "/repos/{owner}/{repo}/contents/{path}")
        def contents(call: Call) -> tuple[int, JSON]:
            repo = call.repo()
            if repo.private:
                call.need("contents")
            path = (call.match.groupdict().get("path") or "").strip("/")
            if path in repo.files:
                data = repo.files[path]
                return 200, {
                    "type": "file",
                    "encoding": "base64",
                    "size": len(data),
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "sha": hashlib.sha1(data).hexdigest(),
                    "content": base64.encodebytes(data).decode("ascii"),
                }
            prefix = path + "/" if path else ""
            children = sorted(
                {p[len(prefix) :].split("/", 1)[0] for p in repo.files if p.startswith(prefix)}
            )
            if not children:
                raise Missing
            entries = []
            for child in children:
                full = prefix + child
                entries.append(
                    {
                        "type": "file" if full in repo.files else "dir",
                        "name": child,
                        "path": full,
                        "sha": hashlib.sha1(repo.files.get(full, b"")).hexdigest(),
                        "size": len(repo.files.get(full, b"")),
                    }
                )
            return 200, entries


class Paged:
    """A list answer, cut into pages by ``per_page`` and ``page`` with a ``Link`` header."""

    def __init__(self, items: list[JSON], key: str | None = None) -> None:
        self.items = items
        self.key = key

    def page(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> tuple[JSON, str]:
        per_page = max(1, min(100, int(query.get("per_page", "30"))))
        number = max(1, int(query.get("page", "1")))
        chunk = self.items[(number - 1) * per_page : number * per_page]
        link = ""
        if number * per_page < len(self.items):
            host = request.headers.get("Host", "127.0.0.1")
            parts = urlsplit(request.path)
            others = {k: v for k, v in parse_qs(parts.query).items() if k != "page"}
            rest = "&".join(f"{k}={v[-1]}" for k, v in others.items())
            base = f"http://{host}{parts.path}?{rest}{'&' if rest else ''}"
            last = (len(self.items) + per_page - 1) // per_page
            link = f'<{base}page={number + 1}>; rel="next", <{base}page={last}>; rel="last"'
        if self.key is None:
            return chunk, link
        return {"total_count": len(self.items), self.key: chunk}, link


def _upload_pack(
    root: Path, path: str, body: bytes, request: BaseHTTPRequestHandler
) -> tuple[int, str, bytes]:
    """Run git's ``http-backend`` as a CGI program: (status, content type, body)."""
    assert gitserver is not None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    protocol = request.headers.get("Git-Protocol")
    if protocol:
        env["HTTP_GIT_PROTOCOL"] = env["GIT_PROTOCOL"] = protocol
    done = subprocess.run(
        [str(gitserver.GIT_HTTP_BACKEND)], input=body, capture_output=True, env=env, check=False
    )
    head, separator, data = done.stdout.partition(b"\r\n\r\n")
    if not separator:
        return 500, "text/plain", done.stderr or b"http-backend gave no answer"
    status, content_type = 200, "application/octet-stream"
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name.lower() == "content-type":
            content_type = value.strip()
    return status, content_type, data


def _basic_token(authorization: str) -> str | None:
    """The token of git's ``Basic x-access-token:TOKEN`` credentials."""
    if not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
    except ValueError:
        return None
    return decoded.partition(":")[2] or None


def _scopes(required: list[str]) -> str:
    """The classic scopes GitHub names for the permissions an endpoint needs."""
    scopes = {
        "organization_administration": "admin:org",
        "members": "read:org",
        "organization_secrets": "admin:org",
        "enterprise_administration": "admin:enterprise",
    }
    names = {scopes.get(item.split("=", 1)[0], "repo") for item in required}
    return ", ".join(sorted(names))


def _encode(payload: JSON) -> bytes:
    return json.dumps(payload, sort_keys=True).encode("utf-8")


def _shape(path: str) -> str:
    """A path with its names replaced, to count requests per endpoint."""
    return re.sub(r"/repos/[^/]+/[^/]+", "/repos/O/R", re.sub(r"/\d+", "/ID", path))


def _user(login: str) -> dict[str, JSON]:
    return {"login": login, "id": abs(hash(login)) % 100000, "type": "User"}


def _secret(name: str) -> dict[str, JSON]:
    return {
        "name": name,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def _repo_object(repo: Repo, call: Call) -> dict[str, JSON]:
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": {"login": repo.owner, "id": repo.owner_id, "type": "Organization"},
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "archived": repo.archived,
        "disabled": repo.disabled,
        "fork": False,
        "default_branch": repo.default_branch,
        "permissions": {
            "admin": call.can("administration"),
            "maintain": call.can("administration"),
            "push": call.can("contents", WRITE),
            "triage": True,
            "pull": True,
        },
    }


def _summary(ruleset: dict[str, JSON]) -> dict[str, JSON]:
    keys = ("id", "name", "target", "source_type", "source", "enforcement")
    return {key: ruleset[key] for key in keys} | {"node_id": "RRS_X", "_links": {}}


def _targets(rulesets: list[dict[str, JSON]], call: Call) -> list[dict[str, JSON]]:
    wanted = call.query.get("targets")
    if not wanted:
        return rulesets
    targets = set(wanted.split(","))
    return [r for r in rulesets if r["target"] in targets]


def _find(rulesets: list[dict[str, JSON]], number: int) -> dict[str, JSON]:
    for ruleset in rulesets:
        if ruleset["id"] == number:
            return ruleset
    raise Missing


def _org_rulesets_for(org: Org, repo: Repo, enterprise: bool = True) -> list[dict[str, JSON]]:
    """The organisation's rulesets for ``repo``, and the enterprise's (the server's)."""
    found = []
    parents = org.rulesets
    if enterprise:
        parents = [*org.enterprise_rulesets, *parents]
    for ruleset in parents:
        names = ruleset["conditions"].get("repository_name")
        if names is None or _name_matches(names, repo.name):
            found.append(ruleset)
    return found


def _name_matches(condition: dict[str, JSON], name: str) -> bool:
    def hit(patterns: list[str]) -> bool:
        return any(p == "~ALL" or fnmatch.fnmatchcase(name, p) for p in patterns)

    return hit(condition.get("include", [])) and not hit(condition.get("exclude", []))


def _ref_matches(ruleset: dict[str, JSON], ref: str, repo: Repo) -> bool:
    condition = ruleset["conditions"].get("ref_name", {"include": [], "exclude": []})

    def hit(patterns: list[str]) -> bool:
        for pattern in patterns:
            if pattern == "~ALL":
                return True
            if pattern == "~DEFAULT_BRANCH":
                if ref == f"refs/heads/{repo.default_branch}":
                    return True
                continue
            if _ref_glob(pattern, ref):
                return True
        return False

    return hit(condition.get("include", [])) and not hit(condition.get("exclude", []))


def _ref_glob(pattern: str, ref: str) -> bool:
    """GitHub's ref patterns: Ruby's ``File.fnmatch`` with ``FNM_PATHNAME``: ``*`` stops at
    ``/``, ``**/`` spans directories, and a ``**`` before anything but ``/`` is a ``*``."""
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex += "(?:[^/]*/)*"
            index += 3
            continue
        char = pattern[index]
        regex += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        index += 1
    return re.fullmatch(regex, ref) is not None


def _fields(body: JSON, current: dict[str, JSON]) -> dict[str, JSON]:
    if not isinstance(body, dict):
        raise Invalid(400, "Problems parsing JSON")
    unknown = set(body) - set(current)
    if unknown:
        raise Invalid(422, f"Invalid request: unknown fields {sorted(unknown)}")
    return body


_RULESET_KEYS = ("name", "target", "enforcement", "bypass_actors", "conditions", "rules")


def _ruleset_fields(body: JSON) -> dict[str, JSON]:
    if not isinstance(body, dict):
        raise Invalid(400, "Problems parsing JSON")
    if body.get("enforcement", "active") not in ("active", "disabled", "evaluate"):
        raise Invalid(422, "Invalid property /enforcement")
    for rule in body.get("rules", []):
        if not isinstance(rule, dict) or "type" not in rule:
            raise Invalid(422, "Invalid property /rules")
    return {key: body[key] for key in _RULESET_KEYS if key in body}


def _new_ruleset(call: Call, source_type: str, source: str) -> dict[str, JSON]:
    fields = _ruleset_fields(call.body)
    if "name" not in fields or "enforcement" not in fields:
        raise Invalid(422, "Invalid request: name and enforcement are required")
    ruleset: dict[str, JSON] = {
        "id": call.server.new_id(),
        "target": "branch",
        "bypass_actors": [],
        "conditions": {},
        "rules": [],
        "source_type": source_type,
        "source": source,
    }
    ruleset.update(fields)
    conditions = set(ruleset["conditions"])
    if (
        source_type == "Organization"
        and not {
            "repository_name",
            "repository_id",
            "repository_property",
        }
        & conditions
    ):
        raise Invalid(422, "Invalid request: a repository condition is required")
    if source_type == "Organization" and not call.server.org_required_deployments:
        for rule in ruleset["rules"]:
            if rule["type"] == "required_deployments":
                raise Invalid(422, "Invalid rule 'required_deployments'")
    return ruleset


def _environment(repo: Repo, name: str, call: Call) -> dict[str, JSON]:
    state = repo.environments[name]
    rules: list[dict[str, JSON]] = []
    if state.get("reviewers"):
        rules.append(
            {
                "id": 1,
                "type": "required_reviewers",
                "prevent_self_review": bool(state.get("prevent_self_review")),
                "reviewers": [
                    {"type": r["type"], "reviewer": {"id": r["id"]}} for r in state["reviewers"]
                ],
            }
        )
    if state.get("wait_timer"):
        rules.append({"id": 2, "type": "wait_timer", "wait_timer": state["wait_timer"]})
    if state.get("deployment_branch_policy"):
        rules.append({"id": 3, "type": "branch_policy"})
    data: dict[str, JSON] = {
        "id": abs(hash((repo.full_name, name))) % 10**9,
        "name": name,
        "protection_rules": rules,
        "deployment_branch_policy": state.get("deployment_branch_policy"),
    }
    if "can_admins_bypass" in state:
        data["can_admins_bypass"] = state["can_admins_bypass"]
    return data


@contextmanager
def running() -> Iterator[GitHub]:
    with GitHub() as github:
        yield github
