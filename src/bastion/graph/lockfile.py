"""What ``bastion lock`` writes: each workflow's pins, resolved and verified, with the
entries they reach through composite actions.

The steps, following GitHub's writer (docs/lockfile.md):

1. Each workflow of ``.github/workflows`` gives its direct pins: every ``uses:`` of an
   action by tag, branch or commit, keyed by repository and ref as written. A workflow with
   a ``./`` local action cannot be locked (GitHub's writer skips it); ``$/`` actions are
   pinned by nature; reusable workflows, ``docker://`` images and expressions are not
   locked, and are reported as such.
2. A pin the existing lockfile holds is kept as it is (``relock`` resolves again): its
   commit is what was reviewed. A new pin is resolved through the action graph
   (:func:`bastion.graph.resolve.resolve_graph`), which also gives the pins of composite
   actions, recursively; its commit must be reachable from a branch (no impostor commit).
3. The owner and repository ids come from ``GET /repos/{owner}/{repo}``, one request per
   repository, cached for good (:class:`RepositoryIds`).

A workflow any of whose pins cannot be locked is left out, with the reason: listing it
without all its pins would make GitHub refuse to run it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bastion.errors import BastionError
from bastion.github.git import GitError, RefListing
from bastion.model.graph import Graph, NodeKey, NodeKind
from bastion.model.lockfile import (
    MAX_WORKFLOW_BYTES,
    Locked,
    Lockfile,
    Pin,
    expand_self_actions,
    parse_pin,
    pin_of,
)
from bastion.model.uses import Uses, UsesKind
from bastion.model.workflow import Workflow, build_workflow
from bastion.pinning.ids import RepositoryIds
from bastion.pinning.resolver import Reach, Resolver
from bastion.source.files import FileAccessError, is_directory, read_file, repository_root
from bastion.source.yaml import YamlError, node_span, parse

WORKFLOWS = ".github/workflows"
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class Note:
    """Something the lockfile cannot lock or a workflow left out: ``where`` is a path, with
    ``:line`` when it is about one ``uses:``."""

    where: str
    message: str
    blocking: bool = False
    """The workflow was left out of the lockfile because of it."""


@dataclass(slots=True)
class LockPlan:
    workflows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dependencies: dict[str, Locked] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    """Listed workflows whose file is gone."""
    rewritten: dict[str, str] = field(default_factory=dict)
    """With ``narrow``: workflow path -> its new text, each narrowed ``uses:`` rewritten."""
    narrowed: list[tuple[str, str]] = field(default_factory=list)
    """With ``narrow``: (old pin, new pin) pairs."""


# Reading the workflows -------------------------------------------------------------------


@dataclass(slots=True)
class _Workflow:
    path: str
    """``.github/workflows/<name>``."""
    text: str
    view: Workflow
    pins: dict[str, int] = field(default_factory=dict)
    """Direct pin key -> the line of its first ``uses:``."""
    blocked: bool = False
    own_actions: list[tuple[str, str]] = field(default_factory=list)
    """The repository's own actions its ``$/`` steps run: (path, text)."""


def read_workflows(root: Path, notes: list[Note]) -> list[_Workflow]:
    """The workflows GitHub runs (files directly in ``.github/workflows``), with their pins."""
    found: list[_Workflow] = []
    folder = root / WORKFLOWS
    boundary = repository_root(root)
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    for file in entries:
        if file.suffix not in (".yml", ".yaml") or is_directory(file):
            continue
        path = f"{WORKFLOWS}/{file.name}"
        try:
            data = read_file(file, boundary, MAX_WORKFLOW_BYTES)
            text = data.decode("utf-8").removeprefix("\ufeff")
            view = build_workflow(path, parse(text))
        except (FileAccessError, UnicodeDecodeError, YamlError) as error:
            reason = error.message if isinstance(error, YamlError) else str(error)
            notes.append(Note(path, f"cannot be read ({reason}); not locked", blocking=True))
            continue
        workflow = _Workflow(path, text, view)
        _classify(workflow, root, notes)
        found.append(workflow)
    return found


def _classify(workflow: _Workflow, root: Path, notes: list[Note]) -> None:
    for job in workflow.view.jobs:
        if job.uses is not None and job.uses_node is not None:
            _classify_uses(workflow, job.uses, node_span(job.uses_node).start.line, notes)
        for step in job.steps:
            if step.uses is None or step.uses_node is None:
                continue
            line = node_span(step.uses_node).start.line
            _classify_uses(workflow, step.uses, line, notes)
            if step.uses.text.startswith("$/") and "@" not in step.uses.text:
                # GitHub locks what the repository's own action uses as the workflow's pins.
                found, files = expand_self_actions(root, [step.uses])
                workflow.own_actions.extend(f for f in files if f not in workflow.own_actions)
                for inner in found[1:]:
                    _classify_uses(workflow, inner, line, notes, via=step.uses.text)


def _classify_uses(
    workflow: _Workflow, uses: Uses, line: int, notes: list[Note], via: str = ""
) -> None:
    where = f"{workflow.path}:{line}" + (f" (through `{via}`)" if via else "")
    if uses.kind is UsesKind.LOCAL:
        if uses.text.startswith("$/") and "@" in uses.text:
            workflow.blocked = True
            notes.append(
                Note(
                    where,
                    f"`{uses.text}`: a `$/` action runs at the workflow's own commit and takes "
                    "no @ref; GitHub refuses it, so the workflow is left out",
                    blocking=True,
                )
            )
        elif uses.text.startswith("./"):
            workflow.blocked = True
            notes.append(
                Note(
                    where,
                    f"`{uses.text}` is a local action, which GitHub's lockfile cannot lock: the "
                    "workflow is left out (write it `$/"
                    f"{uses.text.removeprefix('./')}` to run it at the workflow's own commit)",
                    blocking=True,
                )
            )
        return
    if uses.kind is UsesKind.DOCKER:
        notes.append(
            Note(where, f"`{uses.text}` is a container image; the lockfile does not lock images")
        )
        return
    if "${{" in uses.text:
        notes.append(Note(where, f"`{uses.text}` is an expression; it cannot be locked"))
        return
    if uses.is_reusable_workflow:
        notes.append(
            Note(
                where,
                f"`{uses.text}` is a reusable workflow, which the lockfile does not pin (pin its "
                "full commit SHA; its own dependencies are covered by its repository's lockfile)",
            )
        )
        return
    pin = pin_of(uses)
    if pin is None:
        notes.append(Note(where, f"`{uses.text}` names no ref; it cannot be locked", blocking=True))
        workflow.blocked = True
        return
    workflow.pins.setdefault(pin.key, line)


# Planning --------------------------------------------------------------------------------

GraphBuilder = Callable[[list[tuple[str, str, bool]], Path], Graph]
"""Builds the action graph of files ``(path, text, is_action)`` of a checkout."""


def plan_lock(
    root: Path,
    resolver: Resolver,
    ids: RepositoryIds,
    existing: Lockfile | None,
    *,
    relock: bool = False,
    narrow: bool = False,
    graph_builder: GraphBuilder | None = None,
) -> LockPlan:
    plan = LockPlan()
    workflows = read_workflows(root, plan.notes)
    on_disk = {workflow.path for workflow in workflows}
    if existing is not None:
        ids.seed(existing)
        plan.pruned = sorted(path for path in existing.workflows if path not in on_disk)
    kept: dict[str, Locked] = {}
    if existing is not None and not relock:
        kept = {
            key: Locked(e.ref, e.commit, e.owner_id, e.repo_id, e.uses)
            for key, e in existing.dependencies.items()
        }
    wanted = [w for w in workflows if not w.blocked and any(key not in kept for key in w.pins)]
    resolved: dict[str, Locked] = {}
    failures: dict[str, str] = {}
    if wanted:
        builder = graph_builder or _default_graph_builder(resolver)
        files = [(w.path, w.text, False) for w in wanted]
        files += [(path, text, True) for w in wanted for path, text in w.own_actions]
        try:
            graph = builder(list(dict.fromkeys(files)), root)
        except BastionError as error:
            for workflow in wanted:
                failures.update((key, str(error)) for key in workflow.pins if key not in kept)
            graph = Graph()
        _from_graph(
            graph,
            kept=kept,
            resolved=resolved,
            failures=failures,
            resolver=resolver,
            ids=ids,
            notes=plan.notes,
        )
    if narrow:
        _narrow(
            workflows,
            resolved=resolved,
            failures=failures,
            existing=existing,
            resolver=resolver,
            plan=plan,
        )
    table = {**kept, **resolved}
    for workflow in workflows:
        if workflow.blocked:
            continue
        needed = _closure(table, workflow.pins)
        missing = sorted(key for key in needed if key not in table or key in failures)
        if missing:
            for key in missing:
                reason = failures.get(key, "it could not be resolved")
                line = workflow.pins.get(key)
                where = f"{workflow.path}:{line}" if line else workflow.path
                via = "" if line else " (needed by a composite action it uses)"
                plan.notes.append(Note(where, f"{key}{via}: {reason}", blocking=True))
            plan.notes.append(
                Note(workflow.path, "left out of the lockfile until every pin resolves", True)
            )
            continue
        if not workflow.pins and (existing is None or workflow.path not in existing.workflows):
            continue  # nothing to lock: GitHub's writer does not list it either
        plan.workflows[workflow.path] = tuple(sorted(workflow.pins))
    reached = _closure(table, (key for keys in plan.workflows.values() for key in keys))
    plan.dependencies = {key: table[key] for key in sorted(reached) if key in table}
    return plan


def _narrow(
    workflows: list[_Workflow],
    *,
    resolved: dict[str, Locked],
    failures: dict[str, str],
    existing: Lockfile | None,
    resolver: Resolver,
    plan: LockPlan,
) -> None:
    """GitHub's default "narrowing": a new direct pin by a partial version (``@v4``,
    ``@v4.2``) becomes the highest full version tag at the same commit (``@v4.3.1``), in the
    lockfile and in the workflow. Pins already locked, transitive pins, branches, SHAs, and
    repositories the lockfile already holds at a partial version (a choice kept) are left."""
    imprecise = {
        entry.pin.slug
        for entry in (existing.dependencies.values() if existing is not None else ())
        if not _is_full_version(entry.pin.ref)
    }
    for workflow in workflows:
        if workflow.blocked:
            continue
        renames: dict[str, str] = {}
        for key in list(workflow.pins):
            pin = parse_pin(key)
            entry = resolved.get(key)
            if pin is None or entry is None or key in failures or pin.slug in imprecise:
                continue
            rank = _semver_rank(pin.ref)
            if rank is None or rank[0]:
                continue  # not a version, or already a full one
            try:
                listing = resolver.listing(pin.owner, pin.repo)
            except BastionError:
                continue
            sha = entry.commit.partition("-")[2]
            tag = narrowed_tag(resolver, pin.owner, pin.repo, listing, sha)
            if tag is None:
                continue
            new = Pin(pin.owner, pin.repo, tag).key
            resolved.setdefault(
                new, Locked(tag, entry.commit, entry.owner_id, entry.repo_id, entry.uses)
            )
            renames[key] = new
        if not renames:
            continue
        text = _rewrite(workflow.text, renames)
        if text is None:
            continue
        for old, new in renames.items():
            workflow.pins[new] = workflow.pins.pop(old)
            if (old, new) not in plan.narrowed:
                plan.narrowed.append((old, new))
        plan.rewritten[workflow.path] = text


ANCESTOR_CANDIDATES = 3
"""Newest release tags GitHub's writer tries as ancestors of a commit no full tag names."""


def narrowed_tag(
    resolver: Resolver, owner: str, repo: str, listing: RefListing, commit: str
) -> str | None:
    """The full version tag GitHub's writer narrows a partial version at ``commit`` to: the
    highest full semver tag pointing at the commit; when none does (the major tag moved past
    the last release), the newest of the three newest release tags (no pre-release) that is
    an ancestor of the commit, which keeps its commit (the tag names an older one); None
    when neither exists or ancestry cannot be asked."""
    at_commit = [tag for tag in listing.tags_at(commit) if _is_full_version(tag)]
    if at_commit:
        return max(at_commit, key=lambda name: _semver_rank(name) or ())
    releases = sorted(
        (tag for tag in listing.tags if _is_full_version(tag)),
        key=lambda name: _semver_rank(name) or (),
        reverse=True,
    )
    for tag in releases[:ANCESTOR_CANDIDATES]:
        try:
            if resolver.is_ancestor(owner, repo, listing.tags[tag], commit):
                return tag
        except BastionError:
            continue
    return None


def _rewrite(text: str, renames: dict[str, str]) -> str | None:
    """The workflow with the ref of every ``uses:`` of a renamed pin replaced; None when
    one of them cannot be edited in place (the pin is then not narrowed)."""
    from bastion.inputs import Kind
    from bastion.pinning.rewrite import Edit, apply_edits, read_sites

    edits = []
    for site in read_sites(text, Kind.WORKFLOW).sites:
        pin = pin_of(site.uses)
        if pin is None or pin.key not in renames:
            continue
        if site.editable:
            return None
        new_ref = renames[pin.key].partition("@")[2]
        edits.append(Edit(site.ref_start, site.ref_end, new_ref))
    return apply_edits(text, edits)


def _is_full_version(ref: str) -> bool:
    rank = _semver_rank(ref)
    return rank is not None and rank[0]


def _default_graph_builder(resolver: Resolver) -> GraphBuilder:
    from bastion.graph.resolve import RootFile, resolve_graph

    def build(files: list[tuple[str, str, bool]], checkout: Path) -> Graph:
        roots = [RootFile(path, text, is_action) for path, text, is_action in files]
        return resolve_graph(roots, resolver, checkout=checkout)

    return build


def _closure(table: dict[str, Locked], keys: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(keys)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        entry = table.get(key)
        if entry is not None:
            stack.extend(entry.uses)
    return seen


def _from_graph(
    graph: Graph,
    *,
    kept: dict[str, Locked],
    resolved: dict[str, Locked],
    failures: dict[str, str],
    resolver: Resolver,
    ids: RepositoryIds,
    notes: list[Note],
) -> None:
    """Resolve every pin the graph's roots reach through actions (not reusable workflows).

    A node is one action at one commit; the pin keys that name it are the spellings of the
    ``uses:`` that reach it, and each gets the pins of the node's own ``uses:``.
    """
    pins_of: dict[NodeKey, set[str]] = {}
    child_pins: dict[NodeKey, set[str]] = {}
    blocked: dict[NodeKey, str] = {}
    commits: dict[str, str] = {}
    visited: set[NodeKey] = set()
    queue = list(graph.roots)
    while queue:
        source = queue.pop(0)
        if source in visited or source not in graph.nodes:
            continue
        visited.add(source)
        node = graph.nodes[source]
        if node.kind not in (NodeKind.ROOT, NodeKind.COMPOSITE):
            continue
        for edge in graph.outgoing(source):
            if edge.parsed.is_reusable_workflow:
                continue  # not locked; its repository's lockfile covers what it uses
            pin = pin_of(edge.parsed)
            if pin is None:
                if node.kind is NodeKind.COMPOSITE and edge.parsed.text.startswith("./"):
                    blocked[source] = (
                        f"the composite action uses the local action `{edge.uses}`, which "
                        "GitHub's lockfile cannot lock"
                    )
                continue
            if node.kind is NodeKind.COMPOSITE:
                child_pins.setdefault(source, set()).add(pin.key)
            target = graph.nodes.get(edge.target)
            if target is None or target.kind is NodeKind.UNRESOLVED or not edge.target.commit:
                problems = graph.problems_at(edge)
                failures.setdefault(pin.key, problems[0].message if problems else "not found")
                continue
            pins_of.setdefault(edge.target, set()).add(pin.key)
            commits.setdefault(pin.key, edge.target.commit)
            if target.kind is NodeKind.DOCKER and _builds_image(target.action):
                notes.append(
                    Note(
                        pin.key,
                        "a docker action that builds its image at run time: the lock pins the "
                        "action's commit, not what the image build pulls in",
                    )
                )
            queue.append(edge.target)
    children: dict[str, set[str]] = {}
    for node_key, names in pins_of.items():
        for name in names:
            children.setdefault(name, set()).update(child_pins.get(node_key, set()))
            if node_key in blocked:
                failures.setdefault(name, blocked[node_key])
    for key, commit in sorted(commits.items()):
        if key in kept or key in failures:
            continue
        pin = parse_pin(key)
        assert pin is not None
        uses = tuple(sorted(children.get(key, ())))
        try:
            resolved[key] = _entry(pin, commit, uses, resolver, ids)
        except BastionError as error:
            failures[key] = str(error)


def _builds_image(action: object) -> bool:
    from bastion.model.workflow import Action

    if not isinstance(action, Action) or action.runs is None:
        return False
    image = action.runs.text("image")
    return image is not None and not image.startswith("docker://")


def _entry(
    pin: Pin, commit: str, uses: tuple[str, ...], resolver: Resolver, ids: RepositoryIds
) -> Locked:
    """The entry of a new pin: its commit checked to be on a branch, the ref GitHub's writer
    records, the ids."""
    try:
        listing = resolver.listing(pin.owner, pin.repo)
        answer = resolver.reachability(pin.owner, pin.repo, commit)
    except GitError as error:
        raise BastionError(str(error)) from None
    if answer.reach is Reach.UNREACHABLE:
        raise BastionError(
            f"commit {commit[:12]} is on no branch of {pin.slug} (an impostor commit from a "
            "fork or a pull request); GitHub refuses to run it"
        )
    if answer.reach is Reach.MISSING:
        raise BastionError(f"{pin.slug} holds no commit {commit}")
    ref = pin.ref if not pin.ref_is_sha else preferred_ref(listing, commit, answer.branch)
    owner_id, repo_id = ids.get(pin.owner, pin.repo)
    return Locked(ref, f"sha1-{commit}", owner_id, repo_id, uses)


def preferred_ref(listing: RefListing, commit: str, branch: str) -> str:
    """The ref GitHub's writer records for a commit pinned by SHA: the highest full semver
    tag at the commit (``v4.2.1``), else the highest version tag (``v4``), else the first
    tag by name, else a branch that reaches it (the default branch first)."""
    tags = sorted(listing.tags_at(commit))
    ranked = [(rank, tag) for tag in tags if (rank := _semver_rank(tag)) is not None]
    full = [pair for pair in ranked if pair[0][0]]
    if full or ranked:
        return max(full or ranked)[1]
    if tags:
        return tags[0]
    if listing.default_branch and listing.heads.get(listing.default_branch) == commit:
        return listing.default_branch
    return branch or listing.default_branch or commit


_SEMVER = re.compile(r"(v?)(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)")


def _semver_rank(tag: str) -> tuple[bool, int, int, int, bool, bool, str] | None:
    """GitHub's ordering of version tags: full versions apart, then higher numbers, a
    release over a pre-release, ``v1.0.0`` over ``1.0.0``, then the name."""
    if _FULL_SHA.fullmatch(tag):
        return None
    match = _SEMVER.fullmatch(tag)
    if match is None:
        return None
    prefix, major, minor, patch, rest = match.groups()
    full = patch is not None and not rest
    numbers = (int(major), int(minor or 0), int(patch or 0))
    return (full, *numbers, not rest, prefix == "v", tag)
