"""A loopback GitHub serving the whole action dataset, plus small repositories of our own.

Ours (``graphtest/...``) cover what the dataset lacks: a cycle, deep nesting, a malformed
action, a missing file. Built once per session (about 4 s for the 86 repositories).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastion.github.git import GitClient
from bastion.github.host import Host, Token
from bastion.pinning.cache import Cache
from tests.graph.corpus import (
    ACTIONS,
    TranslatingResolver,
    Translation,
    build_corpus,
    corpus_repositories,
)
from tests.pinning.gitserver import (
    Loopback,
    RefSpec,
    ServerState,
    Snapshot,
    have_git,
    import_repository,
    serve,
)

PRIVATE_TOKEN = "open-sesame"


def _composite(*uses: str, run: str = "") -> bytes:
    steps = "".join(f"    - uses: {target}\n" for target in uses)
    if run:
        steps += f"    - run: {run}\n      shell: bash\n"
    return f"name: test\nruns:\n  using: composite\n  steps:\n{steps}".encode()


def _reusable(*uses: str) -> bytes:
    jobs = "".join(f"  call{index}:\n    uses: {target}\n" for index, target in enumerate(uses))
    return f"on:\n  workflow_call:\njobs:\n{jobs}".encode()


def build_ours(root: Path) -> None:
    """The synthetic repositories (see the module docstring)."""
    # A cycle between two composite actions, by tag.
    import_repository(
        root,
        "graphtest",
        "cycle-a",
        [Snapshot("a", {"action.yml": _composite("graphtest/cycle-b@v1")})],
        [RefSpec("v1", "a", tag=True)],
    )
    import_repository(
        root,
        "graphtest",
        "cycle-b",
        [Snapshot("b", {"action.yml": _composite("graphtest/cycle-a@v1")})],
        [RefSpec("v1", "b", tag=True)],
    )
    # Composite actions nested twelve deep: deep/action.yml -> level1 -> ... -> level12.
    files = {
        f"level{n}/action.yml": _composite(f"graphtest/deep/level{n + 1}@main")
        for n in range(1, 12)
    }
    files["level12/action.yml"] = _composite(run="echo bottom")
    import_repository(root, "graphtest", "deep", [Snapshot("tip", files)], [RefSpec("main", "tip")])
    # Reusable workflows chained twelve deep in one repository.
    chain = {
        f".github/workflows/w{n}.yml": _reusable(
            f"graphtest/chain/.github/workflows/w{n + 1}.yml@main"
        )
        for n in range(1, 12)
    }
    chain[".github/workflows/w12.yml"] = (
        b"on: workflow_call\njobs:\n  end:\n    runs-on: x\n    steps:\n      - run: echo\n"
    )
    import_repository(
        root, "graphtest", "chain", [Snapshot("tip", chain)], [RefSpec("main", "tip")]
    )
    # A malformed action, an action without runs, a folder without action.yml, and a
    # folder with only a Dockerfile (which the runner builds and runs), and an action file
    # that is a symlink to another folder's.
    import_repository(
        root,
        "graphtest",
        "broken",
        [
            Snapshot(
                "tip",
                {
                    "bad-yaml/action.yml": b"name: x\nruns:\n  using: composite\n  steps: [\n",
                    "no-runs/action.yml": b"name: x\n",
                    "empty/README.md": b"nothing here\n",
                    "bare/Dockerfile": b"FROM alpine:3\nCOPY run.sh /run.sh\n",
                    "bare/run.sh": b"echo hi\n",
                    "real/action.yml": b"runs:\n  using: node20\n  main: index.js\n",
                },
                links={"linked/action.yml": "../real/action.yml"},
            )
        ],
        [RefSpec("main", "tip"), RefSpec("v1", "tip", tag=True)],
    )
    # 51 reusable workflows, one more than GitHub lets a workflow call.
    leaf = b"on: workflow_call\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"
    many = {f".github/workflows/w{n}.yml": leaf for n in range(1, 52)}
    import_repository(root, "graphtest", "many", [Snapshot("tip", many)], [RefSpec("main", "tip")])
    # A reusable workflow that calls a workflow of its own repository and a ./ action.
    outer = (
        b"on: workflow_call\n"
        b"jobs:\n"
        b"  inner:\n"
        b"    uses: ./.github/workflows/inner.yml\n"
        b"  build:\n"
        b"    runs-on: ubuntu-latest\n"
        b"    steps:\n"
        b"      - uses: ./.github/actions/from-workspace\n"
    )
    inner = (
        b"on: workflow_call\n"
        b"jobs:\n"
        b"  check:\n"
        b"    runs-on: ubuntu-latest\n"
        b"    steps:\n"
        b"      - uses: actions/checkout@v4\n"
    )
    import_repository(
        root,
        "graphtest",
        "reusable",
        [
            Snapshot(
                "tip", {".github/workflows/outer.yml": outer, ".github/workflows/inner.yml": inner}
            )
        ],
        [RefSpec("v1", "tip", tag=True, annotated=True)],
    )
    # Scripts a composite action runs: through the action path, a step variable, a `cd`
    # into the action folder, and the scripts those scripts run in turn.
    scripts_action = (
        b"name: scripts\n"
        b"runs:\n"
        b"  using: composite\n"
        b"  steps:\n"
        b"    - run: $GITHUB_ACTION_PATH/a.sh\n"
        b"      shell: bash\n"
        b'    - run: bash "$SCRIPT"\n'
        b"      shell: bash\n"
        b"      env:\n"
        b"        SCRIPT: ${{ github.action_path }}/x.sh\n"
        b"        UNUSED: ${{ github.action_path }}/unused.sh\n"
        b'    - run: cd "$GITHUB_ACTION_PATH" && ./y.sh\n'
        b"      shell: bash\n"
    )
    import_repository(
        root,
        "graphtest",
        "scripts",
        [
            Snapshot(
                "tip",
                {
                    "action.yml": scripts_action,
                    "a.sh": b'#!/bin/bash\n./lib/b.sh\nsource "$(dirname "$0")/c.sh"\n',
                    "lib/b.sh": b"echo b\n",
                    "c.sh": b'HERE="${BASH_SOURCE%/*}"\n. "$HERE/d.sh"\n',
                    "d.sh": b"echo d\n",
                    "x.sh": b"echo x\n",
                    "y.sh": b"echo y\n",
                    "unused.sh": b"echo unused\n",
                    "unrelated.sh": b"echo unrelated\n",
                },
            )
        ],
        [RefSpec("v1", "tip", tag=True)],
    )
    # A composite action (v1) that runs a script and uses the same repository at v2.
    import_repository(
        root,
        "graphtest",
        "joined",
        [
            Snapshot(
                "one",
                {
                    "action.yml": _composite(
                        "graphtest/joined@v2", run="$GITHUB_ACTION_PATH/run.sh"
                    ),
                    "run.sh": b"echo one\n",
                },
            ),
            Snapshot("two", {"action.yml": b"runs:\n  using: node20\n  main: index.js\n"}),
        ],
        [RefSpec("v1", "one", tag=True), RefSpec("v2", "two", tag=True)],
    )
    # A private repository.
    import_repository(
        root,
        "graphtest",
        "private",
        [Snapshot("tip", {"action.yml": _composite(run="echo")})],
        [RefSpec("v1", "tip", tag=True)],
    )


@dataclass
class World:
    server: Loopback
    translation: Translation

    @property
    def state(self) -> ServerState:
        return self.server.state

    @property
    def url(self) -> str:
        return self.server.url

    def resolver(
        self, cache_dir: Path, *, offline: bool = False, token: str | None = None
    ) -> TranslatingResolver:
        host = Host.from_web_url(self.url)
        credential = Token(token, "GH_TOKEN") if token is not None else None
        resolver = TranslatingResolver(
            host,
            credential,
            Cache(host, cache_dir),
            offline=offline,
            client=GitClient(host, credential, 10.0),
        )
        resolver.translation = self.translation
        return resolver

    def reset(self) -> None:
        with self.state.lock:
            self.state.log.clear()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not have_git():
        pytest.skip("git and git-http-backend are needed for the loopback git server")
    if not ACTIONS.exists():
        pytest.skip(f"{ACTIONS} is not present (the shared folder sits beside the repository)")
    root = tmp_path_factory.mktemp("graph-git")
    translation = Translation()
    build_corpus(root, corpus_repositories(), translation)
    build_ours(root)
    state = ServerState(root, private={"graphtest/private": PRIVATE_TOKEN})
    with contextmanager(serve)(state) as server:
        yield World(server, translation)


@pytest.fixture
def fresh(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world with an empty request log and no token in the environment."""
    world.reset()
    for variable in ("GH_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    return world
