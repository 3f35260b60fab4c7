"""What an outsider controls in a workflow run: the knowledge the data-flow rules share.

``template-injection`` asks which expression values an attacker can write; ``untrusted-checkout``
asks which values name the code of a pull request. Both need the privileged triggers, the way a
value flows through an expression (``a || b`` can be either side, ``a == b`` is a boolean), and
what well-known actions put in their outputs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from bastion import knowledge
from bastion.findings import Confidence
from bastion.model.expressions import (
    Binary,
    Call,
    ContextPath,
    Expr,
    Index,
    Literal,
    Property,
    Star,
    context_path,
    walk,
)
from bastion.model.uses import Uses
from bastion.model.workflow import Entry, Fields, Job, Step, Workflow

if TYPE_CHECKING:
    from bastion.knowledge.schema import ActionInfo

PULL_REQUEST_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
)


# Patterns of script text the data-flow rules read. They are pattern strings, compiled by `re`
# (and kept in its cache) the first time a rule reads a script that way, not at import.
SHELL_VARIABLE = r"\$\{?([A-Za-z_][A-Za-z0-9_]*)"
"""A shell variable read, `$NAME` or `${NAME}`; group 1 is its name."""
JS_IDENTIFIER = r"[A-Za-z_$][\w$]*"
"""A JavaScript identifier."""


# --- Patterns over context paths -------------------------------------------------------------

Pattern = tuple[str, ...]


def pattern(dotted: str) -> Pattern:
    return tuple(dotted.split("."))


def _parts_agree(pattern: Pattern, parts: tuple[str, ...]) -> bool:
    return all(a == b or "*" in (a, b) for a, b in zip(pattern, parts, strict=False))


def covers(pattern: Pattern, path: ContextPath, *, serialized: bool = False) -> bool:
    """Whether ``path`` reads the field ``pattern`` names (``*`` matches one part either side).

    A path that goes deeper than the pattern reads part of the field; a path that stops short
    of it reads an object holding it, which only carries its text when ``serialized``
    (``toJSON(github.event.pull_request)``): written bare, an object expands to ``Object``.
    """
    return _covers(pattern, path.parts, serialized)


def _covers(pattern: Pattern, parts: tuple[str, ...], serialized: bool) -> bool:
    return _parts_agree(pattern, parts) and (len(parts) >= len(pattern) or serialized)


# --- Values an outsider writes ---------------------------------------------------------------

ISSUE_EVENTS = frozenset({"issues", "issue_comment"})
COMMENT_EVENTS = frozenset(
    {"issue_comment", "pull_request_review_comment", "discussion_comment", "commit_comment"}
)
DISCUSSION_EVENTS = frozenset({"discussion", "discussion_comment"})


class Source(NamedTuple):
    """A field of the run's context that an outsider writes."""

    pattern: Pattern
    events: frozenset[str]
    """The events whose payload carries the field."""
    who: str
    """Who writes it, for messages."""


def _sources(who: str, events: Iterable[str], *fields: str) -> list[Source]:
    return [Source(pattern(f), frozenset(events), who) for f in fields]


_COMMIT_FIELDS = ("message", "author.name", "author.email", "committer.name", "committer.email")

ATTACKER_SOURCES: tuple[Source, ...] = (
    *_sources(
        "the author of the pull request",
        PULL_REQUEST_EVENTS,
        "github.head_ref",
        "github.event.pull_request.title",
        "github.event.pull_request.body",
        "github.event.pull_request.head.ref",
        "github.event.pull_request.head.label",
        "github.event.pull_request.head.repo.description",
        "github.event.pull_request.head.repo.homepage",
        "github.event.pull_request.head.repo.default_branch",
    ),
    *_sources(
        "whoever opens the issue",
        ISSUE_EVENTS,
        "github.event.issue.title",
        "github.event.issue.body",
    ),
    *_sources("whoever writes the comment", COMMENT_EVENTS, "github.event.comment.body"),
    *_sources("whoever writes the review", {"pull_request_review"}, "github.event.review.body"),
    *_sources(
        "whoever opens the discussion",
        DISCUSSION_EVENTS,
        "github.event.discussion.title",
        "github.event.discussion.body",
    ),
    *_sources(
        "whoever edits the issue, pull request or comment",
        ISSUE_EVENTS | PULL_REQUEST_EVENTS | DISCUSSION_EVENTS,
        "github.event.changes",
    ),
    *_sources(
        "the authors of the pushed commits",
        {"push"},
        *(f"github.event.head_commit.{f}" for f in _COMMIT_FIELDS),
        *(f"github.event.commits.*.{f}" for f in _COMMIT_FIELDS),
    ),
    *_sources(
        "the pull requests in the merge queue",
        {"merge_group"},
        *(f"github.event.merge_group.head_commit.{f}" for f in _COMMIT_FIELDS),
    ),
    *_sources(
        "the pull request whose workflow run triggered this one",
        {"workflow_run"},
        "github.event.workflow_run.head_branch",
        "github.event.workflow_run.display_title",
        "github.event.workflow_run.pull_requests.*.head.ref",
        "github.event.workflow_run.head_repository.description",
        *(f"github.event.workflow_run.head_commit.{f}" for f in _COMMIT_FIELDS),
    ),
    *_sources(
        "the author of the pull request",
        {"check_suite", "check_run"},
        "github.event.check_suite.head_branch",
        "github.event.check_run.check_suite.head_branch",
        *(f"github.event.check_suite.head_commit.{f}" for f in _COMMIT_FIELDS),
    ),
    *_sources(
        "wiki editors",
        {"gollum"},
        "github.event.pages.*.page_name",
        "github.event.pages.*.title",
    ),
)


def attacker_source(path: ContextPath, *, serialized: bool = False) -> Source | None:
    """The outsider-written field ``path`` reads, if any.

    A serialized object that holds several such fields (``toJSON(github.event)``) gives one
    source for all of them, carried by any of their events.
    """
    return _attacker_source(path.parts, serialized)


@functools.lru_cache(maxsize=4096)
def _attacker_source(parts: tuple[str, ...], serialized: bool) -> Source | None:
    if parts[0] != "github":
        return None  # every source is a field of the `github` context
    found = [s for s in ATTACKER_SOURCES if _covers(s.pattern, parts, serialized)]
    if len(found) <= 1:
        return found[0] if found else None
    events = frozenset().union(*(s.events for s in found))
    example = ".".join(found[0].pattern)
    who = f"outsiders (it holds fields such as `{example}`)"
    return Source(parts, events, who)


# --- Values that name pull request code ------------------------------------------------------

PR_HEAD_REFS: tuple[Pattern, ...] = tuple(
    pattern(p)
    for p in (
        "github.head_ref",
        "github.event.pull_request.head.sha",
        "github.event.pull_request.head.ref",
        "github.event.pull_request.merge_commit_sha",
        "github.event.workflow_run.head_sha",
        "github.event.workflow_run.head_branch",
        "github.event.workflow_run.head_commit.id",
        "github.event.workflow_run.pull_requests.*.head.sha",
        "github.event.workflow_run.pull_requests.*.head.ref",
    )
)
"""Refs and commits of a pull request's head (or of its test merge)."""

PR_HEAD_REPOSITORIES: tuple[Pattern, ...] = tuple(
    pattern(f"{base}.{field}")
    for base in ("github.event.pull_request.head.repo", "github.event.workflow_run.head_repository")
    for field in ("full_name", "clone_url", "html_url", "ssh_url", "git_url")
)
"""The repository a pull request comes from (a fork, for outside contributors)."""

PR_NUMBERS: tuple[Pattern, ...] = tuple(
    pattern(p)
    for p in (
        "github.event.number",
        "github.event.pull_request.number",
        "github.event.issue.number",
        "github.event.workflow_run.pull_requests.*.number",
    )
)
"""Numbers that name a pull request, and with it ``refs/pull/<number>/head``."""


def names_pr_code(path: ContextPath) -> bool:
    """Whether ``path`` is the head ref, head commit or head repository of a pull request."""
    return any(covers(p, path) for p in (*PR_HEAD_REFS, *PR_HEAD_REPOSITORIES))


def names_pr_head_repository(path: ContextPath) -> bool:
    return any(covers(p, path) for p in PR_HEAD_REPOSITORIES)


def names_pr_number(path: ContextPath) -> bool:
    return any(covers(p, path) for p in PR_NUMBERS)


def pr_ref_literal(text: str) -> bool:
    """Whether ``text`` spells a pull request ref: ``refs/pull/…`` or ``pull/<n>/head|merge``."""
    if "refs/pull/" in text:
        return True
    start = text.find("pull/")
    while start >= 0:
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "-_"):
            rest = text[start + 5 :].split("/", 2)
            if len(rest) >= 2 and rest[0] and rest[1].startswith(("head", "merge")):
                return True
        start = text.find("pull/", start + 1)
    return False


# --- Outputs of well-known actions -----------------------------------------------------------


class KnownOutputs(NamedTuple):
    slug: str
    names: frozenset[str]
    """Output names (lowercase); a name ending in ``*`` matches names ending in the rest."""
    holds: str
    """What they hold, for messages."""
    unsafe_when: tuple[str, frozenset[str]] | None = None
    """An input and the values (lowercase) under which the outputs are raw text; under any
    other value the action escapes them or leaves them out."""
    escaped: bool = False
    """Under any other value of ``unsafe_when``'s input the outputs are still produced, but
    shell-escaped: reported with low confidence rather than not at all."""
    json_when: frozenset[str] = frozenset()
    """Values of ``unsafe_when``'s input under which the outputs are JSON."""

    def covers(self, output: str) -> bool:
        output = output.lower()
        return any(
            output.endswith(name[1:]) if name.startswith("*") else output == name
            for name in self.names
        )

    def confidence(self, step: Step) -> Confidence | None:
        """How sure we are that ``step``'s outputs carry raw attacker text."""
        if self.unsafe_when is None:
            return Confidence.MEDIUM
        name, values = self.unsafe_when
        given = step.input(name)
        if given is not None and given.value.strip().lower() in values:
            return Confidence.MEDIUM
        return Confidence.LOW if self.escaped else None

    def is_json(self, step: Step) -> bool:
        if self.unsafe_when is None:
            return False
        given = step.input(self.unsafe_when[0])
        return given is not None and given.value.strip().lower() in self.json_when


class _OutputsTable:
    """The entries of one kind of outputs in the knowledge base."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __iter__(self) -> Iterator[KnownOutputs]:
        """Every entry (which reads the whole knowledge base: for listings, not checks)."""
        for name, info in knowledge.entries().items():
            found = self._known(name, info)
            if found is not None:
                yield found

    def of(self, uses: Uses | None) -> KnownOutputs | None:
        """The entry of the action ``uses`` names, when it has outputs of this kind (only
        that action's entry is read)."""
        info = knowledge.lookup(uses)
        return self._known(uses.name, info) if uses is not None and info is not None else None

    def _known(self, name: str, info: ActionInfo) -> KnownOutputs | None:
        found = info.attacker_outputs if self.kind == "attacker" else info.pr_head_outputs
        if found is None:
            return None
        unsafe = (found.unsafe_input, found.unsafe_values) if found.unsafe_input else None
        return KnownOutputs(
            name, found.names, found.holds, unsafe, found.escaped, found.json_values
        )


ATTACKER_OUTPUTS = _OutputsTable("attacker")
"""Actions whose outputs carry text an outsider wrote (`attacker-outputs` in the knowledge
base, src/bastion/knowledge/actions.toml)."""

PR_CODE_OUTPUTS = _OutputsTable("pr-head")
"""Actions whose outputs name the head of a pull request (`pr-head-outputs`)."""


# --- How values flow through an expression ---------------------------------------------------

_PASSING_CALLS = frozenset({"format", "join", "fromjson"})
"""Functions whose result carries the text of their arguments."""
_SERIALIZING_CALLS = frozenset({"tojson"})


class Flow(NamedTuple):
    """A context read whose value can become (part of) an expression's value."""

    path: ContextPath
    serialized: bool
    """The value is turned into JSON, so a whole object carries the text of its fields."""
    direct: bool
    """The expression is nothing but this read."""


def value_flows(expr: Expr) -> list[Flow]:
    """The context reads whose text can reach the value of ``expr``, in source order.

    ``a || b`` may be either operand; ``a && b`` is ``b`` unless ``a`` is falsy (empty text at
    most); ``format``, ``join``, ``fromJSON`` and ``toJSON`` carry their arguments; comparisons,
    ``!`` and the other functions (``contains``, ``startsWith``, ``hashFiles``, status checks)
    produce booleans or hashes.
    """
    direct = context_path(expr)
    if direct is not None:
        return [Flow(direct, serialized=False, direct=True)]
    flows: list[Flow] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, serialized = stack.pop()
        path = context_path(node)
        if path is not None:
            flows.append(Flow(path, serialized, direct=False))
            continue
        match node:
            case Binary(op="||", left=left, right=right):
                stack.extend(((right, serialized), (left, serialized)))
            case Binary(op="&&", right=right):
                stack.append((right, serialized))  # the left side only when falsy: no text
            case Call(args=args) if node.lower_name in _PASSING_CALLS:
                stack.extend((arg, serialized) for arg in reversed(args))
            case Call(args=args) if node.lower_name in _SERIALIZING_CALLS:
                stack.extend((arg, True) for arg in reversed(args))
            case Property(target=target) | Star(target=target) | Index(target=target):
                stack.append((target, serialized))  # fromJSON(x).field carries x
            case _:
                pass
    flows.sort(key=lambda flow: flow.path.start)
    return flows


def string_literals(expr: Expr) -> list[str]:
    """Every string literal in ``expr``."""
    return [n.value for n in walk(expr) if isinstance(n, Literal) and isinstance(n.value, str)]


# --- Where an expression is evaluated --------------------------------------------------------


class Scope(NamedTuple):
    """Where an expression is evaluated: a step (or a job's outputs) of a job or action."""

    job: Job | None
    steps: list[Step]
    position: int
    """Index of the step in ``steps``; ``len(steps)`` for a job's outputs."""

    @property
    def step(self) -> Step | None:
        return self.steps[self.position] if self.position < len(self.steps) else None

    @property
    def earlier(self) -> list[Step]:
        return self.steps[: self.position]

    def at(self, step: Step) -> Scope:
        position = step.position
        if not (0 <= position < len(self.steps) and self.steps[position] is step):
            position = next(i for i, other in enumerate(self.steps) if other is step)
        return Scope(self.job, self.steps, position)


def env_levels(scope: Scope, workflow: Workflow | None) -> list[Fields | None]:
    """The ``env:`` mappings visible from ``scope``, innermost first: step, job, workflow."""
    step = scope.step
    return [
        step.fields.mapping("env") if step else None,
        scope.job.fields.mapping("env") if scope.job else None,
        workflow.fields.mapping("env") if workflow else None,
    ]


def env_entry(name: str, levels: list[Fields | None], start: int = 0) -> tuple[Entry, int] | None:
    """The definition of env variable ``name`` (any case) nearest to ``start``, and its level."""
    lowered = name.lower()
    for index in range(start, len(levels)):
        for entry in levels[index] or ():
            if entry.key.value.lower() == lowered:
                return entry, index
    return None
