"""Repositories on a loopback GitHub look-alike, shared by the pinning tests.

``acme/tool`` (default branch ``main``)::

    c1 v1.0.0 (annotated) - c2 - c2b v1.1.0 (moved here from c2) - c3 v1.2.0 (annotated), v1
       - c4 v2.0.0 (annotated), v2 - c5 (tip of main)
    release/v1: c3 - r1 v1.3.0 - r2       (r1 is reachable only from a non-default branch)
    refs/pull/1/head: c3 - p1 v1.2.1      (a pull request head, and a tag pushed onto it)

``acme/other`` has one commit tagged ``v3.0.0``; ``acme/private`` needs the token "sesame".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pinning.gitserver import Loopback, RepoBuilder, ServerState, have_git, serve

DAY = 86400.0
TOKEN = "sesame"


@dataclass(frozen=True, slots=True)
class Commits:
    c1: str
    c2: str
    c2b: str
    c3: str
    c4: str
    c5: str
    r1: str
    r2: str
    p1: str
    other: str
    private: str


def build(root: Path, work: Path) -> Commits:
    tool = RepoBuilder(root, "acme", "tool", work)
    c1 = tool.commit("one")
    tool.tag("v1.0.0", annotated=True)
    tool.tag("v1")
    c2 = tool.commit("two")
    tool.tag("v1.1.0")
    tool.tag("v1")
    tool.push()
    c2b = tool.commit("two, fixed")
    tool.tag("v1.1.0")  # moved: force-pushed from c2 to c2b
    c3 = tool.commit("three")
    tool.tag("v1.2.0", annotated=True)
    tool.tag("v1")  # the floating major tag follows the newest v1 release
    tool.push()
    tool.git("checkout", "-q", "-b", "release/v1")
    r1 = tool.commit("backport")
    tool.tag("v1.3.0")
    r2 = tool.commit("backport, continued")
    tool.push()
    tool.git("checkout", "-q", "--detach", c3)
    p1 = tool.commit("from a fork")
    tool.push("HEAD:refs/pull/1/head")
    tool.tag("v1.2.1", annotated=True)
    tool.push("refs/tags/v1.2.1")
    tool.git("checkout", "-q", "main")
    c4 = tool.commit("four")
    tool.tag("v2.0.0", annotated=True)
    tool.tag("v2")
    c5 = tool.commit("five")
    tool.push()
    other = RepoBuilder(root, "acme", "other", work)
    other_commit = other.commit("only")
    other.tag("v3.0.0")
    other.push()
    private = RepoBuilder(root, "acme", "private", work)
    private_commit = private.commit("secret")
    private.tag("v1.0.0")
    private.push()
    return Commits(c1, c2, c2b, c3, c4, c5, r1, r2, p1, other_commit, private_commit)


def releases(now: float) -> list[dict[str, object]]:
    def release(tag: str, days: float, **extra: object) -> dict[str, object]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days * DAY))
        return {"tag_name": tag, "published_at": stamp, "draft": False, **extra}

    return [
        release("v2.0.0", 20),
        release("v1.3.0", 2),
        release("v1.2.0", 30),
        release("v1.1.0", 60),
        release("v1.0.0", 100),
        release("v9.0.0", 1, draft=True),
    ]


@dataclass
class World:
    server: Loopback
    commits: Commits

    @property
    def state(self) -> ServerState:
        return self.server.state

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not have_git():
        pytest.skip("git and git-http-backend are needed for the loopback git server")
    root = tmp_path_factory.mktemp("git-server")
    commits = build(root, tmp_path_factory.mktemp("git-work"))
    state = ServerState(root, private={"acme/private": TOKEN})
    state.rest["/api/v3/repos/acme/tool/releases"] = releases(time.time())
    with contextmanager(serve)(state) as server:
        yield World(server, commits)


@pytest.fixture
def fresh(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The shared world with an empty request log and cache, and no token in sight."""
    with world.state.lock:
        world.state.log.clear()
    world.state.latency = 0.0
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BASTION_GITHUB_URL", world.url)
    for variable in ("GH_TOKEN", "GITHUB_TOKEN", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `gh` to ask for a token
    return world
