"""Resolve every ``uses:`` of the user's files, recursively, into a :class:`Graph`.

:func:`resolve_graph` works level by level (breadth first). At each level the targets are
grouped by repository and each repository is handled by one worker (at most
``CONCURRENCY`` at once), which sends, for everything the cache does not hold:

1. the ref listing (only when some ref is a tag or a branch; full SHAs are taken as is);
2. one ``fetch`` of the trees of all its commits needed at this level (no blobs);
3. one ``fetch`` of the blobs named by the trees: each ``action.yml``/``action.yaml`` or
   reusable workflow file, and the ``Dockerfile`` next to an action when there is one (a
   folder with a Dockerfile and no action file is a docker action to the runner), with the
   files its earlier nodes wait for (see 4);
4. the files the parsed files name (see :func:`_extra_files`: the Dockerfile a docker
   action builds from elsewhere and what it copies, the scripts a composite step runs from
   the action's own tree, then the scripts those run) are not needed to go on: they wait
   for the repository's next request, at the next level (alone when it has no other work
   there), for at most ``MAX_EXTRA_ROUNDS`` requests.

Local actions (``./path``) are read from the user's checkout. Written in a remote file, a
step's ``./path`` names whatever the job checked out (GitHub resolves it in the workspace),
so the node is marked ``workspace_dependent``; a job's ``./.github/workflows/x.yml`` in a
remote reusable workflow is the same repository at the same commit, as GitHub reads it.

Limits are GitHub's (github.com): ten levels of workflows (the caller and nine reusable
workflows), 50 distinct reusable workflows under one top-level workflow, composite actions
nested ten deep. Every failure is a :class:`Problem` at the ``uses:`` that brought the node
in (once, at its first ``uses:`` in the order of the roots); the rest of the graph still
resolves. Cycles are found once the graph is built (a ``uses:`` that calls back into a node
on its own path); an action file that is a symlink is read through it.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import threading
from collections.abc import Callable, Container, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bastion.errors import BastionError
from bastion.github.git import MODE_SYMLINK, GitError, RefListing, Snapshot
from bastion.inputs import Kind, collect
from bastion.model.graph import (
    Edge,
    Graph,
    Node,
    NodeKey,
    NodeKind,
    Problem,
    ProblemKind,
)
from bastion.model.uses import Uses, UsesKind
from bastion.model.workflow import (
    Action,
    Step,
    Workflow,
    build_action,
    build_workflow,
    looks_like_action,
)
from bastion.pinning.resolver import CONCURRENCY, NotCached, Resolver
from bastion.source.files import FileAccessError, read_file
from bastion.source.text import LineIndex
from bastion.source.yaml import ScalarNode, YamlError, node_span, parse

ACTION_FILES = ("action.yml", "action.yaml")
DOCKERFILES = ("Dockerfile", "dockerfile")
"""What the runner builds when a folder has no action file."""
MAX_EXTRA_ROUNDS = 3
"""Requests that may bring a node's extra files: its scripts, then the scripts they run..."""
MAX_LOCAL_BYTES = 1024 * 1024
"""Largest file read from the checkout."""
_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_JAVASCRIPT = re.compile(r"node\d+")
_ACTION_PATH = re.compile(
    r"(?:\$\{\{\s*github\.action_path\s*\}\}|\$(?:[Ee]nv:)?\{?GITHUB_ACTION_PATH(?::?[-?=+][^}]*)?\}?)"
    r"\"?[/\\]([A-Za-z0-9_./@+-]+)"
)
_MENTIONS_ACTION_PATH = re.compile(r"github\.action_path|GITHUB_ACTION_PATH")
_CD_ACTION_PATH = re.compile(
    r"\bcd\s+\"?(?:\$\{\{\s*github\.action_path\s*\}\}|\$\{?GITHUB_ACTION_PATH\}?)\"?(?:\s|;|&|$)"
)
_ADDS_TO_PATH = re.compile(
    r"(?:github\.action_path|GITHUB_ACTION_PATH)\}*\"?\s*>>\s*\"?\$\{?GITHUB_PATH"
)
_MANIFEST = re.compile(
    r"requirements[\w.-]*\.(?:txt|in)|constraints[\w.-]*\.txt|pyproject\.toml|[\w.-]+\.lock"
    r"|package(?:-lock)?\.json|go\.(?:mod|sum)|Cargo\.toml|Gemfile|Pipfile"
)
"""Dependency manifests: what a folder copied into an image installs from."""
_PYTHON_MODULE = re.compile(r"\bpython[0-9.]*\s+-m\s+([A-Za-z_][A-Za-z0-9_.]*)")
_SHELL_SUFFIXES = (".sh", ".bash", ".zsh")
_SHELL_SHEBANG = re.compile(r"#!\s*\S*(?:/|env\s+)(?:ba|z|da|k)?sh\b")
_OWN_FOLDER = re.compile(
    r"\$\(\s*dirname\s+[^)]*(?:\$0|\$\{0\}|BASH_SOURCE)[^)]*\)"
    r"|\$\{0%/\*\}|\$\{BASH_SOURCE(?:\[0\])?%/\*\}"
)
"""Shell for the folder of the running script."""
_OWN_FOLDER_VARIABLE = re.compile(
    r"^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=[^\n]*?"
    r"(?:dirname\s[^\n]*(?:\$0|\$\{0\}|BASH_SOURCE)|\$\{0%/\*\}|\$\{BASH_SOURCE(?:\[0\])?%/\*\})",
    re.MULTILINE,
)
"""A variable set to the script's own folder (``DIR=$(cd "$(dirname "$0")" && pwd)``)."""
_CONTINUATION = re.compile(r"\\\r?\n")
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(?!--from)(.+)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Limits:
    """GitHub's limits (github.com), and a bound of our own on the graph's size."""

    workflow_levels: int = 10
    """The top-level workflow and up to nine levels of reusable workflows."""
    reusable_workflows: int = 50
    """Distinct reusable workflows under one top-level workflow, nested ones included."""
    composite_depth: int = 10
    """Composite actions nested in one another."""
    nodes: int = 5000


@dataclass(frozen=True, slots=True)
class RootFile:
    """A file of the user's checkout: ``path`` relative to the folder given to
    :func:`resolve_graph` as ``checkout``, with its text."""

    path: str
    text: str
    is_action: bool = False
    checkout: str = ""
    """The folder of the repository it belongs to, relative to that folder ("" when it is
    that folder): its ``./`` actions are read there (several checkouts can share a graph)."""


@dataclass(frozen=True, slots=True)
class Progress:
    level: int
    done: int
    total: int
    repository: str


@dataclass(frozen=True, slots=True)
class _Context:
    root: NodeKey
    workflow_level: int
    """1 in a top-level workflow, 2 in a reusable workflow it calls, ..."""
    composite_depth: int
    checkout: str
    """Where the root's ``./`` actions live (see RootFile.checkout)."""


@dataclass(slots=True)
class _Request:
    """A ``uses:`` waiting to be resolved."""

    source: Node
    uses: Uses
    node: ScalarNode
    route: str
    job: str | None
    context: _Context
    job_level: bool
    """A job's ``uses:`` (a reusable workflow), not a step's."""
    target: Uses | None = None
    """What to resolve when it is not ``uses`` as written: a called workflow's
    ``./.github/workflows/x.yml`` is its own repository at its own commit."""

    @property
    def resolving(self) -> Uses:
        return self.target or self.uses


@dataclass(slots=True)
class _Outcome:
    """What a worker found for one request: the target key, a new node, problems."""

    request: _Request
    key: NodeKey
    node: Node | None = None
    problem: tuple[ProblemKind, str] | None = None
    ref_kind: str = ""


def load_roots(
    target: Path, exclude: Callable[[Path], bool] | None = None
) -> tuple[list[RootFile], Path, list[str]]:
    """The workflows and actions under ``target`` (a checkout, or a file in one), skipping
    what ``exclude`` (the configuration's) skips, the checkout their ``./`` actions are read
    from, and what could not be read."""
    checkout = target if target.is_dir() else _checkout_of(target)
    roots: list[RootFile] = []
    errors: list[str] = []
    for item in collect([str(target)], exclude=exclude):
        if item.path is None or item.kind not in (None, Kind.WORKFLOW, Kind.ACTION):
            continue
        display = item.path.resolve().relative_to(checkout.resolve()).as_posix()
        try:
            data = read_file(item.path, checkout.resolve(), MAX_LOCAL_BYTES)
        except FileAccessError as error:
            errors.append(f"{item.display}: {error.reason}; skipped")
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            errors.append(f"{item.display} is not UTF-8; skipped")
            continue
        is_action = item.kind is Kind.ACTION
        if item.kind is None:
            try:
                is_action = looks_like_action(parse(text))
            except YamlError:
                is_action = False
        roots.append(RootFile(display, text, is_action))
    return roots, checkout, errors


def _checkout_of(path: Path) -> Path:
    """The folder holding the ``.github`` folder above ``path``, else its own folder."""
    resolved = path.resolve()
    for parent in resolved.parents:
        if parent.name == ".github":
            return parent.parent
    return resolved.parent


def resolve_graph(
    roots: Sequence[RootFile],
    resolver: Resolver,
    *,
    checkout: Path | None = None,
    limits: Limits = Limits(),
    progress: Callable[[Progress], None] | None = None,
    workers: int = CONCURRENCY,
) -> Graph:
    """The graph of ``roots`` and everything they call (see the module docstring)."""
    return _Builder(resolver, checkout, limits, progress, workers).build(roots)


class _Builder:
    def __init__(
        self,
        resolver: Resolver,
        checkout: Path | None,
        limits: Limits,
        progress: Callable[[Progress], None] | None,
        workers: int,
    ) -> None:
        self.resolver = resolver
        self.checkout = checkout.resolve() if checkout is not None else None
        self.limits = limits
        self.progress = progress
        self.workers = max(1, workers)
        self.graph = Graph()
        self.spelling: dict[tuple[str, str], tuple[str, str]] = {}
        self._deferred: dict[tuple[str, str], tuple[str, str, list[_Extras]]] = {}
        """Per repository (lowercased): its spelling and the nodes whose extra files (see
        :func:`_extra_files`) are still to fetch; they go with its next request."""
        self._lock = threading.Lock()

    # Roots and levels ------------------------------------------------------------------

    def build(self, roots: Sequence[RootFile]) -> Graph:
        pending: list[_Request] = []
        for root in roots:
            folder = posixpath.dirname(root.path) if root.is_action else root.path
            key = NodeKey("", "", folder, "")
            if key in self.graph.nodes:
                continue
            node = Node(key, NodeKind.ROOT, metadata=root.path, files={})
            node.files[root.path] = root.text.encode("utf-8")
            self.graph.roots.append(key)
            self.graph.add_node(node)
            try:
                node.view = parse_view(root.path, root.text, action=root.is_action)
            except YamlError as error:
                message = f"{root.path}:{error.point.line}: {error.message}"
                self.graph.problems.append(Problem(ProblemKind.MALFORMED, message, None, key))
                continue
            action = node.action
            if action is not None:
                for extra in _extra_files(action, folder, None):
                    data = self._read_bytes(extra)
                    if data is not None:
                        node.files[extra] = data
            context = _Context(key, 1, 1 if root.is_action else 0, root.checkout)
            pending.extend(self._requests(node, context))
        level = 0
        while pending or self._deferred:
            level += 1
            pending = self._level(level, pending)
        self._find_cycles()
        self._count_reusable_workflows()
        return self.graph

    def _level(self, level: int, requests: list[_Request]) -> list[_Request]:
        """Resolve one level; return the requests of the nodes it added."""
        outcomes: dict[int, _Outcome] = {}
        remote: dict[tuple[str, str], list[tuple[int, _Request]]] = {}
        for index, request in enumerate(requests):
            immediate = self._immediate(request)
            if immediate is not None:
                outcomes[index] = immediate
                continue
            uses = request.resolving
            canonical = self._canonical(uses.owner, uses.repo)
            remote.setdefault((canonical[0].lower(), canonical[1].lower()), []).append(
                (index, request)
            )
        with self._lock:
            # Repositories with files still to fetch and no uses at this level: those files
            # are fetched now, beside the other repositories' requests.
            for slug, (owner, repo, _) in self._deferred.items():
                remote.setdefault(slug, [])
                self.spelling.setdefault(slug, (owner, repo))
        groups = list(remote.items())
        done = 0

        def work(
            item: tuple[tuple[str, str], list[tuple[int, _Request]]],
        ) -> list[tuple[int, _Outcome]]:
            nonlocal done
            found = self._repository(*item)
            with self._lock:
                done += 1
                if self.progress is not None:
                    owner, repo = self.spelling[item[0]]
                    self.progress(Progress(level, done, len(groups), f"{owner}/{repo}"))
            return found

        if len(groups) > 1 and self.workers > 1 and not self.resolver.offline:
            with ThreadPoolExecutor(min(self.workers, len(groups))) as pool:
                results = list(pool.map(work, groups))
        else:
            results = [work(group) for group in groups]
        for result in results:
            outcomes.update(result)
        following: list[_Request] = []
        for index in sorted(outcomes):
            following.extend(self._merge(outcomes[index]))
        return following

    def _merge(self, outcome: _Outcome) -> list[_Request]:
        """Add the outcome's edge (and node) to the graph; return the node's own requests."""
        request = outcome.request
        graph = self.graph
        key = outcome.key
        problem = outcome.problem
        new = key not in graph.nodes
        if new:
            node = outcome.node or Node(key, NodeKind.UNRESOLVED)
            if len(graph.nodes) >= self.limits.nodes:
                key = _unresolved(request.uses)
                node = Node(key, NodeKind.UNRESOLVED)
                problem = (ProblemKind.LIMIT, f"the graph has more than {self.limits.nodes} nodes")
                new = key not in graph.nodes
            graph.add_node(node)
        node = graph.nodes[key]
        if request.uses.ref:
            node.refs.add(request.uses.ref)
            if outcome.ref_kind:
                node.ref_kinds[request.uses.ref] = outcome.ref_kind
        source = request.source
        edge = Edge(
            source.key,
            key,
            request.node.value,
            request.uses,
            source.metadata,
            node_span(request.node),
            f"{request.route}/uses",
            request.job,
        )
        graph.add_edge(edge)
        if not new:
            return []
        if problem is not None:
            graph.problems.append(Problem(problem[0], problem[1], edge, key))
            return []
        for message in _view_problems(node):
            graph.problems.append(Problem(ProblemKind.MALFORMED, message, edge, key))
        child = self._child_context(request.context, node, edge)
        return [] if child is None else self._requests(node, child)

    def _child_context(self, context: _Context, node: Node, edge: Edge) -> _Context | None:
        """The context of the node's own ``uses:``; None (and a problem) past a limit."""
        workflow = node.workflow
        if workflow is not None:
            level = context.workflow_level + 1
            if level > self.limits.workflow_levels:
                self.graph.problems.append(
                    Problem(
                        ProblemKind.LIMIT,
                        f"more than {self.limits.workflow_levels} levels of workflows "
                        "(GitHub stops the run)",
                        edge,
                        node.key,
                    )
                )
                return None
            return _Context(context.root, level, 0, context.checkout)
        action = node.action
        if action is not None and action.is_composite:
            depth = context.composite_depth + 1
            if depth > self.limits.composite_depth:
                self.graph.problems.append(
                    Problem(
                        ProblemKind.LIMIT,
                        f"composite actions nested more than {self.limits.composite_depth} "
                        "deep (GitHub stops the run)",
                        edge,
                        node.key,
                    )
                )
                return None
            return _Context(context.root, context.workflow_level, depth, context.checkout)
        return _Context(
            context.root, context.workflow_level, context.composite_depth, context.checkout
        )

    def _find_cycles(self) -> None:
        """A problem at each ``uses:`` that calls back into a node on its own path."""
        graph = self.graph
        finished: set[NodeKey] = set()
        for root in graph.roots:
            if root in finished:
                continue
            on_path: set[NodeKey] = {root}
            stack: list[tuple[NodeKey, int]] = [(root, 0)]
            while stack:
                current, position = stack[-1]
                edges = graph.outgoing(current)
                if position == len(edges):
                    stack.pop()
                    on_path.discard(current)
                    finished.add(current)
                    continue
                stack[-1] = (current, position + 1)
                edge = edges[position]
                target = edge.target
                if target in on_path:
                    message = f"{edge.uses} calls back into {target.slug}, already on this path"
                    graph.problems.append(
                        Problem(ProblemKind.CYCLE, f"a cycle: {message}", edge, target)
                    )
                elif target not in finished:
                    on_path.add(target)
                    stack.append((target, 0))

    def _count_reusable_workflows(self) -> None:
        """A problem at the ``uses:`` that calls the 51st distinct reusable workflow of a root."""
        graph = self.graph
        for root in graph.roots:
            if graph.nodes[root].workflow is None:
                continue
            called: set[NodeKey] = set()
            visited: set[NodeKey] = {root}
            queue = [root]
            while queue:
                current = queue.pop(0)
                for edge in graph.outgoing(current):
                    target = edge.target
                    if graph.nodes[target].workflow is not None and target not in called:
                        called.add(target)
                        if len(called) == self.limits.reusable_workflows + 1:
                            message = (
                                f"{root.path} calls more than {self.limits.reusable_workflows} "
                                "distinct reusable workflows (GitHub refuses the workflow)"
                            )
                            graph.problems.append(Problem(ProblemKind.LIMIT, message, edge, target))
                    if target not in visited:
                        visited.add(target)
                        queue.append(target)

    # The uses of a node ----------------------------------------------------------------

    def _requests(self, node: Node, context: _Context) -> list[_Request]:
        requests: list[_Request] = []
        view = node.view
        if isinstance(view, Workflow):
            for job in view.jobs:
                if job.uses is not None and job.uses_node is not None:
                    requests.append(
                        _Request(
                            node, job.uses, job.uses_node, job.route, job.job_id, context, True
                        )
                    )
                requests.extend(self._step_requests(node, job.steps, job.job_id, context))
        elif isinstance(view, Action):
            requests.extend(self._step_requests(node, view.steps, None, context))
        return requests

    def _step_requests(
        self, node: Node, steps: Iterable[Step], job: str | None, context: _Context
    ) -> list[_Request]:
        return [
            _Request(node, step.uses, step.uses_node, step.route, job, context, False)
            for step in steps
            if step.uses is not None and step.uses_node is not None
        ]

    def _immediate(self, request: _Request) -> _Outcome | None:
        """The outcome of a request that needs no repository: images, local files, errors."""
        uses = request.uses
        if uses.kind is UsesKind.DOCKER:
            return _Outcome(
                request, NodeKey("", "", uses.text, ""), Node(_image(uses), NodeKind.IMAGE)
            )
        if uses.kind is UsesKind.LOCAL:
            return self._local(request)
        problem = _invalid(uses, job_level=request.job_level)
        if problem is not None:
            return _Outcome(request, _unresolved(uses), None, (ProblemKind.INVALID_USES, problem))
        return None

    # Local actions ---------------------------------------------------------------------

    def _local(self, request: _Request) -> _Outcome | None:
        uses = request.uses
        source = request.source
        relative = posixpath.normpath(uses.text.removeprefix("./").removeprefix("$/") or ".")
        relative = "" if relative == "." else relative
        if relative.startswith(("../", "/")) or relative == "..":
            return _Outcome(
                request,
                _unresolved(uses),
                None,
                (ProblemKind.INVALID_USES, f"{uses.text!r} leaves the repository"),
            )
        remote = not source.key.is_checkout
        if remote and request.job_level:
            # A called workflow's own ./.github/workflows/x.yml: same repository and commit.
            owner, repo, commit = source.key.owner, source.key.repo, source.key.commit
            key = NodeKey(owner, repo, relative, commit)
            if key in self.graph.nodes:
                return _Outcome(request, key)
            spelled = f"{owner}/{repo}/{relative}@{commit}"
            request.target = Uses(spelled, UsesKind.REPOSITORY, owner, repo, relative, commit)
            return None  # fetched with the other requests of its repository
        relative = posixpath.join(request.context.checkout, relative).rstrip("/")
        key = NodeKey("", "", relative, "")
        if key in self.graph.nodes:
            return _Outcome(request, key)
        node = Node(key, NodeKind.LOCAL, workspace_dependent=remote)
        if request.job_level:
            text = self._read_local(relative)
            if text is None:
                return _Outcome(
                    request,
                    key,
                    node,
                    (ProblemKind.FILE_MISSING, f"{relative} is not in the checkout"),
                )
            node.metadata = relative
            node.files[relative] = text.encode("utf-8")
            return self._parsed(request, node, text, action=False)
        for name in ACTION_FILES:
            path = posixpath.join(relative, name) if relative else name
            text = self._read_local(path)
            if text is None:
                continue
            node.metadata = path
            node.files[path] = text.encode("utf-8")
            outcome = self._parsed(request, node, text, action=True)
            if outcome.problem is None and node.action is not None:
                for extra in _extra_files(node.action, relative, None):
                    data = self._read_bytes(extra)
                    if data is not None:
                        node.files[extra] = data
            return outcome
        for name in DOCKERFILES:
            path = posixpath.join(relative, name) if relative else name
            data = self._read_bytes(path)
            if data is not None:
                node.metadata = path
                node.files[path] = data
                return _Outcome(request, key, node)
        if remote:
            # Whatever the job checked out; the user's checkout is only a guess.
            return _Outcome(request, key, node)
        return _Outcome(
            request,
            key,
            node,
            (ProblemKind.FILE_MISSING, f"no action.yml or action.yaml in {relative or '.'}"),
        )

    def _read_bytes(self, relative: str) -> bytes | None:
        """A file of the checkout through the safe file layer (bounded, regular files only,
        never outside the checkout, even through a symlink); None when it cannot be read."""
        if self.checkout is None:
            return None
        try:
            return read_file(self.checkout / relative, self.checkout, MAX_LOCAL_BYTES)
        except FileAccessError:
            return None

    def _read_local(self, relative: str) -> str | None:
        data = self._read_bytes(relative)
        if data is None:
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None

    # Remote repositories ---------------------------------------------------------------

    def _canonical(self, owner: str, repo: str) -> tuple[str, str]:
        with self._lock:
            return self.spelling.setdefault((owner.lower(), repo.lower()), (owner, repo))

    def _repository(
        self, slug: tuple[str, str], group: list[tuple[int, _Request]]
    ) -> list[tuple[int, _Outcome]]:
        """Resolve every request of one repository at this level (see the module docstring),
        and fetch the extra files its earlier nodes still lack."""
        with self._lock:
            owner, repo = self.spelling[slug]
            _, _, extras = self._deferred.pop(slug, ("", "", []))
        outcomes: list[tuple[int, _Outcome]] = []
        commits: dict[int, str] = {}
        kinds: dict[int, str] = {}
        listing: RefListing | BastionError | None = None
        for index, request in group:
            ref = request.resolving.ref or ""
            if _FULL_SHA.fullmatch(ref):
                commits[index] = ref
                kinds[index] = "commit"
                continue
            if listing is None:
                listing = self._listing(owner, repo)
            if isinstance(listing, BastionError):
                outcomes.append(
                    (
                        index,
                        _Outcome(request, _unresolved(request.resolving), None, _failure(listing)),
                    )
                )
                continue
            # A tag first, then a branch, as git resolves a short name.
            commit = listing.tags.get(ref) or listing.heads.get(ref)
            kinds[index] = "tag" if ref in listing.tags else "branch"
            if commit is None:
                message = f"{ref!r} is neither a tag nor a branch of {owner}/{repo}"
                outcomes.append(
                    (
                        index,
                        _Outcome(
                            request,
                            _unresolved(request.resolving),
                            None,
                            (ProblemKind.REF_NOT_FOUND, message),
                        ),
                    )
                )
                continue
            commits[index] = commit
        fresh: dict[int, NodeKey] = {}
        for index, request in group:
            if index not in commits:
                continue
            key = NodeKey(owner, repo, _target_path(request.resolving), commits[index])
            if key in self.graph.nodes:
                outcomes.append((index, _Outcome(request, key)))
            else:
                fresh[index] = key
        if fresh:
            listed = {commits[i] for i in fresh if kinds.get(i) in ("tag", "branch")}
            outcomes.extend(self._fetch(owner, repo, group, fresh, extras=extras, listed=listed))
        elif extras:
            fetched = self.resolver.objects(owner, repo, (), _attach(extras, {}))
            self._attach_extras(owner, repo, extras, fetched.blobs)
        for index, outcome in outcomes:
            outcome.ref_kind = kinds.get(index, "") if outcome.problem is None else ""
        return outcomes

    def _listing(self, owner: str, repo: str) -> RefListing | BastionError:
        known = self.resolver.known_missing(owner, repo)
        if known is not None:
            return known
        try:
            return self.resolver.listing(owner, repo)
        except GitError as error:
            self.resolver.remember_missing(owner, repo, error)
            return error
        except BastionError as error:
            return error

    def _snapshots(
        self, owner: str, repo: str, commits: Iterable[str], listed: set[str]
    ) -> dict[str, Snapshot | BastionError]:
        """The snapshots of ``commits``, in one request; ``listed`` are the commits the ref
        listing named (the server holds them)."""
        known = self.resolver.known_missing(owner, repo)
        if known is not None:
            return dict.fromkeys(commits, known)
        found = self.resolver.objects(owner, repo, commits, listed=listed).snapshots
        for value in found.values():
            if isinstance(value, GitError) and value.not_found:
                self.resolver.remember_missing(owner, repo, value)
                break
        return found

    def _attach_extras(
        self, owner: str, repo: str, extras: list[_Extras], blobs: dict[str, bytes]
    ) -> None:
        """Put the fetched extra files into their nodes; what they name in turn (a script a
        script runs) waits for the repository's next request, for at most
        ``MAX_EXTRA_ROUNDS`` requests."""
        _attach(extras, blobs)
        waiting = [extra for extra in extras if extra.rounds < MAX_EXTRA_ROUNDS]
        for extra in waiting:
            extra.rounds += 1
        waiting = [extra for extra in waiting if _attach([extra], {})]
        if waiting:
            with self._lock:
                slug = (owner.lower(), repo.lower())
                entry = self._deferred.setdefault(slug, (owner, repo, []))
                entry[2].extend(waiting)

    def _fetch(
        self,
        owner: str,
        repo: str,
        group: list[tuple[int, _Request]],
        fresh: dict[int, NodeKey],
        *,
        extras: list[_Extras],
        listed: set[str],
    ) -> list[tuple[int, _Outcome]]:
        """Build the nodes of ``fresh`` (request index -> key): trees, then blobs (with the
        extra files earlier nodes of the repository wait for)."""
        requests = dict(group)
        commits = {key.commit for key in fresh.values()}
        snapshots = self._snapshots(owner, repo, commits, listed)
        built: dict[NodeKey, _Outcome] = {}
        keys: dict[int, NodeKey] = {}
        outcomes: list[tuple[int, _Outcome]] = []
        found: dict[NodeKey, Snapshot] = {}
        first: dict[NodeKey, _Request] = {}
        for index, asked in fresh.items():
            request = requests[index]
            snapshot = snapshots.get(asked.commit)
            if not isinstance(snapshot, Snapshot):
                error = snapshot or GitError(f"no snapshot of {owner}/{repo}@{asked.commit[:12]}")
                failure = _Outcome(
                    request,
                    _unresolved(request.resolving),
                    None,
                    _failure(error, f"{owner}/{repo}@{asked.commit}"),
                )
                outcomes.append((index, failure))
                continue
            # A full SHA may name an annotated tag: the node is keyed by the commit.
            key = NodeKey(owner, repo, asked.path, snapshot.commit)
            keys[index] = key
            found.setdefault(key, snapshot)
            first.setdefault(key, request)
        # First round of blobs: the metadata files, and a Dockerfile beside an action.
        metadata: dict[NodeKey, str] = {}
        wanted: set[str] = set()
        for key, snapshot in found.items():
            request = first[key]
            workflow = request.resolving.is_reusable_workflow
            path = _metadata_path(key.path, snapshot, workflow=workflow)
            if path is None:
                what = (
                    key.path
                    if workflow
                    else (f"action.yml or action.yaml in {key.path or 'the repository root'}")
                )
                message = f"no {what} at {owner}/{repo}@{key.commit[:12]}"
                built[key] = _Outcome(
                    request,
                    key,
                    Node(key, NodeKind.UNRESOLVED),
                    (ProblemKind.FILE_MISSING, message),
                )
                continue
            metadata[key] = path
            wanted.add(snapshot.files[path][1])
            dockerfile = _inside(key.path, "Dockerfile")
            if not workflow and dockerfile in snapshot.files:
                wanted.add(snapshot.files[dockerfile][1])
        fetched = self.resolver.objects(owner, repo, (), sorted(wanted | _attach(extras, {})))
        blobs = dict(fetched.blobs)
        self._attach_extras(owner, repo, extras, blobs)
        for key, path in metadata.items():
            if fetched.blob_error is not None and found[key].files[path][1] not in blobs:
                node = Node(key, NodeKind.UNRESOLVED)
                built[key] = _Outcome(first[key], key, node, _failure(fetched.blob_error))
        self._follow_symlinks(owner, repo, metadata, found, blobs)
        actions: list[_Extras] = []
        for key, path in metadata.items():
            if key in built:
                continue
            request = first[key]
            workflow = request.resolving.is_reusable_workflow
            data = blobs[found[key].files[path][1]]
            kind = NodeKind.REUSABLE_WORKFLOW if workflow else NodeKind.UNRESOLVED
            node = Node(key, kind, metadata=path, files={path: data})
            if posixpath.basename(path) in DOCKERFILES:
                node.kind = NodeKind.DOCKER
                built[key] = _Outcome(request, key, node)
                actions.append(_Extras(node, found[key]))
                continue
            outcome = self._decoded(request, node, data, action=not workflow)
            built[key] = outcome
            if outcome.problem is None and node.action is not None:
                actions.append(_Extras(node, found[key]))
        # What the actions name (scripts, a Dockerfile elsewhere, what it copies) goes with
        # the repository's next request: nothing waits for it.
        self._attach_extras(owner, repo, actions, blobs)
        for index, key in keys.items():
            outcome = built[key]
            outcomes.append((index, _Outcome(requests[index], key, outcome.node, outcome.problem)))
        return outcomes

    def _follow_symlinks(
        self,
        owner: str,
        repo: str,
        metadata: dict[NodeKey, str],
        found: dict[NodeKey, Snapshot],
        blobs: dict[str, bytes],
    ) -> None:
        """Where a metadata file is a symlink inside the repository, read its target instead
        (one more request, for the targets, only when some are)."""
        targets: dict[NodeKey, str] = {}
        for key, path in metadata.items():
            mode, oid = found[key].files[path]
            if mode != MODE_SYMLINK or oid not in blobs:
                continue
            link = blobs[oid].decode("utf-8", "replace")
            target = _inside(posixpath.dirname(path), link)
            entry = found[key].files.get(target)
            if entry is not None and entry[0] != MODE_SYMLINK and not target.startswith(".."):
                targets[key] = target
        wanted = {found[key].files[target][1] for key, target in targets.items()}
        if wanted - blobs.keys():
            try:
                blobs.update(self.resolver.blobs(owner, repo, sorted(wanted - blobs.keys())))
            except BastionError:
                return
        metadata.update(targets)

    def _decoded(self, request: _Request, node: Node, data: bytes, *, action: bool) -> _Outcome:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _Outcome(
                request, node.key, node, (ProblemKind.MALFORMED, f"{node.metadata} is not UTF-8")
            )
        return self._parsed(request, node, text, action=action)

    def _parsed(self, request: _Request, node: Node, text: str, *, action: bool) -> _Outcome:
        try:
            node.view = parse_view(node.metadata, text, action=action)
        except YamlError as error:
            message = f"{node.metadata}:{error.point.line}: {error.message}"
            return _Outcome(request, node.key, node, (ProblemKind.MALFORMED, message))
        if node.kind is not NodeKind.LOCAL:
            node.kind = _kind(node.view)
        return _Outcome(request, node.key, node)


# Helpers --------------------------------------------------------------------------------


def parse_view(path: str, text: str, *, action: bool) -> Action | Workflow:
    """The action or workflow view of a file's text; raises YamlError."""
    document = parse(text)
    lines = LineIndex(text)
    return build_action(path, document, lines) if action else build_workflow(path, document, lines)


def _kind(view: Action | Workflow | None) -> NodeKind:
    if isinstance(view, Workflow):
        return NodeKind.REUSABLE_WORKFLOW
    if view is None:
        return NodeKind.UNRESOLVED
    if view.is_composite:
        return NodeKind.COMPOSITE
    if view.is_docker:
        return NodeKind.DOCKER
    if view.using is not None and _JAVASCRIPT.fullmatch(view.using):
        return NodeKind.JAVASCRIPT
    return NodeKind.UNRESOLVED


def _view_problems(node: Node) -> list[str]:
    view = node.view
    if view is None:
        return []
    problems: list[str] = []
    for problem in view.problems:
        line = node_span(problem.node).start.line
        problems.append(f"{node.metadata}:{line}: {problem.message}")
    if isinstance(view, Action) and view.using is not None and _kind(view) is NodeKind.UNRESOLVED:
        line = node_span(view.runs.node).start.line if view.runs else 1
        problems.append(f"{node.metadata}:{line}: unknown 'runs.using' value {view.using!r}")
    reusable = node.kind is NodeKind.REUSABLE_WORKFLOW
    if isinstance(view, Workflow) and reusable and not view.has_trigger("workflow_call"):
        problems.append(f"{node.metadata}: not a reusable workflow (no 'on: workflow_call')")
    return problems


def _image(uses: Uses) -> NodeKey:
    return NodeKey("", "", uses.text, "")


def _unresolved(uses: Uses) -> NodeKey:
    return NodeKey(uses.owner, uses.repo, _target_path(uses), "", uses.ref or "")


def _target_path(uses: Uses) -> str:
    path = posixpath.normpath(uses.path) if uses.path else ""
    return "" if path == "." else path


def _invalid(uses: Uses, *, job_level: bool) -> str | None:
    """Why a repository ``uses:`` cannot be resolved as written, or None."""
    if "${{" in uses.text:
        return f"{uses.text!r} is computed by an expression; it cannot be resolved"
    if not uses.ref:
        return f"{uses.text!r} names no ref (GitHub needs OWNER/REPO[/PATH]@REF)"
    if not _NAME.fullmatch(uses.owner) or not _NAME.fullmatch(uses.repo):
        return f"{uses.text!r} does not name a GitHub repository"
    if any(part == ".." for part in uses.path.split("/")):
        return f"{uses.text!r} leaves the repository"
    if job_level and not uses.is_reusable_workflow:
        return f"{uses.text!r}: a job can only call a workflow under .github/workflows/"
    return None


def _failure(error: BastionError, pin: str = "") -> tuple[ProblemKind, str]:
    """The problem a failed request makes; ``pin`` is ``owner/repo@commit`` for a fetch."""
    message = str(error)
    if isinstance(error, GitError):
        if pin and ("not our ref" in message or "sent no commit" in message):
            name, _, commit = pin.partition("@")
            return ProblemKind.REF_NOT_FOUND, f"commit {commit[:12]} is not in {name}"
        if error.not_found:
            return ProblemKind.REPOSITORY_NOT_FOUND, message
        if error.status == 403:
            return ProblemKind.ACCESS_DENIED, message
        return ProblemKind.FETCH_FAILED, message
    if isinstance(error, NotCached):
        return ProblemKind.FETCH_FAILED, message
    if "is not a GitHub repository name" in message:
        return ProblemKind.INVALID_USES, message
    return ProblemKind.FETCH_FAILED, message


def _metadata_path(path: str, snapshot: Snapshot, *, workflow: bool) -> str | None:
    """The file a node is read from: the workflow file, else the action file, else (as the
    runner does) a Dockerfile, which it builds and runs as a docker action."""
    if workflow:
        return path if path in snapshot.files else None
    for name in (*ACTION_FILES, *DOCKERFILES):
        candidate = _inside(path, name)
        if candidate in snapshot.files:
            return candidate
    return None


def _dockerfile(action: Action, folder: str) -> str | None:
    """The Dockerfile a docker action builds, as a repository path."""
    if not action.is_docker or action.runs is None:
        return None
    image = action.runs.text("image")
    if image is None or image.startswith("docker://"):
        return None
    joined = (
        posixpath.normpath(posixpath.join(folder, image)) if folder else posixpath.normpath(image)
    )
    return None if joined.startswith("..") else joined


def _extra_files(action: Action, folder: str, files: Container[str] | None) -> list[str]:
    """The Dockerfile and the scripts of the action's own tree that it runs: named through
    the action path (``${{ github.action_path }}/x.sh``, ``$GITHUB_ACTION_PATH/x.sh``), in a
    step ``env`` value the ``run`` reads, or by a word of a ``run`` that works in the action
    folder (``working-directory``, a ``cd`` there, or after a step put it on ``PATH``)."""
    found: list[str] = []
    dockerfile = _dockerfile(action, folder)
    if dockerfile is not None:
        found.append(dockerfile)
    on_path = False
    for step in action.steps:
        run = step.run
        if run is None:
            continue
        script = run.value
        found.extend(_inside(folder, name) for name in _action_path_names(script))
        env = step.fields.mapping("env")
        for entry in env or ():
            value = entry.value
            if not isinstance(value, ScalarNode):
                continue
            names = _action_path_names(value.value)
            if entry.key.value == "PYTHONPATH":  # python -m NAME finds NAME.py there
                found.extend(
                    _inside(folder, f"{directory}/{module}")
                    for directory in names
                    for name in _PYTHON_MODULE.findall(script)
                    for module in (f"{name.replace('.', '/')}.py", f"{name}/__main__.py")
                )
            elif _reads_variable(script, entry.key.value):
                found.extend(_inside(folder, name) for name in names)
        directory = step.fields.text("working-directory") or ""
        if on_path or _MENTIONS_ACTION_PATH.search(directory) or _CD_ACTION_PATH.search(script):
            found.extend(_inside(folder, word) for word in _words(script))
        on_path = on_path or bool(_ADDS_TO_PATH.search(script))
    unique = [path for path in dict.fromkeys(found) if path and not path.startswith("..")]
    return [path for path in unique if files is None or path in files]


def _action_path_names(text: str) -> list[str]:
    return [match.group(1).rstrip(".\"'") for match in _ACTION_PATH.finditer(text)]


def _reads_variable(script: str, name: str) -> bool:
    return re.search(rf"\$(?:{re.escape(name)}\b|\{{{re.escape(name)}\}})", script) is not None


def _named_by_script(data: bytes, path: str, folder: str, files: Container[str]) -> list[str]:
    """The files of the snapshot a shell script runs or sources: through its own folder
    (``$(dirname "$0")/b.sh``, ``${BASH_SOURCE%/*}/b.sh``, a variable set from either), the
    action path, or a relative path (``./lib/b.sh``) found beside the script or in the
    action folder."""
    if not path.endswith(_SHELL_SUFFIXES) and not data.startswith(b"#!"):
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    if data.startswith(b"#!") and not _SHELL_SHEBANG.match(text):
        return []
    here = posixpath.dirname(path)
    names = [_inside(folder, name) for name in _action_path_names(text)]
    own = [re.escape(m.group(1)) for m in _OWN_FOLDER_VARIABLE.finditer(text)]
    pattern = _OWN_FOLDER.pattern
    if own:
        pattern += r"|\$\{?(?:" + "|".join(own) + r")\}?"
    for match in re.finditer(rf"(?:{pattern})\"?/([A-Za-z0-9_./@+-]+)", text):
        names.append(_inside(here, match.group(1).rstrip(".\"'")))
    for word in _words(text):
        if "/" in word and not word.startswith(("/", "$", "http")):
            names.extend((_inside(here, word), _inside(folder, word)))
    unique = [name for name in dict.fromkeys(names) if name and not name.startswith("..")]
    return [name for name in unique if name in files and name != path]


def _inside(folder: str, relative: str) -> str:
    joined = posixpath.normpath(posixpath.join(folder, relative) if folder else relative)
    return "" if joined == "." else joined


def _words(script: str) -> list[str]:
    try:
        words = shlex.split(script, comments=True)
    except ValueError:
        words = script.split()
    return [word.removeprefix("./") for word in words if "/" in word or "." in word]


@dataclass(slots=True)
class _Extras:
    """A node whose extra files (see :func:`_extra_files`) are read from its snapshot."""

    node: Node
    snapshot: Snapshot
    rounds: int = 0
    """Requests that brought some of them so far."""


def _attach(actions: list[_Extras], blobs: dict[str, bytes]) -> set[str]:
    """Put the extra files the actions name into their nodes; return the blobs still missing."""
    missing: set[str] = set()

    def take(node: Node, paths: list[str], snapshot: Snapshot) -> None:
        for path in paths:
            oid = snapshot.files[path][1]
            if path in node.files:
                continue
            if oid in blobs:
                node.files[path] = blobs[oid]
            else:
                missing.add(oid)

    for extra in actions:
        node, snapshot = extra.node, extra.snapshot
        action = node.action
        if action is not None:
            scripts = _extra_files(action, node.key.path, snapshot.files)
            take(node, scripts, snapshot)
            seen = set(scripts)
            while scripts:  # what the scripts fetched so far run in turn
                named = [
                    name
                    for script in scripts
                    if script in node.files
                    for name in _named_by_script(
                        node.files[script], script, node.key.path, snapshot.files
                    )
                    if name not in seen
                ]
                seen.update(named)
                take(node, named, snapshot)
                scripts = named
            dockerfile = _dockerfile(action, node.key.path)
        else:  # a Dockerfile without metadata
            dockerfile = node.metadata
        if dockerfile is not None and dockerfile in node.files:
            take(node, _copied_files(node.files[dockerfile], dockerfile, snapshot), snapshot)
    return missing


def _is_manifest(path: str) -> bool:
    """A dependency manifest; in a ``requirements`` folder, any ``.txt`` or ``.in`` file."""
    folder, name = posixpath.split(path)
    in_requirements = "requirements" in posixpath.basename(folder)
    return bool(_MANIFEST.fullmatch(name)) or (in_requirements and name.endswith((".txt", ".in")))


def _copied_files(dockerfile: bytes, path: str, snapshot: Snapshot) -> list[str]:
    """Single files of the build context that the Dockerfile copies (COPY/ADD sources), and
    the dependency manifests directly in a folder it copies (``COPY requirements ...``)."""
    context = posixpath.dirname(path)
    try:
        text = dockerfile.decode("utf-8")
    except UnicodeDecodeError:
        return []
    found: list[str] = []
    for match in _COPY.finditer(_CONTINUATION.sub(" ", text)):
        words = [word for word in match.group(1).split() if not word.startswith("--")]
        for source in words[:-1]:
            candidate = _inside(context, source)
            if candidate in snapshot.files:
                found.append(candidate)
            elif candidate:
                prefix = f"{candidate}/"
                found.extend(
                    name
                    for name in snapshot.files
                    if name.startswith(prefix)
                    and "/" not in name[len(prefix) :]
                    and _is_manifest(name)
                )
    return found
