"""What a fixer is: given a file and one finding, the edits that remove it, or why not."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar, cast

from bastion.engine import YamlModel
from bastion.findings import Finding, Point
from bastion.fix.edits import Edit
from bastion.fix.yaml_edit import Layout, Value, insert_entries, set_value
from bastion.model.workflow import Action, Fields, Job, Step, Workflow
from bastion.rules.base import OptionValue
from bastion.source.text import LineIndex
from bastion.source.yaml import Document, MappingNode, Node, ScalarNode

Model = YamlModel
"""The typed view of a file a fixer edits."""

T = TypeVar("T")

# The line breaks YAML and LineIndex count, so that points agree with findings.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Fix:
    message: str
    """What the fix does, shown to the user."""
    edits: tuple[Edit, ...]
    note: str = ""
    """Something the user should check by hand after this fix."""


@dataclass(frozen=True, slots=True)
class NoFix:
    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    """One file as a fixer sees it: its text, parse, model and every current finding."""

    text: str
    document: Document
    model: Model
    lines: LineIndex
    layout: Layout
    findings: tuple[Finding, ...]
    settings: Mapping[str, Mapping[str, OptionValue]]
    """Rule options from the configuration, by rule id."""
    memo: dict[Hashable, object] = field(default_factory=dict, repr=False, compare=False)
    """What fixers compute once per target and look up per finding (see :meth:`once`)."""

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, computed on the first call with ``key`` and remembered: a lookup
        every finding needs must not cost a pass over the whole file each time."""
        if key not in self.memo:
            self.memo[key] = compute()
        return cast("T", self.memo[key])

    def offset(self, point: Point) -> int:
        """The character offset of a 1-based (line, column) point."""
        starts = _line_starts(self.text)
        if point.line > len(starts):
            return len(self.text)
        return min(starts[point.line - 1] + point.column - 1, len(self.text))

    def owns(self, container: Node, node: Node) -> bool:
        """Whether ``node`` is written inside ``container`` (not merged in from an anchor)."""
        return container.start_mark.index <= node.start_mark.index < container.end_mark.index

    @property
    def workflow(self) -> Workflow | None:
        return self.model if isinstance(self.model, Workflow) else None

    def job_of(self, step: Step) -> Job | None:
        """The job a step of a workflow belongs to."""
        return self.once("jobs by step", self._jobs_by_step).get(step.route)

    def _jobs_by_step(self) -> dict[str, Job]:
        jobs = self.workflow.jobs if self.workflow is not None else []
        return {step.route: job for job in jobs for step in job.steps}

    def steps_around(self, step: Step) -> list[Step]:
        """The steps of the job (or composite action) that ``step`` belongs to."""
        if isinstance(self.model, Action):
            return self.model.steps
        job = self.job_of(step)
        return job.steps if job is not None else []

    def step(self, route: str) -> Step | None:
        """The step whose route is the longest prefix of ``route``."""
        steps = self.once("steps by route", lambda: {s.route: s for s in _steps(self.model)})
        while route:
            if route in steps:
                return steps[route]
            route = route.rpartition("/")[0]
        return None


@functools.lru_cache(maxsize=8)
def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def _steps(model: Model) -> list[Step]:
    if isinstance(model, Action):
        return model.steps
    if isinstance(model, Workflow):
        return [step for job in model.jobs for step in job.steps]
    return []


class Fixer:
    """Base class: ``fix`` returns the edits that remove a finding of rule ``rule``."""

    rule: ClassVar[str]
    safe: ClassVar[bool]
    """Safe fixes cannot change what the workflow does; unsafe ones can, and need --unsafe."""
    why_unsafe: ClassVar[str] = ""

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        raise NotImplementedError


def set_input(target: Target, step: Step, name: str, value: str) -> Edit | NoFix:
    """The edit that makes input ``name`` of ``step`` equal ``value`` (YAML text), adding the
    input, or ``with:`` itself, when missing."""
    text, layout = target.text, target.layout
    uses = step.fields.entry("uses")
    inputs = step.fields.entry("with")
    edit: Edit | None
    if inputs is None:
        if uses is None:
            return NoFix("the step has no `uses:`")
        entries: tuple[tuple[str, Value], ...] = (("with", ((name, value),)),)
        edit = insert_entries(text, layout, step.node, entries, after=uses.key)
    elif not target.owns(step.node, inputs.key):
        return NoFix("the step's `with:` is merged in from an anchor other steps share")
    elif isinstance(inputs.value, MappingNode):
        current = Fields(inputs.value).entry(name)
        if current is None:
            edit = insert_entries(text, layout, inputs.value, ((name, value),))
        elif not target.owns(inputs.value, current.key):
            return NoFix(f"`{name}` is merged in from an anchor other steps share")
        else:
            flow = bool(inputs.value.flow_style)
            edit = set_value(text, layout, current.key, current.value, value, flow=flow)
    elif isinstance(inputs.value, ScalarNode) and not inputs.value.value:
        edit = set_value(text, layout, inputs.key, inputs.value, ((name, value),))
    else:
        return NoFix("the step's `with:` is not a mapping")
    if edit is None:
        return NoFix("the step is written in a way this fix does not edit")
    return edit
