"""Benchmark the action graph against a loopback git server with added latency.

Usage: python bench/graph.py [--latency 0.05] [--corpus DIR] [--json]

1. Serves the 86 repositories of ``shared/corpus/actions`` from git's own http-backend on
   loopback (tests/graph/corpus.py: each commit folder a commit, the real refs), every
   request delayed by ``--latency`` seconds.
2. Takes every workflow of ``shared/corpus/current`` whose ``uses:`` of repositories all name
   repositories of the dataset, and resolves their graph at once (their ``./`` actions read
   from each project's folder): cold (empty cache), then warm (the cache it left).
3. Counts what fetching the same files through the REST contents API would need: one
   ``GET /repos/O/R/commits/REF`` per distinct (repository, ref) that is not a full SHA, and
   one ``GET /repos/O/R/contents/PATH?ref=SHA`` per file fetched (two where the action file
   is ``action.yaml``, found after ``action.yml`` is missing; one wasted probe per missing
   file). Its wall time is estimated: the warm run's reading and parsing, plus the requests
   sent eight at a time, level after level, at the same latency.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.graph.corpus import (  # noqa: E402
    TranslatingResolver,
    Translation,
    build_corpus,
    corpus_repositories,
)
from tests.pinning.gitserver import Logged, ServerState, serve  # noqa: E402

from bastion.github.git import GitClient  # noqa: E402
from bastion.github.host import Host  # noqa: E402
from bastion.graph.resolve import RootFile, load_roots, parse_view, resolve_graph  # noqa: E402
from bastion.model.graph import Graph, NodeKind, ProblemKind  # noqa: E402
from bastion.model.uses import UsesKind  # noqa: E402
from bastion.model.workflow import Workflow  # noqa: E402
from bastion.pinning.cache import Cache  # noqa: E402
from bastion.pinning.resolver import CONCURRENCY  # noqa: E402
from bastion.source.yaml import YamlError  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "current"


def corpus_roots(corpus: Path, dataset: set[str]) -> tuple[list[RootFile], int]:
    """The workflows whose repository ``uses:`` all name dataset repositories."""
    roots: list[RootFile] = []
    considered = 0
    for project in sorted(p for p in corpus.iterdir() if p.is_dir()):
        found, _, _ = load_roots(project)
        for root in found:
            if root.is_action:
                continue
            considered += 1
            if _all_in_dataset(root, dataset):
                roots.append(
                    RootFile(f"{project.name}/{root.path}", root.text, False, project.name)
                )
    return roots, considered


def _all_in_dataset(root: RootFile, dataset: set[str]) -> bool:
    try:
        view = parse_view(root.path, root.text, action=False)
    except YamlError:
        return False
    if not isinstance(view, Workflow):
        return False
    uses = [job.uses for job in view.jobs if job.uses is not None]
    uses += [step.uses for job in view.jobs for step in job.steps if step.uses is not None]
    remote = [u for u in uses if u.kind is UsesKind.REPOSITORY]
    return bool(remote) and all(f"{u.owner}/{u.repo}".lower() in dataset for u in remote)


def rest_requests(graph: Graph) -> int:
    """Requests the REST contents approach would send for the same graph."""
    refs = {
        (e.parsed.owner.lower(), e.parsed.repo.lower(), e.parsed.ref)
        for e in graph.edges
        if e.parsed.kind is UsesKind.REPOSITORY and e.parsed.ref and not e.parsed.is_sha_pinned
    }
    files = 0
    for node in graph.nodes.values():
        if node.key.is_checkout or node.kind is NodeKind.IMAGE:
            continue
        files += len(node.files)
        if node.metadata.endswith("action.yaml"):
            files += 1  # action.yml asked for first
    missing = sum(1 for p in graph.problems if p.kind is ProblemKind.FILE_MISSING)
    return len(refs) + files + missing


def distinct_commits(graph: Graph) -> int:
    return len(
        {
            (k.owner.lower(), k.repo.lower(), k.commit)
            for k in graph.nodes
            if k.commit and not k.is_checkout
        }
    )


def run(corpus: Path, latency: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bastion-graph-bench-") as scratch:
        root = Path(scratch) / "git"
        translation = Translation()
        started = time.perf_counter()
        dataset = corpus_repositories()
        build_corpus(root, dataset, translation)
        build_seconds = time.perf_counter() - started
        roots, considered = corpus_roots(corpus, {slug.lower() for slug in dataset})
        state = ServerState(root)
        with contextmanager(serve)(state) as server:
            host = Host.from_web_url(server.url)
            cache_dir = Path(scratch) / "cache"

            def resolve() -> tuple[Graph, float, int, dict[str, int]]:
                with state.lock:
                    state.log.clear()
                resolver = TranslatingResolver(
                    host, None, Cache(host, cache_dir), client=GitClient(host, None, 60.0)
                )
                resolver.translation = translation
                began = time.perf_counter()
                graph = resolve_graph(roots, resolver, checkout=corpus)
                seconds = time.perf_counter() - began
                sent = state.git_requests()
                return graph, seconds, len(sent), dict(collections.Counter(map(_kind, sent)))

            state.latency = latency
            graph, cold_seconds, cold_requests, cold_kinds = resolve()
            _, warm_seconds, warm_requests, _ = resolve()
    commits = distinct_commits(graph)
    rest = rest_requests(graph)
    levels = max(1, _levels(graph))
    problems = collections.Counter(p.kind.value for p in graph.problems)
    kinds = collections.Counter(n.kind.value for n in graph.nodes.values())
    return {
        "latency_seconds": latency,
        "build_seconds": round(build_seconds, 2),
        "workflows_considered": considered,
        "workflows": len(roots),
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "node_kinds": dict(sorted(kinds.items())),
        "problems": dict(sorted(problems.items())),
        "distinct_repository_commits": commits,
        "files_fetched": sum(len(n.files) for n in graph.nodes.values() if not n.key.is_checkout),
        "cold_requests": cold_requests,
        "cold_requests_by_kind": cold_kinds,
        "cold_requests_per_commit": round(cold_requests / max(1, commits), 2),
        "cold_seconds": round(cold_seconds, 2),
        "warm_requests": warm_requests,
        "warm_seconds": round(warm_seconds, 2),
        "rest_requests": rest,
        "rest_requests_per_commit": round(rest / max(1, commits), 2),
        # The same reading and parsing (the warm run's time), plus the requests sent
        # CONCURRENCY at a time, each level after the one before.
        "rest_seconds_at_least": round(warm_seconds + max(rest / CONCURRENCY, levels) * latency, 2),
        "levels": levels,
    }


def _kind(entry: Logged) -> str:
    body = entry.body
    if b"command=ls-refs" in body:
        return "ls-refs"
    if b"filter blob:none" in body:
        return "trees"
    if b"done" in body:
        return "blobs"
    return "negotiation"


def _levels(graph: Graph) -> int:
    depth = dict.fromkeys(graph.roots, 0)
    queue = list(graph.roots)
    while queue:
        key = queue.pop(0)
        for edge in graph.outgoing(key):
            if edge.target not in depth:
                depth[edge.target] = depth[key] + 1
                queue.append(edge.target)
    return max(depth.values(), default=0)


def table(result: dict[str, object]) -> str:
    latency_ms = float(str(result["latency_seconds"])) * 1000
    rows = [
        ("approach", "requests", "per (repo, commit)", "wall time"),
        (
            "bastion graph, cold",
            str(result["cold_requests"]),
            str(result["cold_requests_per_commit"]),
            f"{result['cold_seconds']} s",
        ),
        ("bastion graph, warm", str(result["warm_requests"]), "0", f"{result['warm_seconds']} s"),
        (
            "REST contents (counted)",
            str(result["rest_requests"]),
            str(result["rest_requests_per_commit"]),
            f">= {result['rest_seconds_at_least']} s",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        f"{result['workflows']} workflows (of {result['workflows_considered']}) of the corpus; "
        f"{result['nodes']} nodes, {result['edges']} uses, "
        f"{result['distinct_repository_commits']} distinct (repository, commit), "
        f"{result['files_fetched']} files fetched, {result['levels']} levels; "
        f"{latency_ms:.0f} ms per request, {CONCURRENCY} in flight",
        "",
    ]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    lines.append(
        "REST contents without a token: GitHub allows 60 requests an hour, so the REST "
        f"approach needs a token or {int(str(result['rest_requests'])) / 60:.1f} hours; "
        "git's endpoints have no such limit"
    )
    lines.append(f"cold requests by kind: {result['cold_requests_by_kind']}")
    lines.append(f"nodes by kind: {result['node_kinds']}")
    lines.append(f"problems: {result['problems']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    result = run(arguments.corpus, arguments.latency)
    print(json.dumps(result, indent=2) if arguments.json else table(result))


if __name__ == "__main__":
    main()
