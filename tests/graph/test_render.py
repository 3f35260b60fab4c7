"""The graph as a tree, JSON, DOT and Mermaid, from a graph resolved on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.graph.render import edge_status, render_dot, render_json, render_mermaid, render_tree
from bastion.model.graph import Graph, Mark
from tests.graph.conftest import World
from tests.graph.test_resolve import CODECOV, checkout, graph_of, node, steps

LOCAL_ACTION = "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n"


@pytest.fixture
def graph(fresh: World, tmp_path: Path) -> Graph:
    root = checkout(
        tmp_path,
        steps(
            "actions/checkout@v4",
            f"codecov/codecov-action@{CODECOV}",
            "./.github/actions/local",
            "nobody/nothing@v1",
            "docker://alpine:3",
        ),
        **{".github__actions__local__action.yml": LOCAL_ACTION},
    )
    resolved = graph_of(fresh, tmp_path, root)
    codecov = node(resolved, "codecov/codecov-action")
    resolved.marks = [Mark("gap", codecov.key, "action.yml:166: defaults to latest", "a-rule")]
    return resolved


def test_the_tree_shows_each_uses_with_its_status(graph: Graph) -> None:
    assert render_tree(graph) == (
        ".github/workflows/ci.yml\n"
        "└── job build\n"
        "    ├── actions/checkout@v4 · javascript · mutable (tag v4 -> 11d5960a3267)\n"
        f"    ├── codecov/codecov-action@{CODECOV} · composite · pinned (commit)\n"
        "    │   gap [a-rule]: action.yml:166: defaults to latest\n"
        "    │   └── actions/github-script@v7 · javascript · mutable (tag v7 -> f28e40c7f34b)\n"
        "    ├── ./.github/actions/local · local composite · local\n"
        "    │   └── actions/cache@v4 · javascript · mutable (tag v4 -> 0057852bfaa8)\n"
        "    ├── nobody/nothing@v1 · unresolved · problem\n"
        "    │   ! repository nobody/nothing does not exist, or is private: set GH_TOKEN "
        "(or log in with `gh auth login`) if you should have access\n"
        "    └── docker://alpine:3 · image · mutable\n"
        "\n"
        "6 called, 7 uses: 1 pinned, 4 mutable, 1 local, 1 problem, 1 gap\n"
    )


def test_statuses(graph: Graph) -> None:
    assert {edge.uses: edge_status(graph, edge) for edge in graph.edges} == {
        "actions/checkout@v4": "mutable",
        f"codecov/codecov-action@{CODECOV}": "pinned",
        "actions/github-script@v7": "mutable",
        "./.github/actions/local": "local",
        "actions/cache@v4": "mutable",
        "nobody/nothing@v1": "problem",
        "docker://alpine:3": "mutable",
    }


def test_json_follows_the_documented_schema(graph: Graph) -> None:
    document = json.loads(render_json(graph))
    assert document["version"] == 1
    assert set(document) == {"version", "roots", "nodes", "edges", "problems", "summary"}
    nodes = {n["id"]: n for n in document["nodes"]}
    assert [nodes[i]["path"] for i in document["roots"]] == [
        ".github/workflows/ci.yml",
        ".github/actions/local",
    ]
    codecov = next(n for n in nodes.values() if n["repository"] == "codecov/codecov-action")
    assert set(codecov) == {
        "id", "kind", "repository", "path", "commit", "ref", "metadata", "refs",
        "workspace_dependent", "files", "chains", "marks",
    }  # fmt: skip
    assert codecov["commit"] == CODECOV
    assert codecov["refs"] == {CODECOV: "commit"}
    assert [f["path"] for f in codecov["files"]] == ["action.yml", "src/version"]
    assert codecov["marks"] == [
        {"status": "gap", "rule": "a-rule", "message": "action.yml:166: defaults to latest"}
    ]
    script = next(e for e in document["edges"] if e["uses"] == "actions/github-script@v7")
    assert script == {
        "id": script["id"],
        "source": codecov["id"],
        "target": script["target"],
        "uses": "actions/github-script@v7",
        "file": f"codecov/codecov-action/action.yml@{CODECOV}",
        "line": 206,
        "column": 13,
        "end_line": 206,
        "end_column": 37,
        "route": "runs/steps/3/uses",
        "job": None,
        "status": "mutable",
        "ref": "tag v7 -> f28e40c7f34b",
    }
    assert nodes[script["target"]]["chains"] == [
        f"ci.yml › job build › codecov/codecov-action@{CODECOV} › actions/github-script@v7"  # noqa: RUF001
    ]
    [problem] = document["problems"]
    assert problem["kind"] == "repository-not-found"
    edges = {e["id"]: e for e in document["edges"]}
    assert edges[problem["edge"]]["uses"] == "nobody/nothing@v1"
    assert document["summary"] == {
        "pinned": 1, "mutable": 4, "local": 1, "problem": 1, "gap": 1, "finding": 0,
    }  # fmt: skip


def test_dot_and_mermaid(graph: Graph) -> None:
    dot = render_dot(graph)
    assert dot.startswith("digraph actions {\n  rankdir=LR;\n")
    assert 'n2 [label="actions/checkout@11d5960a3267\\njavascript"];' in dot
    assert 'n0 -> n3 [label="18283e04ce6e", color="darkgreen"];' in dot
    assert 'n4 [label="nobody/nothing@v1\\nunresolved", color="red"];' in dot
    mermaid = render_mermaid(graph)
    assert mermaid.startswith("flowchart LR\n")
    assert '  n3["codecov/codecov-action@18283e04ce6e (1 gap)<br/>composite"]' in mermaid
    assert '  n1[".github/actions/local/action.yml<br/>local composite"]' in mermaid
    assert "  n0 -->|v4| n2" in mermaid
    assert "  class n4 problem" in mermaid


def test_a_node_called_twice_is_expanded_once(fresh: World, tmp_path: Path) -> None:
    uses = f"codecov/codecov-action@{CODECOV}"
    workflow = (
        "on: push\njobs:\n"
        f"  a:\n    runs-on: x\n    steps:\n      - uses: {uses}\n"
        f"  b:\n    runs-on: x\n    steps:\n      - uses: {uses}\n"
    )
    graph = graph_of(fresh, tmp_path, checkout(tmp_path, workflow))
    assert render_tree(graph).splitlines()[:6] == [
        ".github/workflows/ci.yml",
        "├── job a",
        f"│   └── {uses} · composite · pinned (commit)",
        "│       └── actions/github-script@v7 · javascript · mutable (tag v7 -> f28e40c7f34b)",
        "└── job b",
        f"    └── {uses} · composite · pinned (commit) · (called above)",
    ]
