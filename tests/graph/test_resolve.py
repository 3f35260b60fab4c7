"""The graph resolver against git's own http-backend serving the action dataset."""

from __future__ import annotations

import csv
import posixpath
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bastion.graph.render import describe_ref
from bastion.graph.resolve import Limits, Progress, load_roots, resolve_graph
from bastion.model.graph import (
    SEPARATOR,
    Edge,
    Graph,
    Node,
    NodeKey,
    NodeKind,
    Problem,
    ProblemKind,
)
from tests.graph.conftest import PRIVATE_TOKEN, World
from tests.graph.corpus import ACTIONS
from tests.pinning.gitserver import Logged

CODECOV = "18283e04ce6e62d37312384ff67231eb8fd56d24"
GITHUB_SCRIPT_V7 = "f28e40c7f34bde8b3046d885e986cb6290c5673b"
ESLINT_V25_3_2 = "536c35c8184b8bbd361d3703aa63439e0895c340"
REVIEWDOG_SETUP = "e04ffabe3898a0af8d0fb1af00c188831c4b5893"
ACTION_ZIP_V1 = "0852c26906e00f8a315c704958823928d8018b28"
CODESPELL_V2_2 = "8f01853be192eb0f849a5c7d721450e7a467c579"
LOCK_THREADS_TAG_OBJECT = "f5f995c727ac99a91dec92781a8e34e7c839a65e"
LOCK_THREADS_V6 = "7266a7ce5c1df01b1c6db85bf8cd86c737dadbe7"


def checkout(tmp_path: Path, workflow: str, **files: str) -> Path:
    """A checkout with ``.github/workflows/ci.yml`` and ``files`` (path with / as __)."""
    root = tmp_path / "repo"
    path = root / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(workflow))
    for name, text in files.items():
        target = root / name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return root


def graph_of(
    world: World,
    tmp_path: Path,
    root: Path,
    *,
    limits: Limits | None = None,
    token: str | None = None,
) -> Graph:
    roots, folder, errors = load_roots(root)
    assert errors == []
    resolver = world.resolver(tmp_path / "cache", token=token)
    return resolve_graph(roots, resolver, checkout=folder, limits=limits or Limits())


def node(graph: Graph, slug: str, commit: str | None = None) -> Node:
    found = [
        n
        for n in graph.nodes.values()
        if n.key.slug.lower() == slug.lower() and (commit is None or n.key.commit == commit)
    ]
    assert len(found) == 1, [str(n.key) for n in graph.nodes.values()]
    return found[0]


def edge_to(graph: Graph, uses: str) -> Edge:
    found = [edge for edge in graph.edges if edge.uses == uses]
    assert len(found) == 1, [edge.uses for edge in graph.edges]
    return found[0]


def problems(graph: Graph) -> list[tuple[str, str, int, int, str]]:
    return sorted(
        (
            p.kind.value,
            p.edge.file if p.edge else "",
            p.edge.span.start.line if p.edge else 0,
            p.edge.span.start.column if p.edge else 0,
            p.message,
        )
        for p in graph.problems
    )


def only_problem(graph: Graph) -> Problem:
    assert len(graph.problems) == 1, problems(graph)
    return graph.problems[0]


def steps(*uses: str) -> str:
    lines = ["on: push", "jobs:", "  build:", "    runs-on: ubuntu-latest", "    steps:"]
    lines.extend(f"      - uses: {target}" for target in uses)
    return "\n".join(lines) + "\n"


def test_composite_calling_an_action_by_tag(fresh: World, tmp_path: Path) -> None:
    root = checkout(tmp_path, steps(f"codecov/codecov-action@{CODECOV}"))
    graph = graph_of(fresh, tmp_path, root)
    codecov = node(graph, "codecov/codecov-action")
    assert codecov.key == NodeKey("codecov", "codecov-action", "", CODECOV)
    assert codecov.kind is NodeKind.COMPOSITE
    assert codecov.metadata == "action.yml"
    assert codecov.ref_kinds == {CODECOV: "commit"}
    script = node(graph, "actions/github-script")
    assert script.key.commit == GITHUB_SCRIPT_V7
    assert script.kind is NodeKind.JAVASCRIPT
    assert script.ref_kinds == {"v7": "tag"}
    nested = edge_to(graph, "actions/github-script@v7")
    assert nested.source == codecov.key
    assert (nested.file, nested.span.start.line, nested.span.start.column) == (
        "action.yml",
        206,
        13,
    )
    assert nested.route == "runs/steps/3/uses"
    assert nested.job is None
    assert not nested.pinned
    first = edge_to(graph, f"codecov/codecov-action@{CODECOV}")
    assert (first.file, first.span.start.line, first.job) == (
        ".github/workflows/ci.yml",
        6,
        "build",
    )
    assert [str(chain) for chain in graph.chains(script.key)] == [
        SEPARATOR.join(
            ["ci.yml", "job build", f"codecov/codecov-action@{CODECOV}", "actions/github-script@v7"]
        )
    ]
    assert graph.problems == []


def test_script_through_the_action_path_and_a_pinned_nested_action(
    fresh: World, tmp_path: Path
) -> None:
    root = checkout(tmp_path, steps("tj-actions/eslint-changed-files@v25.3.2"))
    graph = graph_of(fresh, tmp_path, root)
    eslint = node(graph, "tj-actions/eslint-changed-files")
    assert eslint.key.commit == ESLINT_V25_3_2
    assert sorted(eslint.files) == ["action.yml", "entrypoint.sh"]
    expected = ACTIONS / f"tj-actions__eslint-changed-files/{ESLINT_V25_3_2}/entrypoint.sh"
    assert eslint.files["entrypoint.sh"] == expected.read_bytes()
    setup = node(graph, "reviewdog/action-setup")
    assert setup.key.commit == REVIEWDOG_SETUP
    assert sorted(setup.files) == ["action.yml", "check-installed.sh", "install.sh"]
    assert edge_to(graph, f"reviewdog/action-setup@{REVIEWDOG_SETUP}").pinned


def test_docker_action_with_its_dockerfile_and_what_it_copies(fresh: World, tmp_path: Path) -> None:
    root = checkout(
        tmp_path,
        steps("montudor/action-zip@v1.0.0", "codespell-project/actions-codespell@v2.2"),
    )
    graph = graph_of(fresh, tmp_path, root)
    zip_action = node(graph, "montudor/action-zip")
    assert (zip_action.kind, zip_action.key.commit) == (NodeKind.DOCKER, ACTION_ZIP_V1)
    assert sorted(zip_action.files) == ["Dockerfile", "action.yaml"]
    assert zip_action.files["Dockerfile"].startswith(b"FROM alpine:latest")
    codespell = node(graph, "codespell-project/actions-codespell")
    assert codespell.key.commit == CODESPELL_V2_2
    # The single files of the build context that COPY names (LICENSE and README.md are not
    # in the dataset, so not in the rebuilt repository either).
    assert sorted(codespell.files) == [
        "Dockerfile",
        "action.yml",
        "codespell-problem-matcher/codespell-matcher.json",
        "entrypoint.sh",
        "requirements.txt",
    ]
    assert graph.problems == []


def test_a_folder_with_only_a_dockerfile_is_a_docker_action(fresh: World, tmp_path: Path) -> None:
    root = checkout(
        tmp_path,
        steps("graphtest/broken/bare@main", "./docker"),
        docker__dockerfile="FROM python:3\n",
    )
    graph = graph_of(fresh, tmp_path, root)
    bare = node(graph, "graphtest/broken/bare")
    assert (bare.kind, bare.metadata, bare.view) == (NodeKind.DOCKER, "bare/Dockerfile", None)
    assert bare.files == {
        "bare/Dockerfile": b"FROM alpine:3\nCOPY run.sh /run.sh\n",
        "bare/run.sh": b"echo hi\n",
    }
    local = node(graph, "docker")
    assert (local.kind, local.metadata) == (NodeKind.LOCAL, "docker/dockerfile")
    assert graph.problems == []


def test_an_action_file_that_is_a_symlink_is_read_through_it(fresh: World, tmp_path: Path) -> None:
    graph = graph_of(fresh, tmp_path, checkout(tmp_path, steps("graphtest/broken/linked@v1")))
    linked = node(graph, "graphtest/broken/linked")
    assert (linked.kind, linked.metadata) == (NodeKind.JAVASCRIPT, "real/action.yml")
    assert graph.problems == []


def test_nested_reusable_workflows_with_a_local_workflow_and_a_workspace_action(
    fresh: World, tmp_path: Path
) -> None:
    workflow = """\
        on: push
        jobs:
          call:
            uses: graphtest/reusable/.github/workflows/outer.yml@v1
        """
    root = checkout(tmp_path, workflow)
    graph = graph_of(fresh, tmp_path, root)
    outer = node(graph, "graphtest/reusable/.github/workflows/outer.yml")
    assert outer.kind is NodeKind.REUSABLE_WORKFLOW
    assert outer.ref_kinds == {"v1": "tag"}  # an annotated tag, peeled
    inner = node(graph, "graphtest/reusable/.github/workflows/inner.yml")
    assert inner.key.commit == outer.key.commit  # same repository, same commit
    assert describe_ref(graph, edge_to(graph, "./.github/workflows/inner.yml")) == (
        f"the caller's commit {outer.key.commit[:12]}"
    )
    assert inner.kind is NodeKind.REUSABLE_WORKFLOW
    checkout_action = node(graph, "actions/checkout")
    assert [str(c) for c in graph.chains(checkout_action.key)] == [
        SEPARATOR.join(
            [
                "ci.yml",
                "job call",
                "graphtest/reusable/.github/workflows/outer.yml@v1",
                "job inner",
                "./.github/workflows/inner.yml",
                "job check",
                "actions/checkout@v4",
            ]
        )
    ]
    workspace = node(graph, ".github/actions/from-workspace")
    assert workspace.kind is NodeKind.LOCAL
    assert workspace.workspace_dependent
    assert workspace.view is None
    assert graph.problems == []


def test_local_actions_read_from_the_checkout(fresh: World, tmp_path: Path) -> None:
    action = """\
        runs:
          using: composite
          steps:
            - uses: actions/checkout@v4
            - run: bash "${{ github.action_path }}/setup.sh"
              shell: bash
        """
    root = checkout(
        tmp_path,
        steps("./.github/actions/setup", "./.github/actions/missing"),
        **{".github__actions__setup__action.yml": action},
        **{".github__actions__setup__setup.sh": "echo hi\n"},
    )
    graph = graph_of(fresh, tmp_path, root)
    local = node(graph, ".github/actions/setup")
    assert local.kind is NodeKind.ROOT  # also a root: the same node as the file itself
    assert sorted(local.files) == [
        ".github/actions/setup/action.yml",
        ".github/actions/setup/setup.sh",
    ]
    assert not local.workspace_dependent
    assert node(graph, "actions/checkout").ref_kinds == {"v4": "tag"}
    problem = only_problem(graph)
    assert problem.kind is ProblemKind.FILE_MISSING
    assert problem.message == "no action.yml or action.yaml in .github/actions/missing"
    assert problem.edge is not None
    assert problem.edge.span.start.line == 7


def test_problems_at_the_uses_that_brought_them_in(fresh: World, tmp_path: Path) -> None:
    root = checkout(
        tmp_path,
        steps(
            "nobody/nothing@v1",
            "actions/checkout@v999",
            f"actions/checkout@{'0' * 40}",
            "graphtest/broken/empty@main",
            "graphtest/broken/bad-yaml@main",
            "graphtest/broken/no-runs@v1",
            "graphtest/private@v1",
            "actions/checkout",
            "${{ matrix.action }}@v1",
        ),
    )
    graph = graph_of(fresh, tmp_path, root)
    workflow = ".github/workflows/ci.yml"
    broken = node(graph, "graphtest/broken/empty").key.commit[:12]
    missing = (
        "does not exist, or is private: set GH_TOKEN (or log in with `gh auth login`) "
        "if you should have access"
    )
    assert problems(graph) == [
        (
            "file-missing",
            workflow,
            9,
            15,
            f"no action.yml or action.yaml in empty at graphtest/broken@{broken}",
        ),
        (
            "invalid-uses",
            workflow,
            13,
            15,
            "'actions/checkout' names no ref (GitHub needs OWNER/REPO[/PATH]@REF)",
        ),
        (
            "invalid-uses",
            workflow,
            14,
            15,
            "'${{ matrix.action }}@v1' is computed by an expression; it cannot be resolved",
        ),
        (
            "malformed",
            workflow,
            10,
            15,
            "bad-yaml/action.yml:5: invalid YAML: did not find expected node content "
            "(while parsing a flow node)",
        ),
        (
            "malformed",
            workflow,
            11,
            15,
            "no-runs/action.yml:1: an action needs 'runs' (how it runs)",
        ),
        (
            "ref-not-found",
            workflow,
            7,
            15,
            "'v999' is neither a tag nor a branch of actions/checkout",
        ),
        ("ref-not-found", workflow, 8, 15, "commit 000000000000 is not in actions/checkout"),
        ("repository-not-found", workflow, 6, 15, f"repository nobody/nothing {missing}"),
        ("repository-not-found", workflow, 12, 15, f"repository graphtest/private {missing}"),
    ]
    unresolved = graph.nodes[NodeKey("actions", "checkout", "", "", "v999")]
    assert unresolved.kind is NodeKind.UNRESOLVED


def test_a_private_repository_resolves_with_its_token(fresh: World, tmp_path: Path) -> None:
    root = checkout(tmp_path, steps("graphtest/private@v1"))
    graph = graph_of(fresh, tmp_path, root, token=PRIVATE_TOKEN)
    assert graph.problems == []
    assert node(graph, "graphtest/private").kind is NodeKind.COMPOSITE
    requests = fresh.state.git_requests()
    assert all(r.headers.get("authorization", "").startswith("Basic ") for r in requests)


def test_a_full_sha_of_an_annotated_tag_is_keyed_by_its_commit(
    fresh: World, tmp_path: Path
) -> None:
    root = checkout(tmp_path, steps(f"dessant/lock-threads@{LOCK_THREADS_TAG_OBJECT}"))
    graph = graph_of(fresh, tmp_path, root)
    locked = node(graph, "dessant/lock-threads")
    assert locked.key.commit == LOCK_THREADS_V6
    assert locked.ref_kinds == {LOCK_THREADS_TAG_OBJECT: "commit"}
    assert graph.problems == []


def test_a_cycle_is_reported_once_and_the_rest_resolves(fresh: World, tmp_path: Path) -> None:
    root = checkout(tmp_path, steps("graphtest/cycle-a@v1", "actions/checkout@v4"))
    graph = graph_of(fresh, tmp_path, root)
    problem = only_problem(graph)
    assert problem.kind is ProblemKind.CYCLE
    assert problem.message == (
        "a cycle: graphtest/cycle-a@v1 calls back into graphtest/cycle-a, already on this path"
    )
    assert problem.edge is not None
    assert problem.edge.source == node(graph, "graphtest/cycle-b").key
    assert (problem.edge.file, problem.edge.span.start.line) == ("action.yml", 5)
    assert node(graph, "actions/checkout").kind is NodeKind.JAVASCRIPT


def test_githubs_limits(fresh: World, tmp_path: Path) -> None:
    jobs = "".join(
        f"  many{n}:\n    uses: graphtest/many/.github/workflows/w{n}.yml@main\n"
        for n in range(1, 52)
    )
    workflow = (
        "on: push\njobs:\n"
        "  chain:\n    uses: graphtest/chain/.github/workflows/w1.yml@main\n"
        "  deep:\n    runs-on: x\n    steps:\n      - uses: graphtest/deep/level1@main\n" + jobs
    )
    root = checkout(tmp_path, workflow)
    graph = graph_of(fresh, tmp_path, root)
    assert [(kind, file, line, message) for kind, file, line, _, message in problems(graph)] == [
        ("limit", ".github/workflows/ci.yml", 108, ".github/workflows/ci.yml calls more than 50 "
         "distinct reusable workflows (GitHub refuses the workflow)"),
        ("limit", ".github/workflows/w9.yml", 5,
         "more than 10 levels of workflows (GitHub stops the run)"),
        ("limit", "level10/action.yml", 5,
         "composite actions nested more than 10 deep (GitHub stops the run)"),
    ]  # fmt: skip
    # The caller and nine levels of reusable workflows resolve; the tenth is not expanded.
    assert (
        node(graph, "graphtest/chain/.github/workflows/w10.yml").kind is NodeKind.REUSABLE_WORKFLOW
    )
    assert graph.outgoing(node(graph, "graphtest/chain/.github/workflows/w10.yml").key) == []
    assert graph.outgoing(node(graph, "graphtest/deep/level11").key) == []


def test_a_tighter_limit_on_the_number_of_nodes(fresh: World, tmp_path: Path) -> None:
    root = checkout(tmp_path, steps("graphtest/deep/level1@main"))
    graph = graph_of(fresh, tmp_path, root, limits=Limits(nodes=4))
    assert len(graph.nodes) == 5  # four, then the unresolved node that says so
    assert [p.message for p in graph.problems] == ["the graph has more than 4 nodes"]


def _request_kind(entry: Logged) -> str:
    if b"command=ls-refs" in entry.body:
        return "ls-refs"
    return "trees" if b"filter blob:none" in entry.body else "blobs"


def test_requests_are_batched_per_repository_and_level(fresh: World, tmp_path: Path) -> None:
    root = checkout(
        tmp_path,
        steps(
            "actions/checkout@v4",
            "actions/checkout@v5",
            f"codecov/codecov-action@{CODECOV}",
            "codecov/codecov-action@v5",
            "tj-actions/eslint-changed-files@v25.3.2",
            "montudor/action-zip@v1.0.0",
            "codespell-project/actions-codespell@v2.2",
            "actions/setup-python@v5",
            "actions/cache@v4",
            "docker/build-push-action@v6",
        ),
    )
    graph = graph_of(fresh, tmp_path, root)
    assert graph.problems == []
    sent = Counter(_request_kind(entry) for entry in fresh.state.git_requests())
    # Level 1: eight repositories, each listed once (codecov for its v5), one request for
    # the trees of all its commits, one for the action files (and a Dockerfile beside
    # them). Level 2: github-script (listed: @v7), reviewdog and changed-files (SHA pins:
    # not listed), the same way, and the files of their own tree that level-1 actions run
    # or copy (codecov, eslint-changed-files, codespell: their repositories have no more
    # work, so those go alone). Level 3: the scripts reviewdog runs.
    assert sent == {"ls-refs": 8 + 1, "trees": 8 + 3, "blobs": 8 + 3 + 3 + 1}


def test_scripts_named_by_scripts_and_through_step_variables(fresh: World, tmp_path: Path) -> None:
    """What a composite runs from its own tree, and what those scripts run in turn, each
    round of files with the repository's next request; nothing unnamed is fetched."""
    graph = graph_of(fresh, tmp_path, checkout(tmp_path, steps("graphtest/scripts@v1")))
    assert graph.problems == []
    files = node(graph, "graphtest/scripts").files
    assert sorted(files) == ["a.sh", "action.yml", "c.sh", "d.sh", "lib/b.sh", "x.sh", "y.sh"]
    assert files["d.sh"] == b"echo d\n"
    wants = [_want_count(entry) for entry in fresh.state.git_requests()]
    kinds = [_request_kind(entry) for entry in fresh.state.git_requests()]
    # listing, trees, action.yml; then a.sh, x.sh, y.sh; then lib/b.sh and c.sh; then d.sh
    assert list(zip(kinds, wants, strict=True)) == [
        ("ls-refs", 0), ("trees", 1), ("blobs", 1), ("blobs", 3), ("blobs", 2), ("blobs", 1),
    ]  # fmt: skip
    fresh.reset()
    assert sorted(node(graph_of(fresh, tmp_path, tmp_path / "repo"), "graphtest/scripts").files)
    assert fresh.state.git_requests() == []


def test_waiting_files_go_with_the_repositorys_next_request(fresh: World, tmp_path: Path) -> None:
    """v1's script is fetched with the action file of v2, which v1 uses: one request, not
    two."""
    graph = graph_of(fresh, tmp_path, checkout(tmp_path, steps("graphtest/joined@v1")))
    assert graph.problems == []
    one = node(graph, "graphtest/joined", fresh.translation.real(_tag(graph, "v1")))
    assert sorted(one.files) == ["action.yml", "run.sh"]
    sent = fresh.state.git_requests()
    assert [(_request_kind(e), _want_count(e)) for e in sent] == [
        ("ls-refs", 0), ("trees", 1), ("blobs", 1), ("trees", 1), ("blobs", 2),
    ]  # fmt: skip


def _tag(graph: Graph, ref: str) -> str:
    [found] = [n.key.commit for n in graph.nodes.values() if ref in n.refs]
    return found


def _want_count(entry: Logged) -> int:
    return entry.body.count(b"want ")


def test_cold_requests_per_repository_commit_and_a_warm_run_sends_none(
    fresh: World, tmp_path: Path
) -> None:
    # An organisation's workflows use several versions of the same actions: every commit
    # of the dataset for five repositories, pinned by SHA, and two floating tags.
    repositories = ["actions/checkout", "actions/github-script", "codecov/codecov-action",
                    "actions/cache", "actions/setup-python"]  # fmt: skip
    uses = ["actions/checkout@v4", "actions/cache@v4"]
    for slug in repositories:
        folder = ACTIONS / slug.replace("/", "__", 1)
        uses += [f"{slug}@{c.name}" for c in sorted(folder.iterdir()) if len(c.name) == 40]
    root = checkout(tmp_path, steps(*uses))
    graph = graph_of(fresh, tmp_path, root)
    assert graph.problems == []
    distinct = {(k.owner, k.repo, k.commit) for k in graph.nodes if k.commit}
    cold = fresh.state.git_requests()
    assert (len(distinct), len(cold)) == (38, 14)
    assert len(cold) <= len(distinct)
    fresh.reset()
    again = graph_of(fresh, tmp_path, root)
    assert fresh.state.git_requests() == []
    assert sorted(map(str, again.nodes)) == sorted(map(str, graph.nodes))
    offline = resolve_graph(
        load_roots(root)[0], fresh.resolver(tmp_path / "cache", offline=True), checkout=root
    )
    assert offline.problems == []
    assert fresh.state.git_requests() == []


def test_offline_with_an_empty_cache_sends_nothing_and_says_why(
    fresh: World, tmp_path: Path
) -> None:
    root = checkout(tmp_path, steps("actions/checkout@v4"))
    roots, folder, _ = load_roots(root)
    graph = resolve_graph(roots, fresh.resolver(tmp_path / "empty", offline=True), checkout=folder)
    problem = only_problem(graph)
    assert problem.kind is ProblemKind.FETCH_FAILED
    assert "not in the cache" in problem.message
    assert fresh.state.git_requests() == []


def test_progress_is_reported_per_repository(fresh: World, tmp_path: Path) -> None:
    root = checkout(tmp_path, steps("actions/checkout@v4", "actions/cache@v4"))
    roots, folder, _ = load_roots(root)
    seen: list[Progress] = []
    resolve_graph(roots, fresh.resolver(tmp_path / "c"), checkout=folder, progress=seen.append)
    assert sorted((p.level, p.total, p.repository) for p in seen) == [
        (1, 2, "actions/cache"),
        (1, 2, "actions/checkout"),
    ]
    assert sorted(p.done for p in seen) == [1, 2]


@pytest.mark.parametrize("path", ["repo", "repo/.github/workflows/ci.yml"])
def test_roots_from_a_checkout_or_a_file_in_it(tmp_path: Path, path: str) -> None:
    checkout(tmp_path, steps("./x"), **{"x__action.yml": "runs:\n  using: node20\n  main: a.js\n"})
    roots, folder, errors = load_roots(tmp_path / path)
    assert folder.resolve() == (tmp_path / "repo").resolve()
    expected = (
        [".github/workflows/ci.yml", "x/action.yml"]
        if path == "repo"
        else [".github/workflows/ci.yml"]
    )
    assert [r.path for r in roots] == expected
    assert errors == []


def test_every_script_dockerfile_and_copied_file_of_the_dataset_is_fetched(
    fresh: World, tmp_path: Path
) -> None:
    """Each action of the dataset, by commit: the files the README says its steps run, its
    Dockerfile and what that copies are all fetched, and nothing the dataset does not list
    as one of them (the loopback server holds nothing else)."""
    with (ACTIONS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    actions = sorted(
        {
            (r["repo"], r["commit"], posixpath.dirname(r["path"]))
            for r in rows
            if r["kind"] == "action"
        }
    )
    uses = [f"{repo}{'/' + path if path else ''}@{commit}" for repo, commit, path in actions]
    lines = ["on: push", "jobs:"]
    for number, target in enumerate(uses):
        lines += [f"  j{number}:", "    runs-on: x", "    steps:", f"      - uses: {target}"]
    graph = graph_of(fresh, tmp_path, checkout(tmp_path, "\n".join(lines) + "\n"))
    fetched: dict[tuple[str, str], set[str]] = {}
    for key, found in graph.nodes.items():
        if key.commit:
            fetched.setdefault(
                (key.slug.split("/", 2)[0] + "/" + key.repo, key.commit), set()
            ).update(found.files)
    kinds = {"action", "dockerfile", "docker-copied", "script"}  # workflows: not called here
    expected: dict[tuple[str, str], set[str]] = {}
    allowed: dict[tuple[str, str], set[str]] = {}  # and data a step reads through the path
    for row in rows:
        pair = (row["repo"], row["commit"])
        if row["kind"] in kinds and pair in fetched:
            expected.setdefault(pair, set()).add(row["path"])
        if row["kind"] in {*kinds, "action-file"}:
            allowed.setdefault(pair, set()).add(row["path"])
    missing = {k: sorted(expected[k] - v) for k, v in fetched.items() if expected.get(k, set()) - v}
    extra = {k: sorted(v - allowed[k]) for k, v in fetched.items() if v - allowed[k]}
    assert (len(fetched), missing) == (len({(r, c) for r, c, _ in actions}), {})
    assert extra == {}


def test_owner_and_repository_names_match_whatever_their_case(fresh: World, tmp_path: Path) -> None:
    """GitHub (and the loopback server) match `1password/...` to `1Password/...`."""
    commit = "92467eb28f72e8255933372f1e0707c567ce2259"
    graph = graph_of(
        fresh, tmp_path, checkout(tmp_path, steps(f"1password/load-secrets-action@{commit}"))
    )
    assert graph.problems == []
    assert node(graph, "1password/load-secrets-action").metadata == "action.yml"
