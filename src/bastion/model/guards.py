"""Who can reach a step: its job's and its own ``if:``, the jobs it needs, and earlier steps
that reject fork pull requests, judged for a run an outsider sets off.

An ``if:`` is evaluated in two worlds: the outsider acting alone, and a maintainer having
acted too (added a label, is the actor, has the author association). Each value is true,
false or unknown in each world (unknown stays reachable). A step is reachable by an
outsider when its conditions may hold in the first world; only after a maintainer's action
when they hold only in the second (the reason says which action); by nobody when neither.

What is known statically, per event (see ``model/triggers.py``): ``github.event_name``; the
head repository of a fork's pull request (``head.repo.full_name``/``owner.login`` never equal
the base repository's, ``head.repo.fork`` is true; also ``workflow_run.head_repository``); a
merged pull request's code (the base's own); ``github.event.workflow_run.event`` of an event
no outsider starts. Label, author-association and actor checks are a maintainer's action.
GitHub's comparisons of strings ignore case:
https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import NamedTuple

from bastion.model import triggers
from bastion.model.expressions import (
    Binary,
    Call,
    Expr,
    ExpressionError,
    Literal,
    Unary,
    context_path,
    find_expressions,
    parse_expression,
    walk,
)
from bastion.model.workflow import Fields, Job, Step, Workflow
from bastion.source.yaml import MappingNode, ScalarNode, SequenceNode

Tri = bool | None
"""True, false, or not known."""


class Reach(IntEnum):
    NOBODY = 0
    MAINTAINER = 1
    """Only after a maintainer's action (a label, an approval, the actor, an association)."""
    OUTSIDER = 2


class Reachability(NamedTuple):
    reach: Reach
    why: str = ""
    """For ``MAINTAINER``: the action (``the label `safe` ``); for ``NOBODY``: the guard."""


OPEN = Reachability(Reach.OUTSIDER)


class _Value(NamedTuple):
    alone: Tri
    """The value when the outsider acts alone."""
    helped: Tri
    """The value once a maintainer acted too."""
    gates: tuple[str, ...] = ()
    """The maintainer actions the value depends on."""
    guards: tuple[str, ...] = ()
    """The conditions that rule an outsider out."""

    def negated(self) -> _Value:
        return _Value(_not(self.alone), _not(self.helped), self.gates, self.guards)


_TRUE = _Value(True, True)
_FALSE = _Value(False, False)
_UNKNOWN = _Value(None, None)


def _not(value: Tri) -> Tri:
    return None if value is None else not value


def _and(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    return True if a is True and b is True else None


def _or(a: Tri, b: Tri) -> Tri:
    if a is True or b is True:
        return True
    return False if a is False and b is False else None


def _combine(op: str, a: _Value, b: _Value) -> _Value:
    join = _and if op == "&&" else _or
    return _Value(
        join(a.alone, b.alone), join(a.helped, b.helped), a.gates + b.gates, a.guards + b.guards
    )


def _gate(why: str) -> _Value:
    return _Value(False, None, (why,))


def _guard(why: str, value: bool = False) -> _Value:
    return _Value(value, value, (), (why,))


# --- What the paths of a condition are ------------------------------------------------------

_HEAD_NAMES = frozenset(
    {
        "github.event.pull_request.head.repo.full_name",
        "github.event.workflow_run.head_repository.full_name",
    }
)
_HEAD_OWNERS = frozenset(
    {
        "github.event.pull_request.head.repo.owner.login",
        "github.event.pull_request.head.user.login",
        "github.event.workflow_run.head_repository.owner.login",
    }
)  # fmt: skip
_HEAD_FORK = frozenset(
    {"github.event.pull_request.head.repo.fork", "github.event.workflow_run.head_repository.fork"}
)
_BASE_NAMES = frozenset(
    {
        "github.repository", "github.event.repository.full_name",
        "github.event.pull_request.base.repo.full_name",
    }
)  # fmt: skip
_BASE_OWNERS = frozenset(
    {
        "github.repository_owner",
        "github.event.repository.owner.login",
        "github.event.pull_request.base.repo.owner.login",
    }
)
_ACTORS = frozenset(
    {
        "github.actor", "github.triggering_actor", "github.event.sender.login",
        "github.event.pull_request.user.login", "github.event.comment.user.login",
        "github.event.issue.user.login", "github.event.review.user.login",
    }
)  # fmt: skip
_LABEL_LISTS = frozenset(
    {"github.event.pull_request.labels.*.name", "github.event.issue.labels.*.name"}
)
_MAINTAINER_ASSOCIATIONS = frozenset({"owner", "member", "collaborator"})
_MERGED = "github.event.pull_request.merged"
_STATUS_CALLS = frozenset({"always", "failure", "cancelled"})
"""Status functions that let a job run when a job it needs did not succeed or was skipped."""


def _has_payload(dotted: str, event: str) -> bool:
    if dotted.startswith("github.event.pull_request."):
        return triggers.event(event).pull_request
    if dotted.startswith("github.event.workflow_run."):
        return event == "workflow_run"
    return True


def condition(text: str | None) -> Expr | None:
    """An ``if:`` condition parsed, whether or not it is wrapped in ``${{ }}``; None when
    there is none or it cannot be read (text around an expression is always true)."""
    if not text or not text.strip():
        return None
    source = text.strip()
    embedded = find_expressions(source)
    if embedded:
        if len(embedded) > 1 or embedded[0].start != 0 or embedded[0].end != len(source):
            return None
        source = embedded[0].source
    try:
        return parse_expression(source)
    except ExpressionError:
        return None


class _Evaluator:
    def __init__(self, event: str, upstream: frozenset[str] | None) -> None:
        self.event = event
        self.upstream = upstream

    def value(self, expr: Expr) -> _Value:
        if isinstance(expr, Literal):
            return _TRUE if _truthy(expr.value) else _FALSE
        if isinstance(expr, Unary) and expr.op == "!":
            return self.value(expr.operand).negated()
        if isinstance(expr, Binary):
            if expr.op in ("&&", "||"):
                return _combine(expr.op, self.value(expr.left), self.value(expr.right))
            if expr.op in ("==", "!="):
                equal = self.equal(expr.left, expr.right)
                return equal if expr.op == "==" else equal.negated()
            return _UNKNOWN
        if isinstance(expr, Call):
            return self.call(expr)
        path = context_path(expr)
        if path is None:
            return _UNKNOWN
        dotted = path.dotted()
        if dotted in _HEAD_FORK:
            if not _has_payload(dotted, self.event):
                return _FALSE
            return _guard(f"`{dotted}` is true for a fork", value=True)
        if dotted == _MERGED and _has_payload(dotted, self.event):
            return _guard("it runs only for a merged pull request, whose code is the base's")
        return _UNKNOWN

    def equal(self, left: Expr, right: Expr) -> _Value:
        """The value of ``left == right``."""
        paths = [p.dotted() for side in (left, right) if (p := context_path(side)) is not None]
        literals = [side.value for side in (left, right) if isinstance(side, Literal)]
        text = next((str(v).lower() for v in literals if isinstance(v, str)), None)
        if len(paths) == 2:
            a, b = paths
            pair = {a, b}
            if pair & _HEAD_NAMES and pair & _BASE_NAMES:
                return _guard("a fork's head repository is not the base repository")
            if pair & _HEAD_OWNERS and pair & _BASE_OWNERS:
                return _guard("a fork's owner is not the base repository's owner")
            if pair & _ACTORS and pair & _BASE_OWNERS:
                return _gate("the actor being the repository's owner")
            return _UNKNOWN
        if len(paths) != 1 or not literals:
            return _UNKNOWN
        dotted, literal = paths[0], literals[0]
        if dotted == "github.event_name" and text is not None:
            if text == self.event:
                return _TRUE
            return _guard(f"`github.event_name` is not `{text}` in a `{self.event}` run")
        if dotted in _HEAD_NAMES and text is not None:
            return _guard(f"a fork's head repository is not `{text}`")
        if dotted in _HEAD_OWNERS and text is not None:
            return _guard(f"a fork's owner is not `{text}`")
        if dotted in _HEAD_FORK and isinstance(literal, bool):
            value = self.value(left if context_path(left) else right)
            return value if literal else value.negated()
        if dotted == _MERGED and literal is True:
            return self.value(left if context_path(left) else right)
        if dotted.endswith(".author_association") and text is not None:
            if text in _MAINTAINER_ASSOCIATIONS:
                return _gate(f"the author association `{text.upper()}`")
            return _UNKNOWN
        if dotted in _ACTORS and text is not None:
            return _gate(f"the actor `{text}`")
        if dotted == "github.event.label.name" and text is not None:
            return _gate(f"the label `{text}` being added")
        if dotted == "github.event.action" and text == "labeled":
            return _gate("a label being added")
        if (
            dotted == "github.event.workflow_run.event"
            and text is not None
            and (
                not triggers.event(text).outsider
                or (self.upstream is not None and text not in self.upstream)
            )
        ):
            return _guard(f"an upstream run of `{text}` is not an outsider's")
        return _UNKNOWN

    def call(self, call: Call) -> _Value:
        name = call.lower_name
        if name in ("always", "success"):
            return _TRUE
        if name != "contains" or len(call.args) != 2:
            return _UNKNOWN
        haystack, needle = call.args
        hay_path, needle_path = context_path(haystack), context_path(needle)
        if hay_path is not None and hay_path.dotted() in _LABEL_LISTS:
            if isinstance(needle, Literal) and isinstance(needle.value, str):
                return _gate(f"the label `{needle.value}`")
            return _UNKNOWN
        if needle_path is None:
            return _UNKNOWN
        items = _literal_items(haystack)
        if items is None:
            return _UNKNOWN
        if needle_path.dotted().endswith(".author_association"):
            if items and all(i.lower() in _MAINTAINER_ASSOCIATIONS for i in items):
                return _gate(f"an author association of {', '.join(items)}")
            return _UNKNOWN
        result = _FALSE
        for item in items:
            result = _combine("||", result, self.equal(needle, Literal(item, 0, 0)))
        return result


def _literal_items(expr: Expr) -> list[str] | None:
    """The items of ``fromJSON('["a", "b"]')`` or the words of a string literal."""
    if isinstance(expr, Call) and expr.lower_name == "fromjson" and len(expr.args) == 1:
        inner = expr.args[0]
        if isinstance(inner, Literal) and isinstance(inner.value, str):
            return re.findall(r'"([^"]*)"', inner.value)
        return None
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return re.findall(r"[A-Za-z0-9_\[\]-]+", expr.value)
    return None


def _truthy(value: object) -> bool:
    return bool(value) if value is not None else False


def _reachability(value: _Value) -> Reachability:
    if value.alone is not False:
        return OPEN
    if value.helped is not False:
        return Reachability(Reach.MAINTAINER, " or ".join(dict.fromkeys(value.gates)))
    return Reachability(Reach.NOBODY, "; ".join(dict.fromkeys(value.guards)))


# --- Earlier steps that reject forks ---------------------------------------------------------

_WORD = r"(?:\"[^\"]*\"|'[^']*'|\S+)"
_TEST = rf"(?:\[\[?|test\s)\s*(?P<a>{_WORD})\s*(?P<op>==|=|!=)\s*(?P<b>{_WORD})(?:\s*\]\]?)?"
# Pattern texts, compiled (and kept by ``re``) on first use: few runs meet a rejecting step.
_IF_EXIT = rf"^\s*if\s+{_TEST}\s*;?\s*(?:then)?\s*(?P<rest>.*)$"
_AND_EXIT = rf"^\s*{_TEST}\s*(?P<join>&&|\|\|)\s*(?:\{{\s*)?(?:echo\b[^;]*;\s*)?exit\s+[1-9]"
_EXIT = r"(?:^|[;&|{]\s*|\s)exit\s+[1-9]"
_BRANCH_END = r"^\s*(?:fi|else|elif)\b"
_VARIABLE = r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$"


def _operand(text: str, step: Step) -> str | None:
    """An operand of a shell test as expression source: ``${{ x }}`` gives ``x``, a
    ``$VAR`` set by the step's ``env:`` from one expression gives it, a word a string."""
    inner = text[1:-1] if text[:1] in "\"'" and text[-1:] == text[:1] and len(text) > 1 else text
    embedded = find_expressions(inner)
    if embedded:
        whole = embedded[0]
        return whole.source if whole.start == 0 and whole.end == len(inner) else None
    variable = re.match(_VARIABLE, inner)
    if variable:
        env = step.fields.mapping("env")
        value = env.text(variable.group(1)) if env is not None else None
        return _operand(value.strip(), step) if value is not None and "${{" in value else None
    if "$" in inner or "`" in inner:
        return None
    if inner in ("true", "false"):
        return inner  # a boolean expands to this text, so the shell compares it as one
    return "'" + inner.replace("'", "''") + "'"


def _rejection(step: Step) -> Expr | None:
    """The condition under which ``step`` fails the job (``exit 1`` under a test it makes of
    the event), or None."""
    run = step.run
    if run is None or "exit" not in run.value or step.fields.get("continue-on-error") is not None:
        return None
    if step.fields.get("if") is not None:
        return None
    lines = run.value.splitlines()
    for index, line in enumerate(lines):
        found = re.match(_AND_EXIT, line)
        exits_when_true = found is not None and found.group("join") == "&&"
        if found is None:
            found = re.match(_IF_EXIT, line)
            if found is None:
                continue
            tail = [found.group("rest"), *lines[index + 1 : index + 6]]
            block: list[str] = []
            for part in tail:
                if re.match(_BRANCH_END, part) and block:
                    break
                block.append(part)
            if not any(re.search(_EXIT, part) for part in block):
                continue
            exits_when_true = True
        a, b = _operand(found.group("a"), step), _operand(found.group("b"), step)
        if a is None or b is None:
            continue
        op = "!=" if found.group("op") == "!=" else "=="
        try:
            test = parse_expression(f"({a}) {op} ({b})")
        except ExpressionError:
            continue
        return test if exits_when_true else Unary("!", test, 0, 0)
    return None


# --- Jobs and steps --------------------------------------------------------------------------


class Guards:
    """Who can reach each job and step of a workflow in a run of one of ``events``."""

    def __init__(self, workflow: Workflow, events: Iterable[str]) -> None:
        self.workflow = workflow
        self.events = list(events)
        self.upstream = workflow_run_upstream(workflow)
        self.jobs = {job.job_id: job for job in workflow.jobs}
        self._jobs: dict[tuple[str, str], _Value] = {}
        self._rejections: dict[str, list[tuple[Step, Expr]]] = {}

    def _rejecting_steps(self, job: Job) -> list[tuple[Step, Expr]]:
        """The steps of ``job`` that fail it under a test of the event, found once per job."""
        found = self._rejections.get(job.job_id)
        if found is None:
            found = [(s, rejected) for s in job.steps if (rejected := _rejection(s)) is not None]
            self._rejections[job.job_id] = found
        return found

    def step(self, job: Job, step: Step) -> Reachability:
        """The reach of ``step`` of ``job``: the most open over the events."""
        best: Reachability | None = None
        for event in self.events:
            found = _reachability(self._step_value(job, step, event))
            if best is None or found.reach > best.reach:
                best = found
        return best or OPEN

    def job(self, job: Job) -> Reachability:
        best: Reachability | None = None
        for event in self.events:
            found = _reachability(self._job_value(job, event, set()))
            if best is None or found.reach > best.reach:
                best = found
        return best or OPEN

    def _evaluate(self, text: str | None, event: str) -> _Value:
        expr = condition(text)
        return _Evaluator(event, self.upstream).value(expr) if expr is not None else _TRUE

    def _job_value(self, job: Job, event: str, seen: set[str]) -> _Value:
        key = (job.job_id, event)
        if key in self._jobs:
            return self._jobs[key]
        seen.add(job.job_id)
        text = job.fields.text("if")
        value = self._evaluate(text, event)
        expr = condition(text)
        status = expr is not None and any(
            isinstance(node, Call) and node.lower_name in _STATUS_CALLS for node in walk(expr)
        )
        if not status:
            for name in job.needs:
                needed = self.jobs.get(name)
                if needed is not None and name not in seen:
                    value = _combine("&&", value, self._job_value(needed, event, seen))
        self._jobs[key] = value
        return value

    def _step_value(self, job: Job, step: Step, event: str) -> _Value:
        value = _combine(
            "&&", self._job_value(job, event, set()), self._evaluate(step.fields.text("if"), event)
        )
        evaluator = _Evaluator(event, self.upstream)
        in_job = 0 <= step.position < len(job.steps) and job.steps[step.position] is step
        for earlier, rejected in self._rejecting_steps(job) if in_job else []:
            if earlier.position >= step.position:
                break
            passed = evaluator.value(rejected).negated()
            if passed.alone is False and passed.helped is False:
                why = f"step {earlier.index + 1} of the job exits for a fork's run"
                passed = _Value(False, False, passed.gates, (why,))
            value = _combine("&&", value, passed)
        return value


# --- The events of a workflow, `workflow_run` resolved --------------------------------------


def workflow_run_upstream(workflow: Workflow) -> frozenset[str] | None:
    """The events that can start the workflows this ``workflow_run`` follows, when they are
    all found in the same repository; None when unknown."""
    siblings: Mapping[str, triggers.Sibling] | None = workflow.siblings
    trigger = next((t for t in workflow.triggers if t.event == "workflow_run"), None)
    if siblings is None or trigger is None or trigger.config is None:
        return None
    names: list[str] = []
    if isinstance(trigger.config, MappingNode):
        listed = Fields(trigger.config).get("workflows")
        if isinstance(listed, ScalarNode):
            names = [listed.value]
        elif isinstance(listed, SequenceNode):
            names = [i.value for i in listed.value if isinstance(i, ScalarNode)]
    return triggers.upstream_events(names, siblings) if names else None


def privileged_events(workflow: Workflow) -> list[str]:
    """The events of the workflow whose runs an outsider can set off with the base
    repository's secrets or write token, in the order written; a ``workflow_run`` whose
    upstream workflows (in the same repository) only writers can start is left out."""
    found = triggers.privileged(t.event for t in workflow.triggers)
    if "workflow_run" in found:
        upstream = workflow_run_upstream(workflow)
        if upstream is not None and not triggers.outsider_started(upstream):
            found.remove("workflow_run")
    return found
