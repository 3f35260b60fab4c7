"""What several rules read of one workflow or action, derived once per file and kept on it.

``facts(model)`` is the :class:`Facts` of a workflow or action, cached on the model: each
fact is derived the first time a rule asks for it, and every later rule looks it up instead
of walking the tree again.

- ``script(step)``: a `run:` step's :class:`Script`, whose logical lines and simple commands
  are cut once, and only when a rule asks (most rules first ask whether the script can hold
  a word they look for, which costs a substring search);
- ``privileged``: the privileged events of a workflow;
- ``secret_reads``: every expression that reads a stored secret, by the scalar it is in.

The release rules keep theirs (publishing steps, release jobs) on the same model through
``Workflow.analysis`` (rules/release.py), built on these scripts.

Facts hold no reference to their model: the model holds them, and models must stay free of
reference cycles, which only the (mostly idle) cycle collector would free.
"""

from __future__ import annotations

from bastion.model.expressions import (
    Embedded,
    ExpressionError,
    context_paths,
    find_expressions,
    parse_expression,
)
from bastion.model.guards import privileged_events
from bastion.model.shell import ScriptLine, commands, script_lines
from bastion.model.walk import iter_scalars, mentioning
from bastion.model.workflow import Action, Step, Workflow
from bastion.source.yaml import ScalarNode

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
        self.privileged: list[str] = privileged_events(model) if isinstance(model, Workflow) else []
        """The privileged events of the workflow (none for an action), as written."""
        self._scripts: dict[int, Script | None] = {}
        self._secret_reads: dict[int, list[Embedded]] | None = None

    def script(self, step: Step) -> Script | None:
        """The script of ``step``, None when it has no `run:` (or not a text)."""
        key = id(step)
        if key not in self._scripts:
            run = step.run
            self._scripts[key] = Script(step, run) if run is not None else None
        return self._scripts[key]

    def secret_reads(self, scalar: ScalarNode) -> list[Embedded]:
        """The ``${{ }}`` expressions of ``scalar`` that read a stored secret (other than
        `GITHUB_TOKEN`), found for the whole file on first use."""
        if self._secret_reads is None:
            self._secret_reads = self._find_secret_reads()
        return self._secret_reads.get(id(scalar), [])

    def _find_secret_reads(self) -> dict[int, list[Embedded]]:
        document = self._document
        found: dict[int, list[Embedded]] = {}
        if not document.may_contain(document.root, "secrets"):
            return found
        for _, scalar in iter_scalars(document.root, keep=mentioning(document, "secrets")):
            if "${{" not in scalar.value or id(scalar) in found:
                continue
            reads = [e for e in find_expressions(scalar.value) if reads_secret(e.source)]
            if reads:
                found[id(scalar)] = reads
        return found


def reads_secret(source: str) -> bool:
    """Whether an expression source reads a stored secret (other than `GITHUB_TOKEN`)."""
    if "secrets" not in source.lower():
        return False  # it cannot read the context without naming it
    try:
        expression = parse_expression(source)
    except ExpressionError:
        return False
    return any(
        path.root == "secrets" and (len(path.parts) == 1 or path.parts[1] != "github_token")
        for path in context_paths(expression)
    )


def facts(model: Workflow | Action) -> Facts:
    """The facts of ``model``, derived once however many rules ask."""
    return model.analysis(Facts)
