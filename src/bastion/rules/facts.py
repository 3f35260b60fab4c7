"""What several rules read of one workflow or action, derived once per file and kept on it.

``facts(model)`` is the :class:`Facts` of a workflow or action, cached on the model: each
fact is derived the first time a rule asks for it, and every later rule looks it up instead
of walking the tree again.

- ``script(step)``: a `run:` step's :class:`Script`, whose logical lines and simple commands
  are cut once, and only when a rule asks (most rules first ask whether the script can hold
  a word they look for, which costs a substring search);
- ``privileged``: the privileged events of a workflow;
- ``secret_reads(job)``: every expression of a job (or of the workflow-level `env`) that
  reads a stored secret, found on the first question about that job by walking only the
  subtrees whose text names `secrets` (secret-outside-environment, stored-publish-credential).

The release rules keep theirs (publishing steps, release jobs) on the same model through
``Workflow.analysis`` (rules/release.py), built on these scripts.

Facts hold no reference to their model: the model holds them, and models must stay free of
reference cycles, which only the (mostly idle) cycle collector would free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from bastion.model.expressions import (
    ContextPath,
    Embedded,
    ExpressionError,
    context_paths,
    find_expressions,
    parse_expression,
)
from bastion.model.guards import privileged_events
from bastion.model.shell import ScriptLine, commands, script_lines
from bastion.model.walk import iter_scalars, mentioning
from bastion.model.workflow import Action, Job, Step, Workflow
from bastion.source.yaml import Node, ScalarNode

Command = tuple[ScriptLine, list[str]]
"""A simple command's words, with the logical line it is on."""


class Script:
    """The `run:` script of one step."""

    __slots__ = ("_commands", "_lines", "node", "step", "text")

    def __init__(self, step: Step, node: ScalarNode) -> None:
        self.step = step
        self.node = node
        self.text = node.value
        self._lines: tuple[ScriptLine, ...] | None = None
        self._commands: list[Command] | None = None

    def mentions(self, *words: str) -> bool:
        """Whether any of ``words`` occurs in the script's text (a command can only be one
        of them if its words are written there)."""
        return any(word in self.text for word in words)

    @property
    def lines(self) -> tuple[ScriptLine, ...]:
        if self._lines is None:
            self._lines = script_lines(self.text)
        return self._lines

    @property
    def commands(self) -> list[Command]:
        """Every simple command of the script, in order (the word lists are shared: do not
        change them)."""
        if self._commands is None:
            lines = self.lines
            self._commands = [(line, words) for line in lines for words in commands(line.masked)]
        return self._commands


class Facts:
    """The shared facts of one workflow or action (see the module's documentation)."""

    def __init__(self, model: Workflow | Action) -> None:
        self._document = model.document
        workflow = model if isinstance(model, Workflow) else None
        self.privileged: tuple[str, ...] = tuple(privileged_events(workflow) if workflow else ())
        """The privileged events of the workflow (none for an action), as written."""
        self._env = model.fields.get("env") if isinstance(model, Workflow) else None
        self._scripts: dict[int, Script | None] = {}
        self._secret_reads: dict[int, list[SecretRead]] = {}
        self._reads_by_scalar: dict[int, dict[int, list[SecretRead]]] = {}
        self._mentions_secrets: tuple[Callable[[Node], bool] | None] | None = None
        """Which nodes' text names `secrets` (:func:`mentioning`), once found."""

    def script(self, step: Step) -> Script | None:
        """The script of ``step``, None when it has no `run:` (or not a text)."""
        key = id(step)
        if key not in self._scripts:
            run = step.run
            self._scripts[key] = Script(step, run) if run is not None else None
        return self._scripts[key]

    def secret_reads(self, job: Job | None) -> list[SecretRead]:
        """The secret reads of ``job`` (anywhere in it), or of the workflow-level `env` for
        None, in document order (a node an alias shares is read once per place); found on
        the first question about that job, in the subtrees whose text names `secrets`."""
        key = id(job)
        found = self._secret_reads.get(key)
        if found is None:
            found = self._secret_reads[key] = self._find_secret_reads(job)
        return found

    def secret_reads_of(self, job: Job | None, scalar: ScalarNode) -> list[SecretRead]:
        """The secret reads of ``scalar``, a value in ``job`` (None: the workflow-level
        `env`), once each."""
        by_scalar = self._reads_by_scalar.get(id(job))
        if by_scalar is None:
            by_scalar = self._reads_by_scalar[id(job)] = {}
            for read in self.secret_reads(job):
                by_scalar.setdefault(id(read.scalar), []).append(read)
        reads = by_scalar.get(id(scalar), [])
        return [read for read in reads if read.route == reads[0].route]

    def _find_secret_reads(self, job: Job | None) -> list[SecretRead]:
        if self._mentions_secrets is None:
            document = self._document
            shares = _may_share_scalars(document.text)
            self._mentions_secrets = (None if shares else mentioning(document, "secrets"),)
        keep = self._mentions_secrets[0]
        node = job.node if job is not None else self._env
        if node is None or (keep is not None and not keep(node)):
            return []
        if job is None:
            return list(_secret_reads(node, "env", set(), keep))
        return list(_secret_reads(node, job.route, _bare_conditions(job), keep))


class SecretRead(NamedTuple):
    """An expression that reads a stored secret (other than `GITHUB_TOKEN` alone)."""

    scalar: ScalarNode
    route: str
    paths: tuple[ContextPath, ...]
    """Its reads of the `secrets` context, in source order."""
    embedded: Embedded | None
    """Where it is in the scalar's value; None for an `if:` without `${{ }}`, whose whole
    value is the expression."""


_ANCHOR = re.compile(r"&[^\s\[\]{},&>]")
_ALIAS = re.compile(r"\*[^\s\[\]{},*]")


def _may_share_scalars(text: str) -> bool:
    """Whether the text may hold an anchor and an alias (each where a node can start). An
    aliased scalar is the anchored node, placed where the anchor is written: a subtree whose
    own text does not name `secrets` may still hold one that reads them
    (``Document.aliased`` tracks only collections), so such a file is walked whole."""
    return _starts_node(_ANCHOR, text) and _starts_node(_ALIAS, text)


def _starts_node(pattern: re.Pattern[str], text: str) -> bool:
    """Whether ``pattern`` (led by a literal character, so searched fast) occurs at the
    start of the text or after a space or a flow collection's `[`, `,` or `{`."""
    for found in pattern.finditer(text):
        at = found.start()
        if at == 0 or text[at - 1] in " \t\r\n[,{":
            return True
    return False


def _bare_conditions(job: Job) -> set[int]:
    """The `if:` scalars of the job and its steps, which are expressions without `${{ }}`."""
    conditions = [job.fields.scalar("if"), *(step.fields.scalar("if") for step in job.steps)]
    return {id(node) for node in conditions if node is not None}


def _secret_reads(
    root: Node, route: str, bare_conditions: set[int], keep: Callable[[Node], bool] | None
) -> Iterator[SecretRead]:
    for where, scalar in iter_scalars(root, route, keep):
        text = scalar.value
        if "${{" in text:
            for embedded in find_expressions(text):
                paths = _secret_paths(embedded.source)
                if paths:
                    yield SecretRead(scalar, where, paths, embedded)
        elif id(scalar) in bare_conditions:
            paths = _secret_paths(text)
            if paths:
                yield SecretRead(scalar, where, paths, None)


def _secret_paths(source: str) -> tuple[ContextPath, ...]:
    """The reads of the `secrets` context in an expression source, when one of them reads a
    stored secret (not only `GITHUB_TOKEN`); else none."""
    if "secrets" not in source.lower():
        return ()  # it cannot read the context without naming it
    try:
        expression = parse_expression(source)
    except ExpressionError:
        return ()
    paths = tuple(path for path in context_paths(expression) if path.root == "secrets")
    stored = any(len(path.parts) == 1 or path.parts[1] != "github_token" for path in paths)
    return paths if stored else ()


def facts(model: Workflow | Action) -> Facts:
    """The facts of ``model``, derived once however many rules ask."""
    return model.analysis(Facts)
