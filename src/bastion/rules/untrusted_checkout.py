from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bastion.findings import Confidence, Severity
from bastion.model.expressions import (
    Embedded,
    ExpressionError,
    find_expressions,
    parse_expression,
)
from bastion.model.walk import iter_scalars
from bastion.model.workflow import Job, Step, Workflow
from bastion.rules.base import Hit, Rule, locate
from bastion.rules.taint import (
    PR_CODE_OUTPUTS,
    Flow,
    Scope,
    env_entry,
    env_levels,
    known_outputs,
    mask_expressions,
    names_pr_code,
    names_pr_head_repository,
    names_pr_number,
    pr_ref_literal,
    privileged_events,
    string_literals,
    value_flows,
)
from bastion.source.yaml import ScalarNode

MAX_DEPTH = 6
"""How many hops (env variable, step output, job output) a value is followed through."""

_GIT_SUBCOMMANDS = frozenset({"fetch", "checkout", "pull", "switch", "clone"})
_GIT_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_SEPARATOR = re.compile(r"[\n;|&]+")
_SHELL_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_PR_LOOKUPS = (
    "head.sha", "head.ref", "head_sha", "head_ref", "headrefname", "headrefoid",
    "refs/pull/", "pulls.get", "gh pr view", "/pulls/",
)  # fmt: skip
"""Text in a script that suggests it looks up the head of a pull request."""


REF, REPOSITORY, EITHER = "ref", "repository", "either"
"""What a verdict's value names: a ref of the pull request, its head repository, or (for
values computed where we cannot see) either."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a value names pull request code, and how sure we are."""

    confidence: Confidence
    why: str
    names: str = REF


def _best(verdicts: list[Verdict | None], *names: str) -> Verdict | None:
    """The most certain verdict (only those naming one of ``names``, if given)."""
    found = [v for v in verdicts if v is not None and (not names or v.names in names)]
    return max(found, key=lambda v: v.confidence) if found else None


class _Resolver:
    """Decides whether text in a workflow names the code of a pull request."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    def verdicts(self, text: str, scope: Scope, depth: int = 0) -> list[Verdict | None]:
        """A ``ref:``-like value: literal pull request refs, and each embedded expression."""
        embedded = find_expressions(text)
        verdicts = [v for e in embedded for v in self.expression(e, scope, depth)]
        if pr_ref_literal(mask_expressions(text, embedded)):
            verdicts.append(Verdict(Confidence.HIGH, "a `refs/pull/` ref"))
        return verdicts

    def text(self, text: str, scope: Scope, depth: int = 0) -> Verdict | None:
        return _best(self.verdicts(text, scope, depth))

    def expression(self, embedded: Embedded, scope: Scope, depth: int) -> list[Verdict | None]:
        try:
            expr = parse_expression(embedded.source)
        except ExpressionError:
            return []
        verdicts = [self.flow(flow, scope, depth) for flow in value_flows(expr)]
        if any(pr_ref_literal(text) for text in string_literals(expr)):
            verdicts.append(Verdict(Confidence.MEDIUM, "a `refs/pull/` ref built by an expression"))
        return verdicts

    def flow(self, flow: Flow, scope: Scope, depth: int) -> Verdict | None:
        if depth > MAX_DEPTH:
            return None
        path = flow.path
        parts, dotted = path.parts, path.dotted()
        if names_pr_code(path):
            names = REPOSITORY if names_pr_head_repository(path) else REF
            if flow.direct:
                return Verdict(Confidence.HIGH, f"`{dotted}`", names)
            return Verdict(Confidence.MEDIUM, f"an expression that can be `{dotted}`", names)
        if parts[0] == "env" and len(parts) >= 2:
            return self.env(parts[1], scope, depth + 1)
        if parts[0] == "steps" and len(parts) >= 4 and parts[2] == "outputs":
            return self.step_output(parts[1], parts[3], scope, depth + 1)
        if parts[0] == "needs" and len(parts) >= 4 and parts[2] == "outputs":
            return self.job_output(parts[1], parts[3], depth + 1)
        if parts[0] == "inputs" or parts[:3] == ("github", "event", "inputs"):
            return Verdict(Confidence.LOW, f"`{dotted}`, which this rule cannot see into", EITHER)
        return None

    def env(self, name: str, scope: Scope, depth: int, level: int = 0) -> Verdict | None:
        defined = env_entry(name, env_levels(scope, self.workflow), level)
        if defined is not None:
            entry, index = defined
            if not isinstance(entry.value, ScalarNode):
                return None
            found = self._env_value(entry.value.value, scope, depth, index)
            if found is None:
                return None
            why = f"env `{entry.key.value}`, set from {found.why}"
            return Verdict(min(found.confidence, Confidence.MEDIUM), why, found.names)
        for step in reversed(scope.earlier):
            writes = self._writes(step, "GITHUB_ENV", name)
            if writes:
                if self.mentions_pr(step, scope.at(step), depth):
                    why = f"env `{name.upper()}`, written by a step that reads pull request data"
                    return Verdict(Confidence.MEDIUM, why, EITHER)
                return Verdict(Confidence.LOW, f"env `{name.upper()}`, written by a step", EITHER)
        return Verdict(Confidence.LOW, f"env `{name.upper()}`, set outside this workflow", EITHER)

    def _env_value(self, text: str, scope: Scope, depth: int, level: int) -> Verdict | None:
        """An env value at ``level``: its own env reads look further out."""
        verdicts: list[Verdict | None] = []
        for embedded in find_expressions(text):
            try:
                expr = parse_expression(embedded.source)
            except ExpressionError:
                continue
            for flow in value_flows(expr):
                parts = flow.path.parts
                if parts[0] == "env" and len(parts) >= 2:
                    verdicts.append(self.env(parts[1], scope, depth + 1, level + 1))
                else:
                    verdicts.append(self.flow(flow, scope, depth))
        if pr_ref_literal(mask_expressions(text)):
            verdicts.append(Verdict(Confidence.HIGH, "a `refs/pull/` ref"))
        return _best(verdicts)

    def step_output(self, step_id: str, output: str, scope: Scope, depth: int) -> Verdict | None:
        for step in reversed(scope.earlier):
            if (step.step_id or "").lower() != step_id:
                continue
            label = f"output `{output}` of step `{step.step_id}`"
            known = known_outputs(PR_CODE_OUTPUTS, step.uses)
            if known is not None and known.covers(output):
                return Verdict(Confidence.MEDIUM, f"{label} ({known.holds})")
            if self.mentions_pr(step, scope.at(step), depth):
                why = f"{label}, which reads pull request data"
                return Verdict(Confidence.MEDIUM, why, EITHER)
            return Verdict(Confidence.LOW, label, EITHER)
        return None

    def job_output(self, job_id: str, output: str, depth: int) -> Verdict | None:
        job = next((j for j in self.workflow.jobs if j.job_id.lower() == job_id), None)
        outputs = job.fields.mapping("outputs") if job else None
        if job is None or outputs is None:
            return None
        entry = next((e for e in outputs if e.key.value.lower() == output), None)
        if entry is None or not isinstance(entry.value, ScalarNode):
            return None
        label = f"output `{entry.key.value}` of job `{job.job_id}`"
        found = self.text(entry.value.value, Scope(job, job.steps, len(job.steps)), depth)
        if found is None:
            return Verdict(Confidence.LOW, label, EITHER)
        why = f"{label}, from {found.why}"
        return Verdict(min(found.confidence, Confidence.MEDIUM), why, found.names)

    def mentions_pr(self, step: Step, scope: Scope, depth: int) -> bool:
        """Whether a step that computes a value looks up the head of a pull request."""
        for _, scalar in iter_scalars(step.node):
            text = scalar.value
            for embedded in find_expressions(text):
                try:
                    expr = parse_expression(embedded.source)
                except ExpressionError:
                    continue
                if any(names_pr_code(f.path) or names_pr_number(f.path) for f in value_flows(expr)):
                    return True
            literal = mask_expressions(text).lower()
            if any(marker in literal for marker in _PR_LOOKUPS):
                return True
        return False

    @staticmethod
    def _writes(step: Step, target: str, name: str) -> bool:
        """Whether ``step`` writes ``name=`` to ``$target`` (a variable or an output)."""
        script = step.run.value if step.run is not None else ""
        for line in mask_expressions(script).splitlines():
            if target in line and re.search(rf"\b{re.escape(name)}(=|<<)", line, re.IGNORECASE):
                return True
        return False


# --- Commands in run scripts -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    text: str
    start: int
    """Offset of the command in the script."""
    masked: str
    """The text with ``${{ }}`` masked and line continuations joined."""


def _commands(script: str) -> Iterator[Command]:
    """Each simple command of ``script``, split at newlines, ``;``, ``|`` and ``&``."""
    masked = mask_expressions(script).replace("\\\r\n", "   ").replace("\\\n", "  ")
    position = 0
    for separator in [*_SEPARATOR.finditer(masked), None]:
        end = separator.start() if separator else len(masked)
        piece = masked[position:end]
        stripped = piece.strip()
        if stripped:
            start = position + len(piece) - len(piece.lstrip())
            yield Command(script[start : start + len(stripped)], start, stripped)
        position = separator.end() if separator else end


def _fetches_code(words: list[str]) -> str | None:
    """The git (or gh) subcommand if ``words`` fetch or check out code, else None."""
    if words[:3] == ["gh", "pr", "checkout"]:
        return "gh pr checkout"
    for index, word in enumerate(words):
        if word == "git" or word.endswith("/git"):
            rest = words[index + 1 :]
            skip = False
            for part in rest:
                if skip:
                    skip = False
                elif part in _GIT_OPTIONS_WITH_VALUE:
                    skip = True
                elif not part.startswith("-"):
                    return f"git {part}" if part in _GIT_SUBCOMMANDS else None
            return None
    return None


class UntrustedCheckout(Rule):
    """Flags privileged workflows that check out or fetch the code of a pull request.

    A workflow triggered by `pull_request_target`, `workflow_run`, `issue_comment`,
    `issues`, `pull_request_review`, `pull_request_review_comment`, `discussion` or
    `discussion_comment` runs with the base repository's write token and secrets (an
    unprivileged trigger beside them changes nothing: the privileged runs still happen).
    Flagged, in such a workflow:

    - `actions/checkout` whose `ref:` is the head or merge commit of a pull request
      (`github.event.pull_request.head.sha`/`.ref`, `github.head_ref`, `merge_commit_sha`,
      `github.event.workflow_run.head_sha`/`head_branch`, or `refs/pull/<n>/head|merge`), or
      whose `repository:` is the pull request's head repository: high confidence;
    - a `run:` script that `git fetch`es, checks out, pulls or clones such a ref or
      repository, or runs `gh pr checkout`: high confidence;
    - a `ref:` computed indirectly: an expression that mixes pull request data
      (`format(...)`, `a || b`), an `env:` variable or a step or job output set from pull
      request data: medium confidence; a step output, env variable or input whose origin
      cannot be seen: low confidence.

    A checkout without `ref:` takes the base commit, and a literal ref such as `main` is
    trusted; neither is flagged. Actions have no triggers and are not checked.

    ## Why it matters
    This is the "pwn request": once the pull request's files are on disk, any build
    script, test, package manifest or local action from them runs with the privileged
    token and secrets, so anyone who can open a pull request can take the repository over.
    The playbook (CI/CD control C1) bans these triggers outright for this reason.

    ## Example
    ```yaml
    on: pull_request_target
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@<sha>
            with:
              ref: ${{ github.event.pull_request.head.sha }}   # flagged
          - run: npm test
    ```

    ## How to fix
    Build and test pull requests in a `pull_request` workflow, which runs fork code with
    a read-only token and no secrets. If a privileged step must follow (a comment, a
    label), let the `pull_request` workflow upload its results as an artifact and have
    a separate workflow (or better, a GitHub App) act on them without checking out or
    running any code from the pull request.
    """

    id = "untrusted-checkout"
    summary = "a privileged workflow checks out pull request code"
    severity = Severity.HIGH
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        events = privileged_events(workflow)
        if not events:
            return
        resolver = _Resolver(workflow)
        trigger = ", ".join(f"`{event}`" for event in events)
        for job in workflow.jobs:
            for position, step in enumerate(job.steps):
                scope = Scope(job, job.steps, position)
                if step.uses is not None and step.uses.is_action("actions/checkout"):
                    yield from self._checkout(resolver, job, step, scope, trigger=trigger)
                elif step.run is not None:
                    yield from self._script(resolver, job, step, scope, trigger=trigger)

    def _checkout(
        self, resolver: _Resolver, job: Job, step: Step, scope: Scope, *, trigger: str
    ) -> Iterator[Hit]:
        found: list[tuple[str, ScalarNode, Verdict]] = []
        for name in ("ref", "repository"):
            value = step.input(name)
            if value is None:
                continue
            wanted = (REPOSITORY, EITHER) if name == "repository" else (REF, EITHER)
            verdict = _best(resolver.verdicts(value.value, scope), *wanted)
            if verdict is not None:
                found.append((name, value, verdict))
        if not found:
            return
        name, node, verdict = max(found, key=lambda item: item[2].confidence)
        yield Hit(
            f"job `{job.job_id}` checks out pull request code (`{name}:` is {verdict.why}) "
            f"in a workflow run by {trigger}, with the base repository's token and secrets; "
            "anything that runs from that checkout can use them. Test pull requests in a "
            "`pull_request` workflow instead",
            node,
            f"{step.route}/with/{name}",
            confidence=verdict.confidence,
        )

    def _script(
        self, resolver: _Resolver, job: Job, step: Step, scope: Scope, *, trigger: str
    ) -> Iterator[Hit]:
        run = step.run
        assert run is not None
        script = run.value
        embedded = find_expressions(script)
        for command in _commands(script):
            action = _fetches_code(command.masked.split())
            if action is None:
                continue
            verdict = self._command_verdict(resolver, command, action, embedded, scope)
            if verdict is None:
                continue
            line = command.text.splitlines()[0]
            occurrence = script.count(line, 0, command.start)
            yield Hit(
                f"job `{job.job_id}` runs `{action}` on pull request code ({verdict.why}) in a "
                f"workflow run by {trigger}, with the base repository's token and secrets; "
                "anything that runs from that code can use them. Test pull requests in a "
                "`pull_request` workflow instead",
                run,
                f"{step.route}/run",
                confidence=verdict.confidence,
                span=locate(resolver.workflow.lines, run, line, occurrence),
            )

    @staticmethod
    def _command_verdict(
        resolver: _Resolver,
        command: Command,
        action: str,
        embedded: list[Embedded],
        scope: Scope,
    ) -> Verdict | None:
        if action == "gh pr checkout":
            return Verdict(Confidence.HIGH, "`gh pr checkout`")
        end = command.start + len(command.text)
        verdicts: list[Verdict | None] = [
            v
            for e in embedded
            if command.start <= e.start < end
            for v in resolver.expression(e, scope, 0)
        ]
        masked = command.masked
        if action != "git clone" and pr_ref_literal(masked):
            verdicts.append(Verdict(Confidence.HIGH, "a `pull/<n>/head` ref"))
        for match in _SHELL_VARIABLE.finditer(masked):
            defined = env_entry(match.group(1), env_levels(scope, resolver.workflow))
            if defined is not None and isinstance(defined[0].value, ScalarNode):
                found = resolver.text(defined[0].value.value, scope)
                if found is not None and found.confidence > Confidence.LOW:
                    why = f"`${match.group(1)}`, set from {found.why}"
                    verdicts.append(Verdict(Confidence.MEDIUM, why, found.names))
        wanted = (REPOSITORY, EITHER) if action == "git clone" else (REF, REPOSITORY, EITHER)
        verdict = _best(verdicts, *wanted)
        if verdict is None or verdict.confidence == Confidence.LOW:
            return None  # an opaque value in a script is not worth a finding
        return verdict
