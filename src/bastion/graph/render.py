"""The action graph as people read it: a tree, JSON (schema in docs/graph.md), DOT, Mermaid.

Every ``uses:`` has one status (:func:`edge_status`): ``pinned`` (a full commit SHA, or an
image by digest), ``mutable`` (a tag, a branch, an image by tag, or a ``./`` action that
depends on what the job checked out), ``local`` (an action of the user's own checkout) or
``problem`` (the target could not be read, or a limit or a cycle stops there). The audits'
:class:`Mark` values (``gap``, ``finding``), put in ``graph.marks`` before rendering, are
shown on the node they are about.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Literal

from bastion.model.graph import (
    Edge,
    Graph,
    Mark,
    Node,
    NodeKey,
    NodeKind,
    Problem,
    ProblemKind,
)
from bastion.model.uses import UsesKind

JSON_VERSION = 1
EdgeStatus = Literal["pinned", "mutable", "local", "problem"]
_EDGE_ONLY = frozenset({ProblemKind.CYCLE, ProblemKind.LIMIT})
"""Problems about one path to a node, not the node itself."""


def edge_problems(graph: Graph, edge: Edge) -> list[Problem]:
    """The problems of this ``uses:``: its own, and those of a target that cannot be read."""
    own = graph.problems_at(edge)
    of_target = [
        p for p in graph.problems_of(edge.target) if p.kind not in _EDGE_ONLY and p not in own
    ]
    return [*own, *of_target]


def edge_status(graph: Graph, edge: Edge) -> EdgeStatus:
    node = graph.nodes.get(edge.target)
    if edge_problems(graph, edge) or node is None or node.kind is NodeKind.UNRESOLVED:
        return "problem"
    if edge.parsed.kind is UsesKind.LOCAL:
        return "mutable" if node.workspace_dependent else "local"
    return "pinned" if edge.pinned else "mutable"


def describe_ref(graph: Graph, edge: Edge) -> str:
    """``tag v4 -> 11d5960a3267``, ``branch main -> ...``, ``commit``, ``the caller's commit
    ...`` (a called workflow's own ``./`` workflow) or ``""``."""
    node = graph.nodes.get(edge.target)
    ref = edge.parsed.ref
    if node is not None and edge.local and not node.key.is_checkout:
        return f"the caller's commit {node.key.commit[:12]}"
    if node is None or not ref or not node.key.commit:
        return ""
    kind = node.ref_kinds.get(ref, "")
    if kind == "commit":
        return "commit" if ref == node.key.commit else f"tag object -> {node.key.commit[:12]}"
    return f"{kind or 'ref'} {ref} -> {node.key.commit[:12]}"


# Tree -----------------------------------------------------------------------------------


def render_tree(graph: Graph) -> str:
    lines: list[str] = []
    for root in graph.roots:
        node = graph.nodes[root]
        if graph.incoming(root) and node.action is not None:
            continue  # a local action of the checkout, shown where it is called
        lines.append(node.metadata or root.path)
        lines.extend(f"  ! {problem.message}" for problem in graph.problems_of(root))
        lines.extend(_tree_children(graph, root, "", set(), {root}))
    counts = _status_counts(graph)
    summary = ", ".join(
        f"{count} {status}{'s' if count > 1 and status in _NOUNS else ''}"
        for status, count in counts.items()
        if count
    )
    lines.append("")
    lines.append(
        f"{len(graph.nodes) - len(graph.roots)} called, {len(graph.edges)} uses: {summary}"
    )
    return "\n".join(lines) + "\n"


def _tree_children(
    graph: Graph, key: NodeKey, prefix: str, shown: set[NodeKey], path: set[NodeKey]
) -> Iterator[str]:
    edges = graph.outgoing(key)
    groups: list[tuple[str | None, list[Edge]]] = []
    for edge in edges:
        if groups and groups[-1][0] == edge.job:
            groups[-1][1].append(edge)
        else:
            groups.append((edge.job, [edge]))
    node = graph.nodes[key]
    by_job = node.workflow is not None
    for group_index, (job, members) in enumerate(groups):
        if by_job:
            last_group = group_index == len(groups) - 1
            yield f"{prefix}{'└── ' if last_group else '├── '}job {job}"
            inner = prefix + ("    " if last_group else "│   ")
        else:
            inner = prefix
        for index, edge in enumerate(members):
            last = index == len(members) - 1
            yield from _tree_edge(graph, edge, prefix=inner, last=last, shown=shown, path=path)


def _tree_edge(
    graph: Graph,
    edge: Edge,
    *,
    prefix: str,
    last: bool,
    shown: set[NodeKey],
    path: set[NodeKey],
) -> Iterator[str]:
    target = graph.nodes[edge.target]
    status = edge_status(graph, edge)
    parts = [edge.uses, _kind_text(target), status]
    ref = describe_ref(graph, edge)
    if ref:
        parts[-1] = f"{status} ({ref})"
    if target.workspace_dependent:
        parts.append("depends on what the job checked out")
    branch = "└── " if last else "├── "
    below = prefix + ("    " if last else "│   ")
    repeated = target.key in shown and bool(graph.outgoing(target.key))
    if repeated and target.key not in path:
        parts.append("(called above)")
    yield f"{prefix}{branch}{' · '.join(parts)}"
    for problem in edge_problems(graph, edge):
        yield f"{below}! {problem.message}"
    if target.key in path or repeated:
        return
    marks = graph.marks_of(target.key)
    for mark in marks:
        yield f"{below}{_mark_text(mark)}"
    shown.add(target.key)
    yield from _tree_children(graph, target.key, below, shown, path | {target.key})


def _kind_text(node: Node) -> str:
    """The node's kind; for an action of the checkout, how it runs (``local composite``)."""
    if not node.key.is_checkout or node.kind is NodeKind.IMAGE:
        return node.kind.value
    action = node.action
    if action is None:
        if node.workflow is not None:
            return "workflow" if node.kind is NodeKind.ROOT else "local workflow"
        return "local"
    using = action.using or ""
    how = "javascript" if using.startswith("node") else using
    return f"local {how}".strip()


def _mark_text(mark: Mark) -> str:
    rule = f" [{mark.rule}]" if mark.rule else ""
    return f"{mark.status}{rule}: {mark.message}"


_NOUNS = frozenset({"problem", "gap", "finding"})
"""Statuses counted as things (`2 gaps`), not as states (`2 mutable`)."""


def _status_counts(graph: Graph) -> dict[str, int]:
    counts = dict.fromkeys(("pinned", "mutable", "local", "problem", "gap", "finding"), 0)
    for edge in graph.edges:
        counts[edge_status(graph, edge)] += 1
    for mark in graph.marks:
        counts[mark.status] += 1
    return counts


# JSON -----------------------------------------------------------------------------------


def node_ids(graph: Graph) -> dict[NodeKey, str]:
    """Stable ids (``n0``, ``n1``...) in the order of :meth:`Graph.walk`, then the rest."""
    order = [node.key for node in graph.walk()]
    order.extend(key for key in graph.nodes if key not in set(order))
    return {key: f"n{index}" for index, key in enumerate(order)}


def render_json(graph: Graph) -> str:
    ids = node_ids(graph)
    edge_ids = {id(edge): f"e{index}" for index, edge in enumerate(graph.edges)}
    nodes = [_node_json(graph, graph.nodes[key], ids) for key in ids]
    edges = [
        {
            "id": edge_ids[id(edge)],
            "source": ids[edge.source],
            "target": ids[edge.target],
            "uses": edge.uses,
            "file": _file_of(graph, edge),
            "line": edge.span.start.line,
            "column": edge.span.start.column,
            "end_line": edge.span.end.line,
            "end_column": edge.span.end.column,
            "route": edge.route,
            "job": edge.job,
            "status": edge_status(graph, edge),
            "ref": describe_ref(graph, edge) or None,
        }
        for edge in graph.edges
    ]
    problems = [
        {
            "kind": problem.kind.value,
            "message": problem.message,
            "edge": edge_ids[id(problem.edge)] if problem.edge is not None else None,
            "node": ids.get(problem.node) if problem.node is not None else None,
        }
        for problem in graph.problems
    ]
    document = {
        "version": JSON_VERSION,
        "roots": [ids[key] for key in graph.roots],
        "nodes": nodes,
        "edges": edges,
        "problems": problems,
        "summary": _status_counts(graph),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _node_json(graph: Graph, node: Node, ids: dict[NodeKey, str]) -> dict[str, object]:
    key = node.key
    remote = not key.is_checkout and node.kind is not NodeKind.IMAGE
    return {
        "id": ids[key],
        "kind": node.kind.value,
        "repository": f"{key.owner}/{key.repo}" if remote else None,
        "path": key.path,
        "commit": key.commit or None,
        "ref": key.ref or None,
        "metadata": node.metadata or None,
        "refs": dict(sorted({ref: node.ref_kinds.get(ref, "") for ref in node.refs}.items())),
        "workspace_dependent": node.workspace_dependent,
        "files": [
            {"path": path, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for path, data in sorted(node.files.items())
        ],
        "chains": [str(chain) for chain in graph.chains(key)],
        "marks": [
            {"status": mark.status, "rule": mark.rule or None, "message": mark.message}
            for mark in graph.marks_of(key)
        ],
    }


def _file_of(graph: Graph, edge: Edge) -> str:
    """Where the ``uses:`` is written: a checkout path, or ``owner/repo/path@commit``."""
    source = edge.source
    if source.is_checkout:
        return edge.file
    return f"{source.owner}/{source.repo}/{edge.file}@{source.commit}"


# DOT and Mermaid ------------------------------------------------------------------------

_COLOURS = {
    "pinned": "darkgreen",
    "mutable": "darkorange",
    "local": "gray40",
    "problem": "red",
}


def _label(graph: Graph, node: Node) -> str:
    key = node.key
    if key.is_checkout or node.kind is NodeKind.IMAGE:
        text = node.metadata or key.path
    elif key.commit:
        text = f"{key.slug}@{key.commit[:12]}"
    else:
        text = f"{key.slug}@{key.ref or '?'}"
    marks = graph.marks_of(key)
    if marks:
        counts: dict[str, int] = {}
        for mark in marks:
            counts[mark.status] = counts.get(mark.status, 0) + 1
        text += " (" + ", ".join(f"{n} {status}" for status, n in counts.items()) + ")"
    return f"{text}\n{_kind_text(node)}"


def render_dot(graph: Graph) -> str:
    ids = node_ids(graph)
    lines = ["digraph actions {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    for key, name in ids.items():
        node = graph.nodes[key]
        style = ', style="bold"' if key in graph.roots else ""
        colour = ', color="red"' if node.kind is NodeKind.UNRESOLVED else ""
        lines.append(f"  {name} [label={_dot_string(_label(graph, node))}{style}{colour}];")
    for edge in graph.edges:
        status = edge_status(graph, edge)
        label = _edge_label(edge)
        lines.append(
            f"  {ids[edge.source]} -> {ids[edge.target]} "
            f'[label={_dot_string(label)}, color="{_COLOURS[status]}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge_label(edge: Edge) -> str:
    """The ref as written (a full SHA shortened to 12 characters)."""
    ref = edge.parsed.ref or ""
    return ref[:12] if edge.parsed.is_sha_pinned else ref


def _dot_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_mermaid(graph: Graph) -> str:
    ids = node_ids(graph)
    lines = ["flowchart LR"]
    for key, name in ids.items():
        lines.append(f'  {name}["{_mermaid_text(_label(graph, graph.nodes[key]))}"]')
    styles: dict[str, list[int]] = {}
    for index, edge in enumerate(graph.edges):
        label = _edge_label(edge)
        arrow = f"-->|{_mermaid_text(label)}|" if label else "-->"
        lines.append(f"  {ids[edge.source]} {arrow} {ids[edge.target]}")
        styles.setdefault(edge_status(graph, edge), []).append(index)
    for status, indexes in styles.items():
        numbers = ",".join(str(i) for i in indexes)
        lines.append(f"  linkStyle {numbers} stroke:{_COLOURS[status]}")
    problem_nodes = [
        ids[key] for key, node in graph.nodes.items() if node.kind is NodeKind.UNRESOLVED
    ]
    if problem_nodes:
        lines.append("  classDef problem stroke:red,stroke-width:2px")
        lines.append(f"  class {','.join(problem_nodes)} problem")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Text safe inside a Mermaid label (quotes and markup as entity codes)."""
    replaced = text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
    replaced = replaced.replace(">", "#gt;").replace("|", "#124;")
    return replaced.replace("\n", "<br/>")


RENDERERS = {
    "tree": render_tree,
    "json": render_json,
    "dot": render_dot,
    "mermaid": render_mermaid,
}
