"""Benchmark the action graph against a loopback git server with added latency.

Usage: python bench/graph.py [--latency 0.05] [--corpus DIR] [--json]

1. Serves the 86 repositories of ``shared/corpus/actions`` from git's own http-backend on
   loopback (tests/graph/corpus.py: each commit folder a commit, the real refs), every
   request delayed by ``--latency`` seconds.
2. Takes the workflows of ``shared/corpus/current`` in two selections and resolves the graph
   of each selection at once (their ``./`` actions read from each project's folder): cold
   (empty cache), then warm (the cache it left).

   * ``in-dataset`` (the issue's: "whose actions are in the dataset"): every repository
     ``uses:`` of the workflow names a repository and a ref the dataset holds (a commit
     folder, or a branch or tag whose commit is there). What those actions call in turn may
     still be missing: such misses are counted, never left out.
   * ``repositories``: every repository ``uses:`` names a dataset repository, whatever the
     ref (a ref the dataset lacks is a miss the run still pays for).

   Every git request is logged by kind (``ls-refs``; ``fetch`` of trees, of blobs, of both at
   once; ``negotiation``) and by outcome (answered, repository missing, commit missing).
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.graph.corpus import (  # noqa: E402
    TranslatingResolver,
    Translation,
    build_corpus,
    corpus_repositories,
    dataset_refs,
)
from tests.pinning.gitserver import ServerState, serve  # noqa: E402

from bastion.github.git import (  # noqa: E402
    GitClient,
    GitError,
    packfile_section,
    read_pack,
    read_packets,
)
from bastion.github.host import Host  # noqa: E402
from bastion.graph.resolve import RootFile, load_roots, parse_view, resolve_graph  # noqa: E402
from bastion.model.graph import Graph, NodeKind, ProblemKind  # noqa: E402
from bastion.model.uses import UsesKind  # noqa: E402
from bastion.model.workflow import Workflow  # noqa: E402
from bastion.pinning.cache import Cache  # noqa: E402
from bastion.pinning.resolver import CONCURRENCY  # noqa: E402
from bastion.source.yaml import YamlError  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "current"


SELECTIONS = ("in-dataset", "repositories")


def corpus_roots(
    corpus: Path, dataset: set[str], refs: set[tuple[str, str]]
) -> tuple[dict[str, list[RootFile]], int]:
    """The workflows of each selection (see the module docstring), and how many there are."""
    roots: dict[str, list[RootFile]] = {name: [] for name in SELECTIONS}
    considered = 0
    for project in sorted(p for p in corpus.iterdir() if p.is_dir()):
        found, _, _ = load_roots(project)
        for root in found:
            if root.is_action:
                continue
            considered += 1
            remote = _remote_uses(root)
            if not remote or not all(slug in dataset for slug, _ in remote):
                continue
            named = RootFile(f"{project.name}/{root.path}", root.text, False, project.name)
            roots["repositories"].append(named)
            if all(pair in refs for pair in remote):
                roots["in-dataset"].append(named)
    return roots, considered


def _remote_uses(root: RootFile) -> list[tuple[str, str]]:
    """(``owner/repo`` lowercased, ref) of the workflow's repository ``uses:``."""
    try:
        view = parse_view(root.path, root.text, action=False)
    except YamlError:
        return []
    if not isinstance(view, Workflow):
        return []
    uses = [job.uses for job in view.jobs if job.uses is not None]
    uses += [step.uses for job in view.jobs for step in job.steps if step.uses is not None]
    return [
        (f"{u.owner}/{u.repo}".lower(), u.ref or "") for u in uses if u.kind is UsesKind.REPOSITORY
    ]


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


@dataclass(frozen=True, slots=True)
class Sent:
    """One git request as the bench saw it: what it asked for and how it ended."""

    repository: str
    kind: str
    """ls-refs, trees, blobs, trees+blobs (both in one fetch) or negotiation."""
    outcome: str
    """answered, repository missing, commit missing or failed."""


@dataclass(frozen=True, slots=True)
class RecordingClient(GitClient):
    """A git client that records each request it sends (see :class:`Sent`)."""

    sent: list[Sent] = field(default_factory=list)

    def upload_pack(self, owner: str, repo: str, body: bytes) -> bytes:
        slug = f"{owner}/{repo}"
        asked = "trees" if b"filter blob:none" in body else "blobs"
        try:
            answer = GitClient.upload_pack(self, owner, repo, body)
        except GitError as error:
            kind = _request_kind(body, b"") if b"command=ls-refs" in body else asked
            outcome = "repository missing" if error.not_found else "failed"
            self.sent.append(Sent(slug, kind, outcome))
            raise
        refused = _refusal(answer)
        if refused is None:
            self.sent.append(Sent(slug, _request_kind(body, answer), "answered"))
        else:
            outcome = "commit missing" if "not our ref" in refused else "failed"
            self.sent.append(Sent(slug, asked, outcome))
        return answer


def for_misses(sent: list[Sent]) -> int:
    """Requests spent on what the server lacks: the refused ones, the negotiations a refusal
    leads to, and a listing sent only to give a negotiation its branch tip (the request
    that then asks for the rest of the batch is one a complete dataset would send too)."""
    count = 0
    following: dict[str, str] = {}  # the next request's kind, per repository
    for entry in reversed(sent):
        slug = entry.repository.lower()
        wasted = entry.outcome != "answered" or entry.kind == "negotiation"
        if wasted or (entry.kind == "ls-refs" and following.get(slug) == "negotiation"):
            count += 1
        following[slug] = entry.kind
    return count


def repeated(sent: list[Sent]) -> dict[str, int]:
    """Listings of a repository after its first, and requests to a repository after one
    found it missing: both should be none."""
    listed: set[str] = set()
    missing: set[str] = set()
    again = {"ls-refs": 0, "missing repository": 0}
    for entry in sent:
        slug = entry.repository.lower()
        if slug in missing:
            again["missing repository"] += 1
        if entry.kind == "ls-refs":
            again["ls-refs"] += slug in listed
            listed.add(slug)
        if entry.outcome == "repository missing":
            missing.add(slug)
    return again


def _refusal(answer: bytes) -> str | None:
    """The ``ERR`` line a git server answered with, if any."""
    if b"ERR " not in answer[:512]:
        return None
    return next((p.text for p in read_packets(answer) if p.text.startswith("ERR ")), None)


def _request_kind(body: bytes, answer: bytes) -> str:
    if b"command=ls-refs" in body:
        return "ls-refs"
    if b"0009done\n" not in body:
        return "negotiation"
    kinds = {o.kind for o in read_pack(packfile_section(answer, "the answer"))}
    if "commit" in kinds or "tag" in kinds:
        return "trees+blobs" if "blob" in kinds else "trees"
    return "blobs"


def run(corpus: Path, latency: float) -> dict[str, object]:
    """The figures of every selection (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bastion-graph-bench-") as scratch:
        root = Path(scratch) / "git"
        translation = Translation()
        started = time.perf_counter()
        dataset = corpus_repositories()
        build_corpus(root, dataset, translation)
        build_seconds = time.perf_counter() - started
        selections, considered = corpus_roots(
            corpus, {slug.lower() for slug in dataset}, dataset_refs()
        )
        state = ServerState(root, latency=latency)
        result: dict[str, object] = {
            "latency_seconds": latency,
            "build_seconds": round(build_seconds, 2),
            "workflows_considered": considered,
        }
        with contextmanager(serve)(state) as server:
            host = Host.from_web_url(server.url)
            for name, roots in selections.items():
                cache = Cache(host, Path(scratch) / f"cache-{name}")
                result[name] = _measure(
                    roots,
                    host=host,
                    cache=cache,
                    translation=translation,
                    state=state,
                    corpus=corpus,
                )
    return result


def _measure(
    roots: list[RootFile],
    *,
    host: Host,
    cache: Cache,
    translation: Translation,
    state: ServerState,
    corpus: Path,
) -> dict[str, object]:
    """Resolve ``roots`` cold, then warm (the cache the cold run left); the figures."""

    def resolve() -> tuple[Graph, float, int, list[Sent]]:
        with state.lock:
            state.log.clear()
        client = RecordingClient(host, None, 60.0)
        resolver = TranslatingResolver(host, None, cache, client=client)
        resolver.translation = translation
        began = time.perf_counter()
        graph = resolve_graph(roots, resolver, checkout=corpus)
        seconds = time.perf_counter() - began
        sent = len(state.git_requests())
        if sent != len(client.sent):
            raise AssertionError(f"the server saw {sent} requests, the client {len(client.sent)}")
        return graph, seconds, sent, client.sent

    graph, cold_seconds, cold_requests, cold_sent = resolve()
    _, warm_seconds, warm_requests, _ = resolve()
    commits = distinct_commits(graph)
    rest = rest_requests(graph)
    levels = max(1, _levels(graph))
    problems = collections.Counter(p.kind.value for p in graph.problems)
    kinds = collections.Counter(n.kind.value for n in graph.nodes.values())
    by_kind = collections.Counter(sent.kind for sent in cold_sent)
    by_outcome = collections.Counter(f"{sent.kind}: {sent.outcome}" for sent in cold_sent)
    return {
        "workflows": len(roots),
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "node_kinds": dict(sorted(kinds.items())),
        "problems": dict(sorted(problems.items())),
        "distinct_repository_commits": commits,
        "repositories_asked": len({sent.repository.lower() for sent in cold_sent}),
        "files_fetched": sum(len(n.files) for n in graph.nodes.values() if not n.key.is_checkout),
        "cold_requests": cold_requests,
        "cold_requests_by_kind": dict(sorted(by_kind.items())),
        "cold_requests_by_outcome": dict(sorted(by_outcome.items())),
        "cold_requests_refused": sum(1 for sent in cold_sent if sent.outcome != "answered"),
        "cold_requests_for_misses": for_misses(cold_sent),
        "cold_requests_repeated": repeated(cold_sent),
        "cold_requests_per_commit": round(cold_requests / max(1, commits), 2),
        "cold_requests_per_commit_without_misses": round(
            (cold_requests - for_misses(cold_sent)) / max(1, commits), 2
        ),
        "cold_seconds": round(cold_seconds, 2),
        "warm_requests": warm_requests,
        "warm_seconds": round(warm_seconds, 2),
        "rest_requests": rest,
        "rest_requests_per_commit": round(rest / max(1, commits), 2),
        # The same reading and parsing (the warm run's time), plus the requests sent
        # CONCURRENCY at a time, each level after the one before.
        "rest_seconds_at_least": round(
            warm_seconds + max(rest / CONCURRENCY, levels) * state.latency, 2
        ),
        "levels": levels,
    }


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
    """The figures of every selection, as text."""
    latency_ms = float(str(result["latency_seconds"])) * 1000
    parts = [
        f"{result['workflows_considered']} corpus workflows considered; {latency_ms:.0f} ms "
        f"per request, {CONCURRENCY} in flight; dataset built in {result['build_seconds']} s"
    ]
    for name in SELECTIONS:
        figures = result[name]
        assert isinstance(figures, dict)
        parts.append(f"\n## {name}\n\n{_selection_table(figures)}")
    return "\n".join(parts)


def _selection_table(result: dict[str, object]) -> str:
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
        f"{result['workflows']} workflows; {result['nodes']} nodes, {result['edges']} uses, "
        f"{result['distinct_repository_commits']} distinct (repository, commit) of "
        f"{result['repositories_asked']} repositories asked, {result['files_fetched']} files "
        f"fetched, {result['levels']} levels",
        "",
    ]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines += [
        "",
        "REST contents without a token: GitHub allows 60 requests an hour, so the REST "
        f"approach needs a token or {int(str(result['rest_requests'])) / 60:.1f} hours; "
        "git's endpoints have no such limit",
        f"cold requests by kind: {result['cold_requests_by_kind']}",
        f"cold requests by outcome: {result['cold_requests_by_outcome']}",
        f"cold requests refused (what the dataset lacks): {result['cold_requests_refused']}; "
        f"with the negotiations they cause: {result['cold_requests_for_misses']}, "
        "leaving "
        f"{result['cold_requests_per_commit_without_misses']} per (repository, commit)",
        f"cold requests repeated (should be none): {result['cold_requests_repeated']}",
        f"nodes by kind: {result['node_kinds']}",
        f"problems: {result['problems']}",
    ]
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
