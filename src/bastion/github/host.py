"""Which GitHub a run talks to, and the credentials it sends there.

The web base is configurable for GitHub Enterprise Server (``--github-url`` or
``BASTION_GITHUB_URL``); the API base is derived from it. Tokens come from ``GH_TOKEN``, then
``GITHUB_TOKEN``, then ``gh auth token``; a token never appears in a repr, a log or an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bastion.errors import UsageError

DEFAULT_WEB_URL = "https://github.com"
URL_VARIABLE = "BASTION_GITHUB_URL"
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")
UNREACHABLE_HINT = "check the network connection, and the proxy if one is needed (HTTPS_PROXY)"
"""What to do when a host cannot be reached at all (urllib reads the proxy variables)."""


@dataclass(frozen=True, slots=True)
class Host:
    web_url: str
    """The web base without a trailing slash, e.g. ``https://github.example.com``."""
    api_url: str
    """``https://api.github.com`` for github.com, ``https://api.SUB.ghe.com`` for GitHub
    Enterprise Cloud with data residency (``SUB.ghe.com``), ``WEB/api/v3`` for Enterprise
    Server."""

    @classmethod
    def from_web_url(cls, url: str) -> Host:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"GitHub URL {url!r} is not an http(s) URL like {DEFAULT_WEB_URL}")
        if parts.query or parts.fragment:
            raise UsageError(f"GitHub URL {url!r} must not have a query or a fragment")
        web = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        if parts.netloc.lower() in ("github.com", "www.github.com") and not parts.path.strip("/"):
            return cls("https://github.com", "https://api.github.com")
        host = (parts.hostname or "").lower()
        if host.endswith(".ghe.com") and host.count(".") == 2 and not parts.path.strip("/"):
            port = f":{parts.port}" if parts.port else ""
            return cls(f"https://{host}{port}", f"https://api.{host}{port}")
        return cls(web, f"{web}/api/v3")

    @property
    def is_server(self) -> bool:
        """GitHub Enterprise Server (its API under ``/api/v3``), whose features follow its
        installed version."""
        return self.api_url.endswith("/api/v3")

    @property
    def hostname(self) -> str:
        return urlsplit(self.web_url).hostname or ""

    def git_url(self, owner: str, repo: str) -> str:
        """The smart-HTTP URL of a repository."""
        return f"{self.web_url}/{owner}/{repo}.git"


def resolve_host(flag: str | None = None) -> Host:
    """The host named by the flag, else by ``BASTION_GITHUB_URL``, else github.com."""
    return Host.from_web_url(flag or os.environ.get(URL_VARIABLE) or DEFAULT_WEB_URL)


@dataclass(frozen=True, slots=True)
class Token:
    """A credential. Its repr and str hide the value; only ``header()`` reveals it."""

    value: str = field(repr=False)
    source: str
    """Where it came from (an environment variable or ``gh auth token``), for messages."""

    def __str__(self) -> str:
        return f"<token from {self.source}>"

    def header(self) -> str:
        return f"Bearer {self.value}"


def find_token(host: Host, *, use_gh: bool = True) -> Token | None:
    """The first token available: ``GH_TOKEN``, ``GITHUB_TOKEN``, then the gh CLI's."""
    for variable in TOKEN_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return Token(value, variable)
    if not use_gh or shutil.which("gh") is None:
        return None
    try:
        done = subprocess.run(
            ["gh", "auth", "token", "--hostname", host.hostname],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return Token(value, "gh auth token") if done.returncode == 0 and value else None
