"""What each GitHub event means for security: who can start a run, and what the run holds.

One table, read by every rule that asks "can an outsider set this off, and with what?". The
facts come from GitHub's documentation:

- who can start each event, and how a fork's pull request runs:
  https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows
- the token of a run from a fork ("Maximum access for pull requests from public forked
  repositories": read only; `pull_request_target` gets read/write even from a fork):
  https://docs.github.com/en/actions/reference/security/github_token-reference
- secrets are not passed to runs of `pull_request`, `pull_request_review` and
  `pull_request_review_comment` from a fork:
  https://docs.github.com/en/actions/how-tos/write-workflows/choose-what-workflows-do/use-secrets
- the cache: since 2026-06-26 a run of an untrusted event (`pull_request_target`,
  `issue_comment`, a `workflow_run` after a fork's run) started by someone outside the
  repository's collaborators gets a read-only cache token; `cache-mode:` (2026-09) sets the
  mode per workflow or job and overrides that default:
  https://github.blog/changelog/2026-09-10-control-github-actions-cache-access-with-cache-mode
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple

from bastion.source.files import FileAccessError, read_file
from bastion.source.yaml import MappingNode, ScalarNode, SequenceNode, YamlError, parse

EVENTS_PAGE = "https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows"
TOKEN_PAGE = "https://docs.github.com/en/actions/reference/security/github_token-reference"
CACHE_MODE_PAGE = (
    "https://github.blog/changelog/2026-09-10-control-github-actions-cache-access-with-cache-mode"
)
CACHE_MODES = ("read", "write", "write-only", "none")
"""The values of ``cache-mode:``: restore only, restore and save, save only, no cache."""


class Starter(IntEnum):
    """Who can start a run of an event, most trusted last."""

    ANYONE = 0
    """Any GitHub user (an issue, a comment, a star, a fork)."""
    FORK_AUTHOR = 1
    """Whoever opens a pull request, from a fork too."""
    UPSTREAM = 2
    """Whoever started the workflow run that this one follows (``workflow_run``)."""
    CALLER = 3
    """The event of the calling workflow (``workflow_call``)."""
    INTEGRATION = 4
    """A GitHub App or CI service (check runs, statuses), which a fork's pull request may
    set off but whose payload it does not write."""
    WRITER = 5
    """A collaborator with write access (a push, a dispatch, a release, a label)."""
    MAINTAINER = 6
    """An administrator, or GitHub itself on the default branch (a schedule)."""


class Event(NamedTuple):
    name: str
    starter: Starter
    fork_secrets: bool
    """Whether a run an outsider starts gets the repository's secrets."""
    fork_write_token: bool
    """Whether such a run gets a ``GITHUB_TOKEN`` that can write."""
    cache: str
    """The cache mode a run gets without ``cache-mode:`` (for the least trusted starter)."""
    pull_request: bool = False
    """Whether the payload holds ``github.event.pull_request``."""

    @property
    def outsider(self) -> bool:
        """Whether someone without access to the repository can start it."""
        return self.starter <= Starter.FORK_AUTHOR

    @property
    def privileged(self) -> bool:
        """Whether an outsider's run holds the base repository's secrets or a write token
        (``workflow_run`` counts: its upstream may be an outsider's run)."""
        reachable = self.outsider or self.starter is Starter.UPSTREAM
        return reachable and (self.fork_secrets or self.fork_write_token)


def _event(name: str, starter: Starter, *, privileged: bool, pull_request: bool = False) -> Event:
    cache = "read" if privileged and starter <= Starter.UPSTREAM else "write"
    return Event(name, starter, privileged, privileged, cache, pull_request)


_A, _F, _W = Starter.ANYONE, Starter.FORK_AUTHOR, Starter.WRITER
EVENTS: Mapping[str, Event] = {
    e.name: e
    for e in (
        # An outsider starts these; the run is the base repository's, with its secrets.
        _event("pull_request_target", _F, privileged=True, pull_request=True),
        _event("issue_comment", _A, privileged=True),
        _event("issues", _A, privileged=True),
        _event("discussion", _A, privileged=True),
        _event("discussion_comment", _A, privileged=True),
        _event("fork", _A, privileged=True),
        _event("watch", _A, privileged=True),
        _event("workflow_run", Starter.UPSTREAM, privileged=True),
        # A fork's run: read-only token, no secrets.
        _event("pull_request", _F, privileged=False, pull_request=True),
        _event("pull_request_review", _F, privileged=False, pull_request=True),
        _event("pull_request_review_comment", _F, privileged=False, pull_request=True),
        _event("workflow_call", Starter.CALLER, privileged=False),
        _event("check_run", Starter.INTEGRATION, privileged=False),
        _event("check_suite", Starter.INTEGRATION, privileged=False),
        _event("status", Starter.INTEGRATION, privileged=False),
        _event("deployment_status", Starter.INTEGRATION, privileged=False),
        *(
            _event(name, _W, privileged=False)
            for name in (
                "push", "workflow_dispatch", "repository_dispatch", "release", "create",
                "delete", "deployment", "label", "milestone", "merge_group", "gollum",
                "page_build", "project", "project_card", "project_column", "registry_package",
                "image_version",
            )
        ),
        _event("schedule", Starter.MAINTAINER, privileged=False),
        _event("branch_protection_rule", Starter.MAINTAINER, privileged=False),
        _event("public", Starter.MAINTAINER, privileged=False),
    )
}  # fmt: skip
"""Every event a workflow can name. ``gollum`` (wiki edits) needs write access unless the
wiki is open to everyone; ``fork`` and ``watch`` run with the base repository's secrets, but
their payload holds no code to check out."""

_UNKNOWN = Event("", Starter.WRITER, fork_secrets=False, fork_write_token=False, cache="write")


def event(name: str) -> Event:
    """The table's entry for ``name`` (an unknown name: a writer's event, nothing more)."""
    return EVENTS.get(name, _UNKNOWN)


def privileged(names: Iterable[str]) -> list[str]:
    """The privileged events among ``names``, in their order, each once."""
    return list(dict.fromkeys(n for n in names if event(n).privileged))


def outsider_started(names: Iterable[str]) -> bool:
    """Whether an outsider can start any of ``names``."""
    return any(event(n).outsider for n in names)


def default_cache_mode(names: Iterable[str]) -> str:
    """The cache mode GitHub gives a run of these events without ``cache-mode:``: ``write``
    if any event is trusted (a run of it can save), else ``read``."""
    modes = {event(n).cache for n in names}
    return "write" if "write" in modes or not modes else "read"


_STARTERS = {
    Starter.ANYONE: "anyone",
    Starter.FORK_AUTHOR: "a fork's pull request author",
    Starter.UPSTREAM: "whoever started the upstream run",
    Starter.CALLER: "the calling workflow's event",
    Starter.INTEGRATION: "an app or CI service",
    Starter.WRITER: "a collaborator with write access",
    Starter.MAINTAINER: "an administrator or the default branch",
}


def table_markdown() -> str:
    """The events table as Markdown, for the rules' documentation."""
    rows = [
        "| Event | Started by | Outsider's run: secrets, write token | Default cache |",
        "|---|---|---|---|",
    ]
    for entry in sorted(EVENTS.values(), key=lambda e: (e.starter, e.name)):
        held = "yes" if entry.fork_secrets or entry.fork_write_token else "no"
        if not (entry.outsider or entry.starter is Starter.UPSTREAM):
            held = "—"
        rows.append(f"| `{entry.name}` | {_STARTERS[entry.starter]} | {held} | `{entry.cache}` |")
    sources = (
        f"Sources: {EVENTS_PAGE}, {TOKEN_PAGE}, {CACHE_MODE_PAGE}. The cache default is "
        "that of a run an outsider starts (GitHub gives collaborators' runs `write`; a "
        "`pull_request` run writes only to its pull request's own cache scope)."
    )
    return "\n".join(rows) + "\n\n" + sources


# --- The upstream of `workflow_run` ----------------------------------------------------------

WORKFLOW_FILES = ("*.yml", "*.yaml")
MAX_SIBLING_BYTES = 1024 * 1024


class Sibling(NamedTuple):
    """A workflow of the same repository, as ``workflow_run`` names it."""

    name: str
    """Its ``name:``, or its path (``.github/workflows/ci.yml``) when it has none."""
    events: frozenset[str]


def sibling_workflows(directory: Path, root: Path | None) -> dict[str, Sibling]:
    """The workflows in ``directory`` (a ``.github/workflows``), by name, lowercase: what
    ``on: workflow_run: workflows: [...]`` matches. Files that cannot be read are left out."""
    return dict(_siblings(directory, root))


@functools.lru_cache(maxsize=64)
def _siblings(directory: Path, root: Path | None) -> tuple[tuple[str, Sibling], ...]:
    found: list[tuple[str, Sibling]] = []
    try:
        paths = sorted(p for pattern in WORKFLOW_FILES for p in directory.glob(pattern))
    except OSError:
        return ()
    for path in paths:
        try:
            document = parse(read_file(path, root, MAX_SIBLING_BYTES).decode("utf-8"))
        except (FileAccessError, UnicodeDecodeError, YamlError, ValueError):
            continue
        top = document.root
        if not isinstance(top, MappingNode):
            continue
        fields = {k.value: v for k, v in top.value if isinstance(k, ScalarNode)}
        name_node = fields.get("name")
        name = name_node.value.strip() if isinstance(name_node, ScalarNode) else ""
        name = name or f".github/workflows/{path.name}"
        events = frozenset(_event_names(fields.get("on", fields.get("true"))))
        found.append((name.lower(), Sibling(name, events)))
    return tuple(found)


def _event_names(on: object) -> list[str]:
    if isinstance(on, ScalarNode):
        return [on.value]
    if isinstance(on, SequenceNode):
        return [item.value for item in on.value if isinstance(item, ScalarNode)]
    if isinstance(on, MappingNode):
        return [key.value for key, _ in on.value if isinstance(key, ScalarNode)]
    return []


def upstream_events(names: Iterable[str], siblings: Mapping[str, Sibling]) -> frozenset[str] | None:
    """The events that can start the workflows a ``workflow_run`` follows; None when one of
    them is not among ``siblings`` (a pattern, another repository's, a typo) or follows a
    workflow itself, so that nothing is known."""
    events: set[str] = set()
    wanted = [n.strip().lower() for n in names]
    for name in wanted:
        sibling = siblings.get(name)
        if sibling is None or "workflow_run" in sibling.events:
            return None
        events |= sibling.events
    return frozenset(events) if wanted else None
