"""Benchmark `bastion pin` against a loopback git server with added latency.

Usage: python bench/pin.py [--latency 0.05] [--files 5] [--corpus DIR] [--json]

1. Finds the 30 repositories most used by `uses:` in the corpus, with the ref most often
   written for each (a tag or a branch; a repository always pinned by SHA gets `v3`).
2. Builds one bare repository per action on a loopback git server (git http-backend behind
   tests/pinning/gitserver.py), each with 24 releases over 4 majors (annotated tags, a
   floating major tag) and the branches the refs name; every request waits ``--latency``.
3. Writes ``--files`` workflows that each use all 30 actions, then measures `bastion pin
   --branches` with an empty cache (cold) and again on the original files with the cache it
   left (warm): requests the server saw and wall time. Then `bastion check --online`
   (impostor-commit) over the pinned files, cold and warm.
4. Runs a one-request-per-ref REST resolver (the approach of pinact: `GET commits/{ref}` for
   the SHA and `GET tags` for the version comment, per distinct action and ref) against
   the same server and latency, with the same concurrency.
5. Times `ls-refs` sent as git itself sends it (GET the capability advertisement, then POST)
   against bastion's single POST.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.pinning.gitserver import Loopback, RepoBuilder, ServerState, serve  # noqa: E402

from bastion.cli import main as bastion  # noqa: E402
from bastion.github import git  # noqa: E402
from bastion.github.host import Host  # noqa: E402
from bastion.pinning import resolver  # noqa: E402
from bastion.pinning.rewrite import YamlError, read_sites  # noqa: E402
from bastion.pinning.versions import parse_version  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "current"
TOP = 30


@dataclass(frozen=True, slots=True)
class Action:
    owner: str
    repo: str
    slug: str
    ref: str
    uses: int
    """How many `uses:` of the corpus name the repository."""


def common_actions(corpus: Path) -> list[Action]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    refs: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    slugs: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for path in sorted(corpus.rglob("*.y*ml")):
        try:
            parsed = read_sites(path.read_text(encoding="utf-8").removeprefix("\ufeff"), None)
        except (UnicodeDecodeError, YamlError, OSError):
            continue
        for site in parsed.sites:
            key = (site.uses.owner.lower(), site.uses.repo.lower())
            counts[key] += 1
            slugs[key][site.uses.slug.lower()] += 1
            ref = site.uses.ref or ""
            if ref and not (len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)):
                refs[key][ref] += 1
    actions = []
    for key, count in counts.most_common(TOP):
        ref = refs[key].most_common(1)[0][0] if refs[key] else "v3"
        actions.append(Action(key[0], key[1], slugs[key].most_common(1)[0][0], ref, count))
    return actions


def build_server(root: Path, work: Path, actions: list[Action]) -> dict[tuple[str, str], str]:
    """Create the repositories; return the commit each action's ref names."""
    commits: dict[tuple[str, str], str] = {}
    for action in actions:
        builder = RepoBuilder(root, action.owner, action.repo, work)
        version = parse_version(action.ref)
        majors = max(4, version.major if version else 0)
        for major in range(majors - 3, majors + 1):
            for minor in range(3):
                for patch in range(2):
                    builder.commit(f"release {major}.{minor}.{patch}")
                    builder.tag(f"v{major}.{minor}.{patch}", annotated=True)
            builder.tag(f"v{major}")
        if version is not None and f"v{version.major}" != action.ref:
            builder.tag(action.ref)
        elif version is None and action.ref != "main":
            builder.git("branch", "-f", action.ref)
        builder.commit("work after the last release")
        builder.push()
        commits[(action.owner, action.repo)] = builder.git("rev-parse", action.ref)
    return commits


def workflow(actions: list[Action], index: int) -> str:
    lines = [f"name: ci {index}", "on: push", "permissions: {}", "jobs:"]
    reusable = [a for a in actions if "/.github/workflows/" in a.slug]
    for number, action in enumerate(reusable):
        lines += [f"  call{number}:", f"    uses: {action.slug}@{action.ref}"]
    lines += ["  build:", "    runs-on: ubuntu-latest", "    steps:"]
    lines += [f"      - uses: {a.slug}@{a.ref}" for a in actions if a not in reusable]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Figure:
    what: str
    requests: int
    seconds: float


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def measure(what: str, state: ServerState, run: Callable[[], object]) -> Figure:
    with state.lock:
        state.log.clear()
    start = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run()
    seconds = time.monotonic() - start
    return Figure(what, len(state.log), seconds)


def rest_baseline(
    server: Loopback, actions: list[Action], commits: dict[tuple[str, str], str]
) -> None:
    """Serve the REST shapes a one-request-per-ref resolver reads, from the same repositories."""
    for action in actions:
        base = f"/api/v3/repos/{action.owner}/{action.repo}"
        server.state.rest[f"{base}/commits/{action.ref}"] = {
            "sha": commits[(action.owner, action.repo)]
        }
        host = Host.from_web_url(server.url)
        listing = git.list_refs(git.GitClient(host), action.owner, action.repo)
        server.state.rest[f"{base}/tags?per_page=100"] = [
            {"name": name, "commit": {"sha": sha}} for name, sha in listing.tags.items()
        ]


def rest_resolve(server: Loopback, actions: list[Action], concurrency: int) -> None:
    def one(action: Action) -> None:
        base = f"{server.url}/api/v3/repos/{action.owner}/{action.repo}"
        with urllib.request.urlopen(f"{base}/commits/{action.ref}") as response:
            sha = json.load(response)["sha"]
        with urllib.request.urlopen(f"{base}/tags?per_page=100") as response:
            tags = [t["name"] for t in json.load(response) if t["commit"]["sha"] == sha]
        assert tags or parse_version(action.ref) is None, action

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, actions))


def two_step_ls_refs(url: str, owner: str, repo: str) -> None:
    """ls-refs as git sends it: the capability advertisement first, then the command."""
    request = urllib.request.Request(
        f"{url}/{owner}/{repo}.git/info/refs?service=git-upload-pack",
        headers={"Git-Protocol": "version=2"},
    )
    with urllib.request.urlopen(request) as response:
        assert b"version 2" in response.read()
    git.list_refs(git.GitClient(Host.from_web_url(url)), owner, repo)


def run(corpus: Path, latency: float, files: int) -> dict[str, object]:
    actions = common_actions(corpus)
    distinct_refs = len({(a.owner, a.repo, a.ref) for a in actions})
    with tempfile.TemporaryDirectory(prefix="bastion-pin-bench-") as temporary:
        top = Path(temporary)
        (top / "server").mkdir()
        commits = build_server(top / "server", top / "work", actions)
        state = ServerState(top / "server")
        with contextlib.contextmanager(serve)(state) as server:
            rest_baseline(server, actions, commits)
            original = top / "original" / ".github" / "workflows"
            original.mkdir(parents=True)
            for index in range(files):
                (original / f"ci{index}.yml").write_text(workflow(actions, index))
            workspace = top / "workspace"
            cache = top / "cache"
            state.latency = latency
            figures = []
            with environment(BASTION_GITHUB_URL=server.url, BASTION_CACHE_DIR=str(cache)):
                os.environ.pop("GH_TOKEN", None)
                os.environ.pop("GITHUB_TOKEN", None)

                def pin() -> None:
                    shutil.rmtree(workspace, ignore_errors=True)
                    shutil.copytree(top / "original", workspace)
                    assert bastion(["pin", "--branches", str(workspace)]) == 0

                def verify() -> None:
                    bastion(
                        [
                            "check",
                            "--no-config",
                            "--online",
                            "--select",
                            "impostor-commit",
                            str(workspace),
                        ]
                    )

                for concurrency in (resolver.CONCURRENCY, 1):
                    resolver.CONCURRENCY = concurrency
                    shutil.rmtree(cache, ignore_errors=True)
                    label = f"{concurrency} in flight"
                    figures.append(measure(f"bastion pin, cold cache, {label}", state, pin))
                    texts = [p.read_text() for p in (workspace / ".github/workflows").iterdir()]
                    assert all("@v" not in text.split("jobs:")[1] for text in texts)
                    figures.append(measure(f"bastion pin, warm cache, {label}", state, pin))
                    figures.append(measure(f"check --online, cold, {label}", state, verify))
                    figures.append(measure(f"check --online, warm, {label}", state, verify))
                    figures.append(
                        measure(
                            f"REST, one request per ref (pinact-style), {label}",
                            state,
                            partial(rest_resolve, server, actions, concurrency),
                        )
                    )
                resolver.CONCURRENCY = 8
            one = measure(
                "ls-refs: one POST (bastion)",
                state,
                lambda: git.list_refs(
                    git.GitClient(Host.from_web_url(server.url)), actions[0].owner, actions[0].repo
                ),
            )
            two = measure(
                "ls-refs: GET advertisement + POST (git)",
                state,
                lambda: two_step_ls_refs(server.url, actions[0].owner, actions[0].repo),
            )
            figures += [one, two]
    return {
        "latency_seconds": latency,
        "workflow_files": files,
        "uses_per_file": len(actions),
        "distinct_repositories": len({(a.owner, a.repo) for a in actions}),
        "distinct_refs": distinct_refs,
        "actions": [asdict(a) for a in actions],
        "figures": [asdict(f) for f in figures],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--files", type=int, default=5, help="workflow files to pin")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    arguments = parser.parse_args()
    latency: float = arguments.latency
    result = run(arguments.corpus, latency, arguments.files)
    if arguments.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['workflow_files']} workflows x {result['uses_per_file']} uses, "
        f"{result['distinct_repositories']} distinct repositories, "
        f"{result['distinct_refs']} distinct refs, {latency * 1000:.0f} ms "
        "added per request\n"
    )
    print("| run | requests | wall time |")
    print("|---|---:|---:|")
    figures = result["figures"]
    assert isinstance(figures, list)
    for figure in figures:
        print(f"| {figure['what']} | {figure['requests']} | {figure['seconds']:.2f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
