"""A small client for GitHub's REST API on urllib: conditional requests, pagination, limits.

* Every GET that GitHub answers with an ``ETag`` is cached on disk (``BASTION_CACHE_DIR``,
  else ``$XDG_CACHE_HOME/bastion``, else ``~/.cache/bastion``), per URL and per token, so a
  re-run sends ``If-None-Match`` and gets ``304 Not Modified``, which does not count against
  the primary rate limit.
* ``Retry-After`` (secondary limits, 429) and ``x-ratelimit-reset`` (primary limit exhausted)
  are honoured, but only up to ``max_wait`` seconds; a longer wait raises ``RateLimitError``.
* A semaphore bounds the requests in flight; callers bring their own threads.
* Errors are ``ApiError``: status, method, endpoint, GitHub's message and, when GitHub sends
  ``X-Accepted-GitHub-Permissions``, the permissions the endpoint accepts. GitHub sends that
  header on *every* answer to a fine-grained token or an App (changelog 2023-08-10), so its
  presence says what the endpoint needs, never that the token lacks it. The token is never
  part of a message, a repr or the cache (only a digest of it names the cache's partition).
* Only a 2xx answer is a success. GETs follow same-host redirects (a renamed repository
  answers 301); a write is never redirected (GitHub answers 307 to writes at a renamed
  repository's old name), so a redirect or any other status raises ``ApiError`` and no
  caller can count an unwritten change as written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bastion import __version__
from bastion.errors import BastionError
from bastion.github.git import GitClient
from bastion.github.host import UNREACHABLE_HINT, Host, Token

API_VERSION = "2022-11-28"
JSON_MEDIA_TYPE = "application/vnd.github+json"
CACHE_VARIABLE = "BASTION_CACHE_DIR"
CACHE_FORMAT = 1
DEFAULT_CONCURRENCY = 8
"""Far below GitHub's 100 concurrent requests, and polite to Enterprise Server."""

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_CACHED_HEADERS = ("link", "content-type", "x-accepted-github-permissions")
_RETRYABLE_NETWORK_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    """Response headers with lower-case names."""
    data: Any
    """The parsed JSON body, or None when there is none (204) or it is not JSON."""
    body: bytes = b""
    from_cache: bool = False
    """True when GitHub answered 304 and the body came from the ETag cache."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class ApiError(BastionError):
    """GitHub answered with an error status, or could not be reached (``status`` 0)."""

    def __init__(
        self,
        status: int,
        method: str,
        endpoint: str,
        message: str,
        *,
        permission: str | None = None,
        scopes: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.endpoint = endpoint
        self.message = message
        self.permission = permission
        """GitHub's ``X-Accepted-GitHub-Permissions`` as sent, e.g. ``administration=read``."""
        self.scopes = scopes
        """The classic OAuth scopes GitHub says the endpoint accepts."""
        self.headers: Mapping[str, str] = headers or {}
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.endpoint}"
        if self.status == 0:
            return f"{where}: {self.message}"
        text = f"{where}: {self.status} {self.message}"
        needs = []
        if self.permission:
            needs.append(f"permission {describe_permissions(self.permission)}")
        if self.scopes:
            needs.append(f"classic scope {self.scopes}")
        if needs:
            text += f" (the endpoint needs {' or '.join(needs)})"
        return text


def permission_sets(header: str) -> list[list[str]]:
    """``X-Accepted-GitHub-Permissions`` as alternatives: ``;`` separates sets of which any
    one suffices, ``,`` the permissions a set needs together (changelog 2023-08-10)."""
    found = []
    for alternative in header.split(";"):
        needed = [part.strip() for part in alternative.split(",") if part.strip()]
        if needed:
            found.append(needed)
    return found


def describe_permissions(header: str) -> str:
    """``a=read, b=read`` or ``c=write``: every alternative, each with all it needs."""
    return " or ".join(" and ".join(needed) for needed in permission_sets(header)) or header


class RateLimitError(ApiError):
    """The rate limit is exhausted for longer than the client is allowed to wait."""


@dataclass(slots=True)
class Statistics:
    """What a client sent, for benchmarks and progress messages."""

    requests: int = 0
    """HTTP exchanges, retries included."""
    not_modified: int = 0
    """Answers of 304, which do not count against the primary rate limit."""
    retries: int = 0
    waited: float = 0.0
    """Seconds spent waiting for rate limits."""

    @property
    def counted(self) -> int:
        """Requests that count against the primary rate limit."""
        return self.requests - self.not_modified


@dataclass(slots=True)
class _Entry:
    etag: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass(slots=True)
class _Gate:
    """Shared pause: when GitHub says wait, every thread waits."""

    until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def default_cache_dir() -> Path:
    explicit = os.environ.get(CACHE_VARIABLE)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "bastion"


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects of reads, but never carry the token to another host; writes are
    never redirected (their 3xx answer reaches the caller as an error)."""

    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if req.get_method() not in ("GET", "HEAD"):
            return None
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


class RestClient:
    """GitHub's REST API at one host, with one token (or none)."""

    def __init__(
        self,
        host: Host,
        token: Token | None,
        *,
        cache_dir: Path | None = None,
        use_cache: bool = True,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_wait: float = 120.0,
        max_retries: int = 4,
        write_interval: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self._token = token
        self._api = host.api_url.rstrip("/")
        self._api_netloc = urlsplit(self._api).netloc
        self._cache = (cache_dir or default_cache_dir()) / "http" if use_cache else None
        self._partition = _partition(host, token)
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._gate = _Gate()
        self._write_lock = threading.Lock()
        self._last_write = 0.0
        self._stats_lock = threading.Lock()
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.write_interval = write_interval
        self.timeout = timeout
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_SameHostRedirects())
        self.stats = Statistics()
        self.git = GitClient(host, token, timeout)
        """Git's smart HTTP at the same host with the same token: its requests do not count
        against the REST rate limit (``git.counter`` counts them)."""

    def __repr__(self) -> str:
        return f"RestClient({self._api!r}, token={self._token})"

    # Public API -------------------------------------------------------------------------

    def get(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        accept: str = JSON_MEDIA_TYPE,
    ) -> Response:
        """GET one resource; raises ApiError for any status of 400 or more."""
        return self._exchange("GET", self._url(path, params), None, accept)

    def paginate(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        key: str | None = None,
    ) -> Iterator[Any]:
        """Every item of a list endpoint, page after page, following ``Link: rel="next"``.

        Lists come either as a JSON array or as an object holding the array (``secrets``,
        ``environments``); ``key`` names that field, else the first array field is used.
        """
        query: dict[str, str | int] = {"per_page": 100}
        query.update(params or {})
        url: str | None = self._url(path, query)
        while url is not None:
            response = self._exchange("GET", url, None, JSON_MEDIA_TYPE)
            yield from _items(response.data, key)
            url = _next_link(response.header("link"))
            if url is not None and urlsplit(url).netloc != self._api_netloc:
                raise ApiError(
                    response.status,
                    "GET",
                    _endpoint(url),
                    "the next page is on another host; refusing to send the token there",
                )

    def request(self, method: str, path: str, body: object | None = None) -> Response:
        """A write (POST, PUT, PATCH, DELETE), spaced ``write_interval`` apart as GitHub asks."""
        with self._write_lock:
            pause = self._last_write + self.write_interval - time.monotonic()
            if pause > 0:
                self._sleep(pause)
            try:
                return self._exchange(method.upper(), self._url(path, None), body, JSON_MEDIA_TYPE)
            finally:
                self._last_write = time.monotonic()

    # Internals --------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str | int] | None) -> str:
        if path.startswith(("http://", "https://")):
            if urlsplit(path).netloc != self._api_netloc:
                raise ApiError(0, "GET", _endpoint(path), "refusing a URL outside the API host")
            url = path
        else:
            url = self._api + "/" + path.lstrip("/")
        if params:
            url += ("&" if "?" in url else "?") + urlencode(
                {name: str(value) for name, value in params.items()}
            )
        return url

    def _exchange(self, method: str, url: str, body: object | None, accept: str) -> Response:
        cached = self._cached(url, accept) if method == "GET" else None
        network_failures = 0
        attempt = 0
        while True:
            self._wait_for_gate(method, url)
            request = self._build(method, url, body, accept, cached)
            try:
                with self._slots:
                    self._count(requests=1)
                    with self._opener.open(request, timeout=self.timeout) as raw:
                        status, headers, payload = raw.status, _headers(raw.headers), raw.read()
            except urllib.error.HTTPError as error:
                status, headers = error.code, _headers(error.headers)
                try:
                    payload = error.read()
                except OSError:
                    payload = b""
                finally:
                    error.close()
            except (urllib.error.URLError, OSError, TimeoutError) as error:
                network_failures += 1
                if network_failures < _RETRYABLE_NETWORK_ATTEMPTS and method == "GET":
                    self._count(retries=1)
                    self._sleep(0.5 * network_failures)
                    continue
                reason = getattr(error, "reason", None) or error
                raise ApiError(
                    0,
                    method,
                    _endpoint(url),
                    f"cannot reach {self.host.api_url}: {reason}; {UNREACHABLE_HINT}",
                ) from None
            self._note_limits(headers)
            if status == 304 and cached is not None:
                self._count(not_modified=1)
                merged = dict(cached.headers)
                merged.update({k: v for k, v in headers.items() if k.startswith("x-ratelimit")})
                return _response(cached.status, merged, cached.body, from_cache=True)
            if 200 <= status < 300:
                if method == "GET" and "etag" in headers and status == 200:
                    self._store(url, accept, headers, payload, status)
                return _response(status, headers, payload)
            wait = self._limit_wait(status, headers, payload, attempt)
            if wait is not None and attempt < self.max_retries:
                if wait > self.max_wait:
                    raise _error(
                        status, method, url, headers, payload, kind=RateLimitError, wait=wait
                    )
                attempt += 1
                self._count(retries=1)
                self._pause(wait)
                continue
            kind = RateLimitError if wait is not None else ApiError
            raise _error(status, method, url, headers, payload, kind=kind, wait=wait)

    def _build(
        self, method: str, url: str, body: object | None, accept: str, cached: _Entry | None
    ) -> urllib.request.Request:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", accept)
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", f"bastion/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token is not None:
            request.add_header("Authorization", self._token.header())
        if cached is not None:
            request.add_header("If-None-Match", cached.etag)
        return request

    def _limit_wait(
        self, status: int, headers: Mapping[str, str], payload: bytes, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying, when the error is a rate limit; else None."""
        if status not in (403, 429):
            return None
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return 60.0
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _number(headers.get("x-ratelimit-reset"))
            return max(1.0, reset - time.time()) if reset is not None else 60.0
        if status == 429 or b"rate limit" in payload.lower():
            # Secondary limit without a Retry-After: wait a minute, then back off.
            return 60.0 * float(2**attempt)
        return None

    def _note_limits(self, headers: Mapping[str, str]) -> None:
        """When the primary limit is spent, hold every thread until it resets."""
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _number(headers.get("x-ratelimit-reset"))
            if reset is not None:
                until = time.monotonic() + max(0.0, reset - time.time())
                with self._gate.lock:
                    self._gate.until = max(self._gate.until, until)

    def _pause(self, seconds: float) -> None:
        with self._gate.lock:
            self._gate.until = max(self._gate.until, time.monotonic() + seconds)
        self._wait_for_gate()

    def _wait_for_gate(self, method: str = "GET", url: str = "") -> None:
        with self._gate.lock:
            deadline = self._gate.until
            remaining = deadline - time.monotonic()
        if remaining > 0:
            if remaining > self.max_wait:
                when = time.strftime("%H:%M UTC", time.gmtime(time.time() + remaining))
                raise RateLimitError(
                    403,
                    method,
                    _endpoint(url or self._api),
                    f"the rate limit is exhausted until {when}, longer than the "
                    f"{self.max_wait:.0f} s bastion waits; run again then (answers cached "
                    "so far make the next run cheaper)",
                )
            self._count(waited=remaining)
            self._sleep(remaining)
            with self._gate.lock:
                if self._gate.until <= deadline:
                    self._gate.until = 0.0  # Waited out; a later limit sets a new deadline.

    def _count(
        self, requests: int = 0, not_modified: int = 0, retries: int = 0, waited: float = 0.0
    ) -> None:
        with self._stats_lock:
            self.stats.requests += requests
            self.stats.not_modified += not_modified
            self.stats.retries += retries
            self.stats.waited += waited

    # The ETag cache ---------------------------------------------------------------------

    def _cache_path(self, url: str, accept: str) -> Path | None:
        if self._cache is None:
            return None
        digest = hashlib.sha256(f"{accept}\n{url}".encode()).hexdigest()
        return self._cache / self._partition / digest[:2] / f"{digest}.json"

    def _cached(self, url: str, accept: str) -> _Entry | None:
        path = self._cache_path(url, accept)
        if path is None:
            return None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("format") != CACHE_FORMAT or stored.get("url") != url:
                return None
            return _Entry(
                str(stored["etag"]),
                {str(k): str(v) for k, v in stored["headers"].items()},
                base64.b64decode(stored["body"]),
                int(stored["status"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _store(
        self, url: str, accept: str, headers: Mapping[str, str], payload: bytes, status: int
    ) -> None:
        path = self._cache_path(url, accept)
        if path is None:
            return
        kept = {name: headers[name] for name in (*_CACHED_HEADERS, "etag") if name in headers}
        record = {
            "format": CACHE_FORMAT,
            "url": url,
            "etag": headers["etag"],
            "status": status,
            "headers": kept,
            "body": base64.b64encode(payload).decode("ascii"),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
            temporary.write_text(json.dumps(record), encoding="utf-8")
            os.replace(temporary, path)
        except OSError:
            pass  # The cache only saves requests; a read-only home must not fail the run.


def _partition(host: Host, token: Token | None) -> str:
    """A directory per host and token: ETags and bodies differ with the caller's rights."""
    secret = token.header() if token is not None else "anonymous"
    return hashlib.sha256(f"{host.api_url}\n{secret}".encode()).hexdigest()[:24]


def _headers(message: Message | None) -> dict[str, str]:
    if message is None:
        return {}
    return {name.lower(): value for name, value in message.items()}


def _response(
    status: int, headers: Mapping[str, str], payload: bytes, *, from_cache: bool = False
) -> Response:
    data: Any = None
    if payload and "json" in headers.get("content-type", "application/json"):
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
    return Response(status, dict(headers), data, payload, from_cache)


def _error(
    status: int,
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    *,
    kind: type[ApiError],
    wait: float | None,
) -> ApiError:
    message = _message(payload) or _REASONS.get(status, "error")
    if 300 <= status < 400:
        target = headers.get("location", "")
        message = (
            f"GitHub redirected the {method} to {_endpoint(target) if target else 'elsewhere'}; "
            "a write is not resent to another address, so nothing was changed (a renamed "
            "repository: use its current name)"
            if method != "GET"
            else f"GitHub redirected the request to {_endpoint(target) or 'elsewhere'}"
        )
    if kind is RateLimitError and wait is not None:
        message += f" (GitHub asks to wait {wait:.0f} s)"
    return kind(
        status,
        method,
        _endpoint(url),
        message,
        permission=headers.get("x-accepted-github-permissions") or None,
        scopes=headers.get("x-accepted-oauth-scopes") or None,
        headers=dict(headers),
    )


_REASONS = {
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect: nothing was written",
    308: "Permanent Redirect: nothing was written",
    400: "Bad Request",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
}


def _message(payload: bytes) -> str:
    try:
        document = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    message = str(document.get("message", ""))
    errors = document.get("errors")
    if isinstance(errors, list) and errors:
        details = [
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
            for e in errors
        ]
        message += ": " + "; ".join(details)
    return message[:500]


def _endpoint(url: str) -> str:
    """The path of a URL, for messages (queries may be long; no credentials are in URLs)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        match = _NEXT_LINK.search(part)
        if match:
            return match.group(1)
    return None


def _items(data: Any, key: str | None) -> Iterator[Any]:
    if isinstance(data, list):
        yield from data
        return
    if isinstance(data, dict):
        if key is not None:
            value = data.get(key)
            if isinstance(value, list):
                yield from value
            return
        for value in data.values():
            if isinstance(value, list):
                yield from value
                return
