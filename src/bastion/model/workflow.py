"""Typed, span-carrying views of workflows and actions.

A view keeps the node it was read from and its *route* (``jobs/build/steps/2``), so a rule
can point at any part of it. Building the views also checks the structure GitHub insists
on; whatever GitHub would refuse is recorded in ``problems`` and reported as
``syntax-error``, while every part that can still be read is read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, KeysView, Mapping
from typing import TYPE_CHECKING, NamedTuple, Self, TypeVar, cast

from bastion.findings import Point, Span
from bastion.model.expressions import ExpressionError, first_embedding_error, parse_expression
from bastion.model.triggers import CACHE_MODES, Sibling
from bastion.model.uses import Uses, parse_uses
from bastion.model.walk import scalars_containing, value_offset
from bastion.source.text import LineIndex
from bastion.source.yaml import (
    Document,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    mapping_pairs,
    node_span,
)

if TYPE_CHECKING:
    from bastion.model.lockfile import WorkflowLock

WORKFLOW_KEYS = frozenset(
    {
        "name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs",
        "cache-mode",
    }
)  # fmt: skip
JOB_KEYS = frozenset(
    {
        "name", "needs", "permissions", "if", "runs-on", "environment", "concurrency",
        "outputs", "env", "defaults", "steps", "timeout-minutes", "strategy",
        "continue-on-error", "container", "services", "uses", "with", "secrets", "snapshot",
        "cache-mode",
    }
)  # fmt: skip
STEP_KEYS = frozenset(
    {
        "id", "if", "name", "uses", "run", "working-directory", "shell", "with", "env",
        "continue-on-error", "timeout-minutes", "background",
    }
)  # fmt: skip
CONTROL_STEP_KEYS = frozenset({"wait", "wait-all", "cancel", "parallel"})
"""Steps that only steer the steps around them (GitHub's parallel steps, June 2026)."""
CONTROL_STEP_ALLOWED = frozenset({"id", "if", "name", *CONTROL_STEP_KEYS})
EVENTS = frozenset(
    {
        "branch_protection_rule", "check_run", "check_suite", "create", "delete", "deployment",
        "deployment_status", "discussion", "discussion_comment", "fork", "gollum",
        "image_version", "issue_comment", "issues", "label", "merge_group", "milestone",
        "page_build", "project", "project_card", "project_column", "public", "pull_request",
        "pull_request_review", "pull_request_review_comment", "pull_request_target", "push",
        "registry_package", "release", "repository_dispatch", "schedule", "status", "watch",
        "workflow_call", "workflow_dispatch", "workflow_run",
    }
)  # fmt: skip
DISPATCH_INPUT_TYPES = frozenset({"string", "boolean", "number", "choice", "environment"})
CALL_INPUT_TYPES = frozenset({"string", "boolean", "number"})


Result = TypeVar("Result")


class _Analysed:
    """A file model that keeps what rules derive from it (:meth:`analysis`)."""

    __slots__ = ("_analyses",)

    def __init__(self) -> None:
        self._analyses: dict[Callable[..., object], object] = {}

    def analysis(self, analyse: Callable[[Self], Result]) -> Result:
        """``analyse(self)``, computed once however many rules ask for it."""
        if analyse not in self._analyses:
            self._analyses[analyse] = analyse(self)
        return cast(Result, self._analyses[analyse])


class Problem(NamedTuple):
    """Something GitHub would refuse; reported as ``syntax-error``."""

    message: str
    node: Node
    span: Span | None = None
    """Where exactly, when that is narrower than the node (a point inside an expression)."""


class Entry(NamedTuple):
    """One key of a mapping with its value."""

    key: ScalarNode
    value: Node


def _is_merge(key: Node) -> bool:
    return key.value == "<<" and type(key) is ScalarNode and not key.style


class Fields:
    """The keys of a mapping node, looked up by name (the last of duplicate keys wins)."""

    __slots__ = ("_children", "_entries", "_pairs", "node")

    def __init__(self, node: MappingNode) -> None:
        self.node = node
        self._children: dict[str, Fields | None] | None = None
        self._entries: list[Entry] | None = None
        pairs: dict[str, tuple[ScalarNode, Node]] = {
            pair[0].value: pair for pair in node.value if type(pair[0]) is ScalarNode
        }
        if "<<" in pairs and any(_is_merge(key) for key, _ in node.value):
            merged = mapping_pairs(node)
            pairs = {key.value: (key, value) for key, value in merged if type(key) is ScalarNode}
        self._pairs = pairs

    def __contains__(self, name: str) -> bool:
        return name in self._pairs

    def __iter__(self) -> Iterator[Entry]:
        if self._entries is None:
            self._entries = [Entry(key, value) for key, value in self._pairs.values()]
        return iter(self._entries)

    def names(self) -> KeysView[str]:
        return self._pairs.keys()

    def entry(self, name: str) -> Entry | None:
        found = self._pairs.get(name)
        return Entry(*found) if found is not None else None

    def get(self, name: str) -> Node | None:
        found = self._pairs.get(name)
        return found[1] if found is not None else None

    def scalar(self, name: str) -> ScalarNode | None:
        found = self._pairs.get(name)
        return found[1] if found is not None and isinstance(found[1], ScalarNode) else None

    def text(self, name: str) -> str | None:
        value = self.scalar(name)
        return value.value if value is not None else None

    def mapping(self, name: str) -> Fields | None:
        """The fields of a child mapping (built once: several rules ask for the same ones)."""
        children = self._children
        if children is None:
            children = self._children = {}
        elif name in children:
            return children[name]
        value = self.get(name)
        found = children[name] = Fields(value) if isinstance(value, MappingNode) else None
        return found


class Step:
    """One step; compared by identity (a job may hold thousands)."""

    __slots__ = (
        "fields",
        "index",
        "node",
        "position",
        "route",
        "run",
        "step_id",
        "uses",
        "uses_node",
    )

    def __init__(  # noqa: PLR0917 - a record, built in its fields' order
        self,
        route: str,
        index: int,
        node: MappingNode,
        fields: Fields,
        uses: Uses | None,
        uses_node: ScalarNode | None,
        position: int = -1,
    ) -> None:
        self.route = route
        self.index = index
        """Its index in the YAML list that holds it (``parallel:`` steps: in their group)."""
        self.node = node
        self.fields = fields
        self.uses = uses
        self.uses_node = uses_node
        self.position = position
        """Its index in its job's (or composite action's) ``steps``, -1 for a step not in
        one: look a step up by this, never with ``steps.index(step)``."""
        # Read once here: every rule that looks at scripts asks each step for them.
        self.run: ScalarNode | None = fields.scalar("run")
        self.step_id: str | None = fields.text("id")

    def __repr__(self) -> str:
        return f"Step({self.route!r})"

    @property
    def with_(self) -> Fields | None:
        return self.fields.mapping("with")

    def input(self, name: str) -> ScalarNode | None:
        inputs = self.fields.mapping("with")
        return inputs.scalar(name) if inputs else None


class Job:
    """One job; compared by identity."""

    __slots__ = ("fields", "job_id", "key", "node", "route", "steps", "uses", "uses_node")

    def __init__(  # noqa: PLR0917 - a record, built in its fields' order
        self,
        job_id: str,
        route: str,
        key: ScalarNode,
        node: MappingNode,
        fields: Fields,
        steps: list[Step],
        uses: Uses | None,
        uses_node: ScalarNode | None,
    ) -> None:
        self.job_id = job_id
        self.route = route
        self.key = key
        self.node = node
        self.fields = fields
        self.steps = steps
        self.uses = uses
        """The reusable workflow this job calls, if it calls one."""
        self.uses_node = uses_node

    def __repr__(self) -> str:
        return f"Job({self.route!r})"

    @property
    def has_environment(self) -> bool:
        """Whether the job names a deployment environment (``environment: x`` or ``name: x``)."""
        environment = self.fields.mapping("environment")
        value = (
            environment.scalar("name")
            if environment is not None
            else self.fields.get("environment")
        )
        return isinstance(value, ScalarNode) and bool(value.value.strip())

    @property
    def needs(self) -> list[str]:
        """The jobs named by ``needs:`` (one name or a list)."""
        value = self.fields.get("needs")
        if isinstance(value, ScalarNode):
            return [value.value]
        if isinstance(value, SequenceNode):
            return [item.value for item in value.value if isinstance(item, ScalarNode)]
        return []


class Trigger(NamedTuple):
    event: str
    node: ScalarNode
    """The event name as written (a key of ``on:``, an item of its list, or its scalar)."""
    config: Node | None


class Workflow(_Analysed):
    """A workflow file; compared by identity."""

    __slots__ = (
        "document",
        "fields",
        "jobs",
        "lines",
        "lock",
        "path",
        "problems",
        "siblings",
        "triggers",
    )

    def __init__(  # noqa: PLR0917 - a record, built in its fields' order
        self,
        path: str,
        document: Document,
        lines: LineIndex,
        fields: Fields,
        triggers: list[Trigger],
        jobs: list[Job],
        problems: list[Problem] | None = None,
    ) -> None:
        self.path = path
        self.document = document
        self.lines = lines
        self.fields = fields
        self.triggers = triggers
        self.jobs = jobs
        self.problems: list[Problem] = [] if problems is None else problems
        self.lock: WorkflowLock | None = None
        """The repository's lockfile entry for this workflow, when it is listed there (set
        by the engine)."""
        self.siblings: Mapping[str, Sibling] | None = None
        """The workflows of the same ``.github/workflows``, by lowercase name, when the
        engine looked them up (a workflow with a ``workflow_run`` trigger); None when not
        known."""
        _Analysed.__init__(self)

    def __repr__(self) -> str:
        return f"Workflow({self.path!r})"

    def has_trigger(self, *events: str) -> bool:
        return any(trigger.event in events for trigger in self.triggers)


class Action(_Analysed):
    """An action's metadata file; compared by identity."""

    __slots__ = (
        "document",
        "fields",
        "lines",
        "locks",
        "path",
        "problems",
        "runs",
        "steps",
        "using",
    )

    def __init__(  # noqa: PLR0917 - a record, built in its fields' order
        self,
        path: str,
        document: Document,
        lines: LineIndex,
        fields: Fields,
        using: str | None,
        runs: Fields | None,
        steps: list[Step],
        problems: list[Problem] | None = None,
    ) -> None:
        self.path = path
        self.document = document
        self.lines = lines
        self.fields = fields
        self.using = using
        self.runs = runs
        self.steps = steps
        self.problems: list[Problem] = [] if problems is None else problems
        self.locks: tuple[WorkflowLock, ...] = ()
        """The locks of the workflows that run this action of the repository through
        ``$/``, when every workflow that runs it is locked (set by the engine); else empty."""
        _Analysed.__init__(self)

    def __repr__(self) -> str:
        return f"Action({self.path!r})"

    @property
    def is_composite(self) -> bool:
        return self.using == "composite"

    @property
    def is_docker(self) -> bool:
        return self.using == "docker"


class _Builder:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, message: str, node: Node) -> None:
        self.problems.append(Problem(message, node))

    def expressions(self, document: Document, lines: LineIndex) -> None:
        """A problem for each value whose ``${{`` GitHub refuses: never closed, or not an
        expression (GitHub reads expressions in every value of a workflow or an action)."""
        if "${{" not in document.text:
            return
        for scalar in scalars_containing(document, "${{"):
            error = first_embedding_error(scalar.value)
            if error is not None:
                point = _value_point(lines, scalar, error.opens, error.offset)
                self.problems.append(Problem(error.message, scalar, Span(point, point)))

    def conditions(self, owners: list[Fields], lines: LineIndex) -> None:
        """A problem for each ``if:`` of a job or step that GitHub cannot read: without
        ``${{ }}``, GitHub reads the whole value as one expression."""
        for fields in owners:
            condition = fields.scalar("if")
            if condition is None or "${{" in condition.value or not condition.value.strip():
                continue
            try:
                parse_expression(condition.value)
            except ExpressionError as error:
                point = _value_point(lines, condition, 0, error.offset)
                message = f"invalid expression in `if`: {error.message}"
                self.problems.append(Problem(message, condition, Span(point, point)))

    def cache_modes(self, owners: list[Fields]) -> None:
        """A problem for each ``cache-mode:`` (workflow or job, 2026-09) that is not one of
        GitHub's modes."""
        for fields in owners:
            value = fields.get("cache-mode")
            if value is None:
                continue
            text = value.value if isinstance(value, ScalarNode) else None
            if text is None or (text not in CACHE_MODES and "${{" not in text):
                allowed = ", ".join(CACHE_MODES)
                self.problem(f"'cache-mode' must be one of {allowed}", value)

    def unknown_keys(self, fields: Fields, allowed: frozenset[str], what: str) -> None:
        if allowed.issuperset(fields.names()):
            return
        for entry in fields:
            if entry.key.value not in allowed:
                self.problem(f"unexpected key {entry.key.value!r} in {what}", entry.key)

    def steps(self, node: Node | None, route: str, *, composite: bool) -> list[Step]:
        """The steps under ``node``; steps grouped by ``parallel:`` are listed in place."""
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.problem("'steps' must be a list of steps", node)
            return []
        steps: list[Step] = []
        for index, item in enumerate(node.value):
            step_route = f"{route}/{index}"
            if not isinstance(item, MappingNode):
                self.problem("a step must be a mapping with 'uses' or 'run'", item)
                continue
            fields = Fields(item)
            names = fields.names()
            if not CONTROL_STEP_KEYS.isdisjoint(names):
                control = [entry for entry in fields if entry.key.value in CONTROL_STEP_KEYS]
                self.unknown_keys(fields, CONTROL_STEP_ALLOWED, f"a {control[0].key.value!r} step")
                parallel = fields.get("parallel")
                if parallel is not None:
                    steps.extend(
                        self.steps(parallel, f"{step_route}/parallel", composite=composite)
                    )
                continue
            self.unknown_keys(fields, STEP_KEYS, "a step")
            uses_node = fields.get("uses")
            runs = "run" in names
            if uses_node is not None and runs:
                self.problem("a step cannot have both 'uses' and 'run'", item)
            elif uses_node is None and not runs:
                self.problem("a step needs 'uses' or 'run'", item)
            elif composite and runs and "shell" not in names:
                self.problem("a 'run' step of a composite action needs 'shell'", item)
            if uses_node is None:
                steps.append(Step(step_route, index, item, fields, None, None))
                continue
            uses = self.uses(uses_node)
            scalar = uses_node if isinstance(uses_node, ScalarNode) else None
            steps.append(Step(step_route, index, item, fields, uses, scalar))
        return steps

    def uses(self, node: Node | None) -> Uses | None:
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or not node.value.strip():
            self.problem("'uses' must name an action or workflow", node)
            return None
        return _parsed_uses(node.value)

    def triggers(self, node: Node) -> list[Trigger]:
        if isinstance(node, ScalarNode):
            triggers = [Trigger(node.value, node, None)]
        elif isinstance(node, SequenceNode):
            triggers = []
            for item in node.value:
                if isinstance(item, ScalarNode):
                    triggers.append(Trigger(item.value, item, None))
                else:
                    self.problem("an item of 'on' must be an event name", item)
        elif isinstance(node, MappingNode):
            triggers = [Trigger(e.key.value, e.key, e.value) for e in Fields(node)]
        else:  # pragma: no cover - the composer makes no other kinds
            triggers = []
        for trigger in triggers:
            if trigger.event not in EVENTS:
                self.problem(f"unknown event {trigger.event!r}", trigger.node)
            elif trigger.event in ("workflow_dispatch", "workflow_call"):
                self.input_types(trigger)
        return triggers

    def input_types(self, trigger: Trigger) -> None:
        config = trigger.config
        inputs = Fields(config).mapping("inputs") if isinstance(config, MappingNode) else None
        if inputs is None:
            return
        allowed = DISPATCH_INPUT_TYPES if trigger.event == "workflow_dispatch" else CALL_INPUT_TYPES
        for entry in inputs:
            spec = entry.value
            kind = Fields(spec).scalar("type") if isinstance(spec, MappingNode) else None
            if kind is not None and kind.value not in allowed:
                choices = ", ".join(sorted(allowed))
                self.problem(
                    f"input {entry.key.value!r} of {trigger.event} has type {kind.value!r}; "
                    f"GitHub accepts {choices}",
                    kind,
                )

    def jobs(self, node: Node | None, root: Node) -> list[Job]:
        if node is None:
            self.problem("a workflow needs 'jobs'", root)
            return []
        if not isinstance(node, MappingNode):
            self.problem("'jobs' must be a mapping of job ids to jobs", node)
            return []
        jobs: list[Job] = []
        for entry in Fields(node):
            job_id = entry.key.value
            route = f"jobs/{job_id}"
            if not isinstance(entry.value, MappingNode):
                self.problem(f"job {job_id!r} must be a mapping", entry.value)
                continue
            fields = Fields(entry.value)
            self.unknown_keys(fields, JOB_KEYS, f"job {job_id!r}")
            uses_node = fields.get("uses")
            if uses_node is None and "runs-on" not in fields:
                self.problem(
                    f"job {job_id!r} needs 'runs-on' (or 'uses' for a workflow)", entry.key
                )
            if uses_node is not None and "steps" in fields:
                self.problem(f"job {job_id!r} calls a workflow and cannot have 'steps'", entry.key)
            steps = _numbered(self.steps(fields.get("steps"), f"{route}/steps", composite=False))
            uses = self.uses(uses_node)
            scalar = uses_node if isinstance(uses_node, ScalarNode) else None
            jobs.append(Job(job_id, route, entry.key, entry.value, fields, steps, uses, scalar))
        return jobs


_parsed_uses = functools.lru_cache(maxsize=4096)(parse_uses)
"""parse_uses, kept per text: a project names the same few actions in step after step."""


def _numbered(steps: list[Step]) -> list[Step]:
    for position, step in enumerate(steps):
        step.position = position
    return steps


def build_workflow(path: str, document: Document, lines: LineIndex | None = None) -> Workflow:
    builder = _Builder()
    lines = lines or LineIndex(document.text)
    root = document.root
    if not isinstance(root, MappingNode):
        builder.problem("a workflow must be a mapping with 'on' and 'jobs'", root)
        empty = Fields(MappingNode("tag:yaml.org,2002:map", [], root.start_mark, root.end_mark))
        return Workflow(path, document, lines, empty, [], [], builder.problems)
    fields = Fields(root)
    builder.unknown_keys(fields, WORKFLOW_KEYS, "a workflow")
    on = fields.get("on")
    if on is None:
        builder.problem("a workflow needs 'on' (the events that run it)", root)
        triggers: list[Trigger] = []
    else:
        triggers = builder.triggers(on)
    jobs = builder.jobs(fields.get("jobs"), root)
    builder.expressions(document, lines)
    owners = [job.fields for job in jobs] + [step.fields for job in jobs for step in job.steps]
    builder.conditions(owners, lines)
    builder.cache_modes([fields, *(job.fields for job in jobs)])
    return Workflow(path, document, lines, fields, triggers, jobs, builder.problems)


def build_action(path: str, document: Document, lines: LineIndex | None = None) -> Action:
    builder = _Builder()
    lines = lines or LineIndex(document.text)
    root = document.root
    if not isinstance(root, MappingNode):
        builder.problem("an action must be a mapping with 'runs'", root)
        empty = Fields(MappingNode("tag:yaml.org,2002:map", [], root.start_mark, root.end_mark))
        return Action(path, document, lines, empty, None, None, [], builder.problems)
    fields = Fields(root)
    runs = fields.mapping("runs")
    using: str | None = None
    steps: list[Step] = []
    if runs is None:
        builder.problem("an action needs 'runs' (how it runs)", fields.get("runs") or root)
    else:
        using = runs.text("using")
        if using is None:
            builder.problem("'runs' needs 'using'", runs.node)
        elif using == "composite":
            if "steps" not in runs:
                builder.problem("a composite action needs 'steps'", runs.node)
            steps = _numbered(builder.steps(runs.get("steps"), "runs/steps", composite=True))
    builder.expressions(document, lines)
    builder.conditions([step.fields for step in steps], lines)
    return Action(path, document, lines, fields, using, runs, steps, builder.problems)


def _value_point(lines: LineIndex, scalar: ScalarNode, opens: int, offset: int) -> Point:
    """Where ``scalar.value[offset]`` (inside the expression opened at ``opens``) is written;
    the ``${{`` when the expression is not written verbatim, else the scalar's start."""
    end = min(len(scalar.value), offset + 1)
    written = value_offset(lines, scalar, opens, end)
    if written >= 0:
        return lines.point(written + offset - opens)
    written = value_offset(lines, scalar, opens, opens + 3)
    return lines.point(written) if written >= 0 else node_span(scalar).start


def looks_like_action(document: Document) -> bool:
    """For a file of unknown kind: an action has ``runs`` and no ``jobs``."""
    root = document.root
    if not isinstance(root, MappingNode):
        return False
    fields = Fields(root)
    return "runs" in fields and "jobs" not in fields
