"""The action graph: every file a workflow really runs, the ``uses:`` that bring each in.

A :class:`Graph` is built by :func:`bastion.graph.resolve.resolve_graph` from the user's
files (the *roots*: workflows, and the user's own action files) and what their ``uses:``
name, recursively.

Nodes
    A :class:`Node` is one called thing at one commit, keyed by :class:`NodeKey`
    ``(owner, repo, path, commit)``: ``path`` is the action's folder in the repository
    (``""`` for the repository root) or the reusable workflow's file. Files of the user's
    checkout (roots and ``./`` local actions) have ``owner == repo == commit == ""`` and
    ``path`` relative to the checkout (an action's folder, a workflow's file: a root action
    file and the ``./folder`` that names it are one node). A ``uses:`` that could not be
    resolved gives a node of kind ``UNRESOLVED`` whose ``commit`` is ``""`` and whose ``ref``
    keeps the ref asked for, so two failed refs of one action stay apart. ``docker://``
    images are nodes of kind ``IMAGE`` (``path`` is the image reference), without files.

    ``files`` holds the fetched bytes by path in the repository (the action file, the
    Dockerfile a docker action builds, the scripts a composite step runs through
    ``github.action_path``); ``view`` is the parsed :class:`Action` or :class:`Workflow`
    (``build_action`` / ``build_workflow``), ``None`` when the metadata is missing or not
    YAML. ``metadata`` names the file of ``files`` the view was read from.

Edges
    An :class:`Edge` is one ``uses:`` as written: ``source`` (the node whose file holds
    it), ``target``, ``uses`` (the exact spelling), ``file``/``span``/``route`` where it is
    written in the source's ``metadata`` file, and ``job`` (the job it belongs to when the
    source is a workflow). Each ``uses:`` gives one edge even when several resolve to the
    same node.

Chains
    :meth:`Graph.chains` lists how each root job reaches a node, as :class:`Chain` values
    (``release.yml \u203a job publish \u203a TanStack/config/.github/setup@main \u203a
    actions/cache@v4``, joined by :data:`SEPARATOR`).
    A finding in a called file points at ``chain.edges[0]`` (the line of the user's own file)
    and carries the rest as its ``via``.

Problems
    Whatever went wrong is a :class:`Problem` at the edge that brought the node in (its
    first edge in the order of the roots), never an abort: repository not found or private
    without a token, ref not found, file missing, malformed action, a limit of GitHub's
    exceeded, a cycle. ``Problem.node`` names the node it is about when there is one.

Marks (hook for audits)
    :class:`Mark` values (status ``gap`` or ``finding``) are what the audits add to the
    tree: ``bastion graph`` calls ``bastion.graph.audit.marks(graph) -> list[Mark]`` when
    that module defines it, and the renderers show them next to the node.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from bastion.findings import Span
from bastion.model.uses import Uses, UsesKind, image_is_digest_pinned
from bastion.model.workflow import Action, Workflow


class NodeKind(enum.Enum):
    ROOT = "root"
    """A file of the user's checkout given as input (a workflow or an action)."""
    COMPOSITE = "composite"
    JAVASCRIPT = "javascript"
    DOCKER = "docker"
    REUSABLE_WORKFLOW = "reusable-workflow"
    LOCAL = "local"
    """A ``./path`` action read from the user's checkout."""
    IMAGE = "image"
    """A ``docker://`` image: nothing to fetch."""
    UNRESOLVED = "unresolved"
    """A ``uses:`` whose target could not be read; its problem says why."""


class ProblemKind(enum.Enum):
    REPOSITORY_NOT_FOUND = "repository-not-found"
    """The repository does not exist, or is private and no token (or the token) can read it."""
    ACCESS_DENIED = "access-denied"
    """The server refused (403): no access, or a rate limit."""
    REF_NOT_FOUND = "ref-not-found"
    FILE_MISSING = "file-missing"
    MALFORMED = "malformed"
    """The action or workflow file is not valid YAML or not what GitHub accepts."""
    LIMIT = "limit"
    """Past one of GitHub's limits (nesting depth, number of called workflows)."""
    CYCLE = "cycle"
    INVALID_USES = "invalid-uses"
    """The ``uses:`` cannot be resolved as written (an expression, a malformed name)."""
    FETCH_FAILED = "fetch-failed"
    """The network or the server failed; trying again may help."""


@dataclass(frozen=True, slots=True, order=True)
class NodeKey:
    owner: str
    repo: str
    path: str
    commit: str
    ref: str = ""
    """Only for unresolved nodes (``commit == ""``): the ref that was asked for."""

    @property
    def is_checkout(self) -> bool:
        """A file of the user's checkout (a root or a local action), not of a repository."""
        return not self.owner

    @property
    def slug(self) -> str:
        """``owner/repo/path`` (``owner/repo`` at the root); the path alone in the checkout."""
        if self.is_checkout:
            return self.path
        base = f"{self.owner}/{self.repo}"
        return f"{base}/{self.path}" if self.path else base

    def __str__(self) -> str:
        if self.is_checkout:
            return self.path
        return f"{self.slug}@{self.commit or self.ref or '?'}"


@dataclass(slots=True)
class Node:
    key: NodeKey
    kind: NodeKind
    metadata: str = ""
    """Path (in ``files``) of the action or workflow file the view was read from."""
    files: dict[str, bytes] = field(default_factory=dict)
    view: Action | Workflow | None = None
    refs: set[str] = field(default_factory=set)
    """The refs (as written) that resolved to this node."""
    ref_kinds: dict[str, str] = field(default_factory=dict)
    """How each of ``refs`` resolved: ``"commit"`` (a full SHA), ``"tag"`` or ``"branch"``."""
    workspace_dependent: bool = False
    """A local action named from a remote file: GitHub reads ``./`` from whatever the job
    checked out (the caller's workspace), so its content is not fixed by any commit."""

    @property
    def own(self) -> bool:
        """A file of the user's checkout whose content the checkout fixes (not a local action
        named from a remote file): the file pass checks it already."""
        return self.key.is_checkout and not self.workspace_dependent

    @property
    def action(self) -> Action | None:
        return self.view if isinstance(self.view, Action) else None

    @property
    def workflow(self) -> Workflow | None:
        return self.view if isinstance(self.view, Workflow) else None

    def text(self, path: str) -> str | None:
        """A fetched file decoded as UTF-8 (``None`` when absent or not text)."""
        data = self.files.get(path)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True, slots=True)
class Edge:
    source: NodeKey
    target: NodeKey
    uses: str
    """The ``uses:`` value exactly as written."""
    parsed: Uses
    file: str
    """The file of the source that holds the ``uses:`` (the source node's ``metadata``)."""
    span: Span
    route: str
    """Route of the ``uses:`` in that file, e.g. ``jobs/build/steps/2/uses``."""
    job: str | None = None
    """The job of the source workflow the ``uses:`` belongs to."""

    @property
    def pinned(self) -> bool:
        """Pinned to a full commit SHA (or a ``docker://`` image to a digest)."""
        if self.parsed.kind is UsesKind.DOCKER:
            return image_is_digest_pinned(self.parsed.image)
        return self.parsed.is_sha_pinned

    @property
    def local(self) -> bool:
        return self.parsed.kind is UsesKind.LOCAL


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str
    edge: Edge | None
    """The ``uses:`` that brought the node in (``None`` for a root file that cannot be read)."""
    node: NodeKey | None = None


@dataclass(frozen=True, slots=True)
class Chain:
    """How a root job reaches a node: the root file, then each ``uses:`` in turn, with the
    job it belongs to wherever the file is a workflow."""

    root: str
    job: str | None
    edges: tuple[Edge, ...]

    def __str__(self) -> str:
        parts = [self.root.rsplit("/", 1)[-1]]
        for edge in self.edges:
            if edge.job is not None:
                parts.append(f"job {edge.job}")
            parts.append(edge.uses)
        return SEPARATOR.join(parts)


MarkStatus = Literal["gap", "finding"]


@dataclass(frozen=True, slots=True)
class Mark:
    """An audit result shown on a node of the tree (added by ``bastion.graph.audit``)."""

    status: MarkStatus
    node: NodeKey
    message: str
    rule: str = ""
    edge: Edge | None = None


SEPARATOR = " \u203a "
"""Between the parts of a chain (a single right-pointing angle quotation mark)."""
MAX_CHAINS = 50
"""Chains listed per node at most (diamonds can make their number grow fast)."""


@dataclass(slots=True)
class Graph:
    roots: list[NodeKey] = field(default_factory=list)
    nodes: dict[NodeKey, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    _out: dict[NodeKey, list[Edge]] = field(default_factory=dict, repr=False)
    _in: dict[NodeKey, list[Edge]] = field(default_factory=dict, repr=False)

    def add_node(self, node: Node) -> Node:
        """Add ``node`` unless a node with its key is there; return the one in the graph."""
        return self.nodes.setdefault(node.key, node)

    def add_edge(self, edge: Edge) -> None:
        self.edges.append(edge)
        self._out.setdefault(edge.source, []).append(edge)
        self._in.setdefault(edge.target, []).append(edge)

    def outgoing(self, key: NodeKey) -> list[Edge]:
        """The ``uses:`` written in ``key``'s files, in file order."""
        return self._out.get(key, [])

    def incoming(self, key: NodeKey) -> list[Edge]:
        return self._in.get(key, [])

    def problems_of(self, key: NodeKey) -> list[Problem]:
        return [problem for problem in self.problems if problem.node == key]

    def problems_at(self, edge: Edge) -> list[Problem]:
        return [problem for problem in self.problems if problem.edge is edge]

    def marks_of(self, key: NodeKey) -> list[Mark]:
        return [mark for mark in self.marks if mark.node == key]

    def walk(self) -> Iterator[Node]:
        """Every node reachable from the roots, each once, roots first (breadth first)."""
        seen: set[NodeKey] = set()
        queue = [key for key in self.roots if key in self.nodes]
        while queue:
            key = queue.pop(0)
            if key in seen:
                continue
            seen.add(key)
            yield self.nodes[key]
            queue.extend(edge.target for edge in self.outgoing(key) if edge.target in self.nodes)

    def chains(self, key: NodeKey, limit: int = MAX_CHAINS) -> list[Chain]:
        """How root jobs reach ``key`` (each a path of edges without repeated nodes)."""
        found: list[Chain] = []
        roots = set(self.roots)

        def back(current: NodeKey, suffix: tuple[Edge, ...], on_path: frozenset[NodeKey]) -> None:
            if len(found) >= limit:
                return
            if current in roots and suffix:
                first = suffix[0]
                found.append(Chain(self.nodes[current].metadata or current.path, first.job, suffix))
            for edge in self.incoming(current):
                if edge.source not in on_path:
                    back(edge.source, (edge, *suffix), on_path | {edge.source})

        back(key, (), frozenset({key}))
        return found
