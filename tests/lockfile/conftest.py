"""Action repositories on the loopback git server of tests/pinning, with the REST answers
``bastion lock`` asks for (``GET /repos/{owner}/{repo}``: ``id`` and ``owner.id``).

``actions/checkout``: c1 ``v4.3.0`` - c2 ``v4.3.1``, ``v4`` (main); a JavaScript action.
``acme/setup``: s1 ``v1`` (main): a composite action using ``actions/checkout@v4`` and
``acme/docker@v1``, with a JavaScript action in ``save/``; p1 on ``refs/pull/1/head`` only,
with the tag ``v2.0.0`` pushed onto it (an impostor commit).
``acme/docker``: d1 ``v1`` (main): a docker action building its ``Dockerfile``.
``acme/tool``: t1 ``v3.0.0`` - t2 ``v3.1.0`` - t3 ``v3`` (main), and t4 ``v3.2.0`` on a
branch from t1: ``v3`` has moved past its last release, and the newest release is elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pinning.gitserver import Loopback, RepoBuilder, ServerState, have_git, serve

IDS = {
    "actions/checkout": (44036562, 197814629),
    "acme/setup": (7001, 8001),
    "acme/docker": (7001, 8002),
}
TOOL_IDS = (7001, 8003)
"""acme/tool's, apart: only the narrowing test asks for it."""

NODE_ACTION = "name: checkout\nruns:\n  using: node20\n  main: index.js\n"
SETUP_ACTION = """name: setup
runs:
  using: composite
  steps:
    - uses: actions/checkout@v4
    - uses: acme/docker@v1
    - run: echo set up
      shell: bash
"""
DOCKER_ACTION = "name: docker\nruns:\n  using: docker\n  image: Dockerfile\n"


@dataclass(frozen=True, slots=True)
class Commits:
    c1: str
    c2: str
    s1: str
    p1: str
    d1: str
    t1: str
    t2: str
    t3: str
    t4: str


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


def _commit(repo: RepoBuilder, message: str, files: dict[str, str]) -> str:
    for path, text in files.items():
        target = repo.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    repo.git("add", "-A")
    return repo.commit(message)


def build(root: Path, work: Path) -> Commits:
    checkout = RepoBuilder(root, "actions", "checkout", work)
    c1 = _commit(checkout, "one", {"action.yml": NODE_ACTION, "index.js": "1\n"})
    checkout.tag("v4.3.0")
    c2 = _commit(checkout, "two", {"index.js": "2\n"})
    checkout.tag("v4.3.1")
    checkout.tag("v4")
    checkout.push()
    setup = RepoBuilder(root, "acme", "setup", work)
    s1 = _commit(setup, "setup", {"action.yml": SETUP_ACTION, "save/action.yml": NODE_ACTION})
    setup.tag("v1")
    setup.push()
    setup.git("checkout", "-q", "--detach", s1)
    p1 = _commit(setup, "from a fork", {"fork.txt": "x\n"})
    setup.push("HEAD:refs/pull/1/head")
    setup.tag("v2.0.0")
    setup.push("refs/tags/v2.0.0")
    docker = RepoBuilder(root, "acme", "docker", work)
    files = {"action.yml": DOCKER_ACTION, "Dockerfile": "FROM alpine:3\n"}
    d1 = _commit(docker, "docker", files)
    docker.tag("v1")
    docker.push()
    tool = RepoBuilder(root, "acme", "tool", work)
    t1 = _commit(tool, "3.0.0", {"action.yml": NODE_ACTION})
    tool.tag("v3.0.0")
    t2 = _commit(tool, "3.1.0", {"index.js": "2\n"})
    tool.tag("v3.1.0")
    t3 = _commit(tool, "after 3.1.0", {"index.js": "3\n"})
    tool.tag("v3")
    tool.git("checkout", "-q", "-b", "side", t1)
    t4 = _commit(tool, "3.2.0", {"index.js": "4\n"})
    tool.tag("v3.2.0")
    tool.git("checkout", "-q", "main")
    tool.push()
    return Commits(c1, c2, s1, p1, d1, t1, t2, t3, t4)


def repository_answer(slug: str) -> dict[str, object]:
    owner, name = slug.split("/")
    owner_id, repo_id = IDS.get(slug, TOOL_IDS)
    return {
        "id": repo_id,
        "name": name,
        "full_name": slug,
        "owner": {"login": owner, "id": owner_id, "type": "Organization"},
        "private": False,
    }


@pytest.fixture(scope="session")
def lock_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not have_git():
        pytest.skip("git and git-http-backend are needed for the loopback git server")
    root = tmp_path_factory.mktemp("lock-server")
    commits = build(root, tmp_path_factory.mktemp("lock-work"))
    state = ServerState(root)
    for slug in [*IDS, "acme/tool"]:
        state.rest[f"/api/v3/repos/{slug}"] = repository_answer(slug)
    with contextmanager(serve)(state) as server:
        yield World(server, commits)


@pytest.fixture
def world(lock_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The shared world with an empty request log and cache, and no token in sight."""
    with lock_world.state.lock:
        lock_world.state.log.clear()
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BASTION_GITHUB_URL", lock_world.url)
    for variable in ("GH_TOKEN", "GITHUB_TOKEN", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return lock_world
