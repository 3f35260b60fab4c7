from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from bastion.findings import Confidence, Severity
from bastion.model.expressions import (
    Embedded,
    ExpressionError,
    find_expressions,
    mask_expressions,
    parse_expression,
)
from bastion.model.guards import Guards, Reach, Reachability
from bastion.model.shell import Command, command_words, simple_commands
from bastion.model.walk import iter_scalars, locate
from bastion.model.workflow import Job, Step, Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.facts import facts
from bastion.rules.taint import (
    JS_IDENTIFIER,
    PR_CODE_OUTPUTS,
    SHELL_VARIABLE,
    Flow,
    Scope,
    env_entry,
    env_levels,
    names_pr_code,
    names_pr_head_repository,
    names_pr_number,
    pr_ref_literal,
    string_literals,
    value_flows,
)
from bastion.source.yaml import ScalarNode

MAX_DEPTH = 6
"""How many hops (env variable, step output, job output) a value is followed through."""

_REF_WORDS = ("ref", "sha", "branch", "commit", "checkout", "repo")
"""Words in the name of a reusable workflow's input that suggest it is checked out."""
_GIT_SUBCOMMANDS = frozenset({"fetch", "checkout", "pull", "switch", "clone"})
_GIT_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_HEAD_REF_VARIABLE = r"\$\{?GITHUB_HEAD_REF\b"
"""A pattern string (compiled by `re` on first use, as taint.SHELL_VARIABLE)."""
_HEAD_LOOKUPS = (
    "head.sha", "head.ref", "head_sha", "head_ref", "headrefname", "headrefoid",
    "merge_commit_sha", "refs/pull/",
)  # fmt: skip
"""Text in a script that reads the head of a pull request."""
_PR_LOOKUPS = (
    "head.sha", "head.ref", "head_sha", "head_ref", "headrefname", "headrefoid",
    "refs/pull/", "pulls.get", "gh pr view", "/pulls/",
)  # fmt: skip
"""Text in a script that suggests it looks up a pull request."""
_JS_NOISE = frozenset({"core", "setOutput", "exportVariable", "const", "let", "var", "await"})


REF, REPOSITORY, EITHER = "ref", "repository", "either"
"""What a verdict's value names: a ref of the pull request, its head repository, or (for
values computed where we cannot see) either."""


class Verdict(NamedTuple):
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
        if parts[0] == "inputs" and self.workflow.has_trigger("workflow_call"):
            # Dispatch inputs come from people with write access; a calling workflow may
            # pass the head of a pull request.
            why = f"`{dotted}`, which a calling workflow sets"
            return Verdict(Confidence.LOW, why, EITHER)
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
            if _traced_write(step, "GITHUB_ENV", name) is not None:
                label = f"env `{name.upper()}`"
                return self._computed(
                    step, "GITHUB_ENV", name, scope.at(step), depth=depth, label=label
                )
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
            known = PR_CODE_OUTPUTS.of(step.uses)
            if known is not None and known.covers(output):
                return Verdict(Confidence.MEDIUM, f"{label} ({known.holds})")
            return self._computed(
                step, "GITHUB_OUTPUT", output, scope.at(step), depth=depth, label=label
            )
        return None

    def _computed(
        self, step: Step, target: str, name: str, scope: Scope, *, depth: int, label: str
    ) -> Verdict | None:
        """A value that ``step`` writes to ``$target``: an output or an env variable."""
        traced = _traced_write(step, target, name)
        if traced is not None:
            if not self._names_head(traced, scope, depth):
                return None
            why = f"{label}, computed from the head of a pull request"
            return Verdict(Confidence.MEDIUM, why, EITHER)
        if self.mentions_pr(step, scope, depth):
            why = f"{label}, computed by a step that looks up a pull request"
            return Verdict(Confidence.MEDIUM, why, EITHER)
        return Verdict(Confidence.LOW, label, EITHER)

    def _names_head(self, text: str, scope: Scope, depth: int) -> bool:
        """Whether script text (one computation, traced back) reads a pull request's head."""
        for embedded in find_expressions(text):
            try:
                expr = parse_expression(embedded.source)
            except ExpressionError:
                continue
            if any(names_pr_code(flow.path) for flow in value_flows(expr)):
                return True
        literal = mask_expressions(text)
        if pr_ref_literal(literal) or any(m in literal.lower() for m in _HEAD_LOOKUPS):
            return True
        levels = env_levels(scope, self.workflow)
        for match in re.finditer(SHELL_VARIABLE, literal):
            defined = env_entry(match.group(1), levels)
            if defined is not None and isinstance(defined[0].value, ScalarNode):
                found = self.text(defined[0].value.value, scope, depth + 1)
                if found is not None and found.confidence > Confidence.LOW:
                    return True
        return False

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
            return None
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


def _traced_write(step: Step, target: str, name: str) -> str | None:
    """The lines of ``step``'s script that compute what it writes as ``name`` to ``$target``
    (the write itself, and the assignments of the variables it reads, traced back a few
    times), or None if no single line of it writes ``name``."""
    if step.run is not None:
        lines, shell = step.run.value.splitlines(), True
    elif step.uses is not None and step.uses.is_action("actions/github-script"):
        script = step.input("script")
        if script is None:
            return None
        lines, shell = script.value.splitlines(), False
    else:
        return None
    masked = [mask_expressions(line) for line in lines]
    lowered = name.lower()
    chosen = {
        index for index, line in enumerate(masked) if _writes(line, target, lowered, shell=shell)
    }
    if not chosen:
        return None
    for _ in range(3):
        words = {w for i in chosen for w in _variables(masked[i], shell=shell)}
        more = {
            index
            for index, line in enumerate(masked)
            if index not in chosen and any(_assigns(line, word, shell=shell) for word in words)
        }
        if not more:
            break
        chosen |= more
    return "\n".join(lines[index] for index in sorted(chosen))


def _writes(line: str, target: str, name: str, *, shell: bool) -> bool:
    lowered = line.lower()
    if not shell:
        call = "core.setoutput(" if target == "GITHUB_OUTPUT" else "core.exportvariable("
        return any(f"{call}{quote}{name}{quote}" in lowered.replace(" ", "") for quote in "'\"`")
    if target == "GITHUB_OUTPUT" and f"name={name}::" in lowered:
        return True
    return (
        target.lower() in lowered
        and re.search(rf"(?<![\w-]){re.escape(name)}=", lowered) is not None
    )


def _variables(line: str, *, shell: bool) -> set[str]:
    if shell:
        return {match.group(1) for match in re.finditer(SHELL_VARIABLE, line)}
    return set(re.findall(JS_IDENTIFIER, line)) - _JS_NOISE


def _assigns(line: str, word: str, *, shell: bool) -> bool:
    escaped = re.escape(word)
    if shell:
        pattern = rf"\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?{escaped}="
        return re.match(pattern, line) is not None
    return (
        re.search(rf"\b(?:const|let|var)\b[^=]*\b{escaped}\b[^=]*=", line) is not None
        or re.match(rf"\s*{escaped}\s*=[^=]", line) is not None
    )


# --- Who reaches a step, and what checkout refuses --------------------------------------------

_REFUSING_EVENTS = frozenset({"pull_request_target", "workflow_run"})
"""The events under which actions/checkout refuses a fork's pull request code (v7, and the
`v6` and `v5` tags since July 2026) unless ``allow-unsafe-pr-checkout: true``."""
_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.\d+)?$")
_COMMENT_VERSION = re.compile(r"#\s*(?:pin@|tag=)?(v?\d+(?:\.\d+){0,2})\b")


def checkout_version(step: Step, workflow: Workflow) -> str | None:
    """The version of an actions/checkout step: its ref, or the ``# vX`` comment of a SHA."""
    uses, node = step.uses, step.uses_node
    if uses is None or node is None or uses.ref is None:
        return None
    if not uses.is_sha_pinned:
        return uses.ref
    line = workflow.lines.line_text(node.end_mark.line + 1)
    found = _COMMENT_VERSION.search(line[node.end_mark.column :])
    return found.group(1) if found else None


def refuses_fork_code(version: str | None) -> bool:
    """Whether this checkout version refuses a fork's code under `pull_request_target` and
    `workflow_run`: v7 and later, v6.1 and later, and the moving `v6` and `v5` tags."""
    found = _VERSION.match(version or "")
    if found is None:
        return False
    major, minor = int(found.group(1)), found.group(2)
    if major >= 7:
        return True
    if minor is None:
        return major in (5, 6) and "." not in (version or "")
    return major == 6 and int(minor) >= 1


def _is_true(node: ScalarNode | None) -> bool:
    return node is not None and node.value.strip().lower() == "true"


def _fetches_code(words: list[str]) -> str | None:
    """The git (or gh) subcommand if the command ``words`` fetches or checks out code."""
    if words[:3] == ["gh", "pr", "checkout"]:
        return "gh pr checkout"
    if not words or not (words[0] == "git" or words[0].endswith("/git")):
        return None
    skip = False
    for part in words[1:]:
        if skip:
            skip = False
        elif part in _GIT_OPTIONS_WITH_VALUE:
            skip = True
        elif not part.startswith("-"):
            return f"git {part}" if part in _GIT_SUBCOMMANDS else None
    return None


def _gated(hits: Iterable[Hit], reach: Reachability) -> Iterator[Hit]:
    """``hits`` as they are when an outsider reaches the step; one confidence level lower,
    with the reason, when only a maintainer's action does."""
    for hit in hits:
        if reach.reach is Reach.OUTSIDER:
            yield hit
            continue
        confidence = Confidence(max(Confidence.LOW, (hit.confidence or Confidence.HIGH) - 1))
        message = f"{hit.message}; only a maintainer's action reaches the step ({reach.why})"
        yield Hit(message, hit.node, hit.route, hit.severity, confidence, hit.span)


class UntrustedCheckout(Rule):
    """Flags privileged workflows that check out or fetch the code of a pull request.

    A workflow triggered by `pull_request_target`, `workflow_run`, `issue_comment`,
    `issues`, `discussion` or `discussion_comment` runs with the base repository's write
    token and secrets, even for an outsider (an unprivileged trigger beside them changes
    nothing: the privileged runs still happen). `pull_request_review` and
    `pull_request_review_comment` from a fork get a read-only token and no secrets, like
    `pull_request`, and are not privileged. A `workflow_run` whose upstream workflows (named
    in `workflows:`, found by name in the same `.github/workflows`) can only be started by
    people with write access (`push`, `workflow_dispatch`, `schedule`...) is not privileged
    either. The events and what their runs get are one table (`model/triggers.py`), from
    GitHub's "Events that trigger workflows" and "GITHUB_TOKEN" reference pages.
    Flagged, in such a workflow:

    - `actions/checkout` whose `ref:` is the head or merge commit of a pull request
      (`github.event.pull_request.head.sha`/`.ref`, `github.head_ref`, `merge_commit_sha`,
      `github.event.workflow_run.head_sha`/`head_branch`, or `refs/pull/<n>/head|merge`), or
      whose `repository:` is the pull request's head repository: high confidence;
    - `actions/checkout` with `allow-unsafe-pr-checkout: true`: the input exists only to
      let a fork's code be checked out under `pull_request_target` or `workflow_run`, so it
      is the exploit step itself: high confidence, at the input;
    - a `run:` script that `git fetch`es, checks out, switches to, pulls or clones such a
      ref or repository (also `$GITHUB_HEAD_REF`), or runs `gh pr checkout`: high
      confidence;
    - a `ref:` computed indirectly: an expression that mixes pull request data
      (`format(...)`, `a || b`), or an `env:` variable, step output or job output computed
      from the head of a pull request (a script that reads `head.sha`, `headRefOid`...):
      medium confidence; a step output or env variable whose origin cannot be seen, or an
      input of a workflow that can be called by another: low confidence;
    - a call to a reusable workflow whose ref-like input (`ref`, `sha`, `branch`...) is the
      head of a pull request: medium confidence.

    Who reaches the step is judged for a run an outsider sets off, from the job's and the
    step's `if:`, the jobs the job needs (unless its `if:` uses `always()`, `failure()` or
    `cancelled()`), and earlier `run:` steps that `exit 1` under a test of the event
    (`if [ "${{ github.event.pull_request.head.repo.fork }}" = "true" ]; then exit 1; fi`).
    Not reported, since no outsider's run gets there: `github.event_name` tests that leave
    out the privileged events, `head.repo.full_name == github.repository` (and
    `head.repo.owner.login == github.repository_owner`, `!head.repo.fork`, their
    `workflow_run.head_repository` forms), `github.event.pull_request.merged` (merged code
    is the base repository's own), `github.event.workflow_run.event` of an event no outsider
    starts. Reported one confidence level lower, with the reason: steps only a maintainer's
    action reaches, such as a label (`contains(github.event.pull_request.labels.*.name,
    'safe')`, `github.event.label.name`, the `labeled` action), an author association of
    `OWNER`, `MEMBER` or `COLLABORATOR`, or an actor check (`github.actor == 'x'`).
    Anything the evaluator does not know counts as reachable.

    actions/checkout v7 (and, since July 2026, the `v6` and `v5` tags and v6.1 or later)
    refuses to check out a fork's pull request under `pull_request_target` and
    `workflow_run` unless `allow-unsafe-pr-checkout: true` (actions/checkout pull requests
    2454 and 2500; GitHub's "Securely using pull_request_target" page). A checkout step on
    such a version (its ref, or the `# vX` comment of a SHA pin) in a workflow with no other
    privileged trigger is reported with low confidence: today only pull requests from the
    repository's own branches get through. Exact v5 releases are taken as not refusing,
    since which of them carry the back-port is not documented.

    Not flagged: a checkout without `ref:` (it takes the base commit), a literal ref such as
    `main`, and `workflow_dispatch` inputs (set by people with write access). Actions have
    no triggers and are not checked.

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
        events = facts(workflow).privileged
        if not events:
            return
        resolver = _Resolver(workflow)
        named = [f"`{event}`" for event in events]
        trigger = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        guards = Guards(workflow, events)
        refusing = set(events) <= _REFUSING_EVENTS
        opted_in = bool(set(events) & _REFUSING_EVENTS)  # where the opt-in unblocks anything
        for job in workflow.jobs:
            reach = guards.job(job)
            if reach.reach is Reach.NOBODY:
                continue
            yield from _gated(self._call(resolver, job, trigger=trigger), reach)
            for position, step in enumerate(job.steps):
                scope = Scope(job, job.steps, position)
                if step.uses is not None and step.uses.is_action("actions/checkout"):
                    found = self._checkout(
                        resolver,
                        job,
                        step,
                        scope,
                        trigger=trigger,
                        refusing=refusing,
                        opted_in=opted_in,
                    )
                elif step.run is not None:
                    found = self._script(resolver, job, step, scope, trigger=trigger)
                else:
                    continue
                hits = list(found)
                if not hits:
                    continue
                reach = guards.step(job, step)  # judged only for a step with findings
                if reach.reach is not Reach.NOBODY:
                    yield from _gated(hits, reach)

    def _checkout(
        self,
        resolver: _Resolver,
        job: Job,
        step: Step,
        scope: Scope,
        *,
        trigger: str,
        refusing: bool,
        opted_in: bool,
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
        unsafe = step.input("allow-unsafe-pr-checkout")
        if opted_in and _is_true(unsafe) and unsafe is not None:
            what = ""
            if found:
                name, _, verdict = max(found, key=lambda item: item[2].confidence)
                what = f" (`{name}:` is {verdict.why})"
            yield Hit(
                f"job `{job.job_id}` sets `allow-unsafe-pr-checkout: true`, which tells "
                f"actions/checkout to check out a fork's pull request code{what} in a workflow "
                f"run by {trigger}, with the base repository's token and secrets: this is the "
                "step the attack needs. Test pull requests in a `pull_request` workflow instead",
                unsafe,
                f"{step.route}/with/allow-unsafe-pr-checkout",
                confidence=Confidence.HIGH,
            )
            return
        if not found:
            return
        name, node, verdict = max(found, key=lambda item: item[2].confidence)
        confidence, refused = verdict.confidence, ""
        version = checkout_version(step, resolver.workflow)
        if refusing and refuses_fork_code(version):
            confidence = Confidence.LOW
            refused = (
                f"; actions/checkout {version} refuses a fork's code here unless "
                "`allow-unsafe-pr-checkout: true`, so only pull requests from the repository's "
                "own branches are checked out today"
            )
        yield Hit(
            f"job `{job.job_id}` checks out pull request code (`{name}:` is {verdict.why}) "
            f"in a workflow run by {trigger}, with the base repository's token and secrets; "
            f"anything that runs from that checkout can use them{refused}. Test pull requests "
            "in a `pull_request` workflow instead",
            node,
            f"{step.route}/with/{name}",
            confidence=confidence,
        )

    def _call(self, resolver: _Resolver, job: Job, *, trigger: str) -> Iterator[Hit]:
        """A reusable workflow given the head of a pull request as a ref, to check out."""
        inputs = job.fields.mapping("with")
        if job.uses is None or inputs is None:
            return
        scope = Scope(job, [], 0)
        for entry in inputs:
            key = entry.key.value.lower()
            if not isinstance(entry.value, ScalarNode) or not any(w in key for w in _REF_WORDS):
                continue
            verdict = _best(resolver.verdicts(entry.value.value, scope))
            if verdict is None or verdict.confidence == Confidence.LOW:
                continue
            yield Hit(
                f"job `{job.job_id}` passes pull request code (`{entry.key.value}:` is "
                f"{verdict.why}) to `{job.uses.text}`, which most likely checks it out, in a "
                f"workflow run by {trigger}, with the base repository's token and secrets. "
                "Test pull requests in a `pull_request` workflow instead",
                entry.value,
                f"{job.route}/with/{entry.key.value}",
                confidence=Confidence.MEDIUM,
            )

    def _script(
        self, resolver: _Resolver, job: Job, step: Step, scope: Scope, *, trigger: str
    ) -> Iterator[Hit]:
        run = step.run
        assert run is not None
        script = run.value
        embedded = find_expressions(script)
        for command in simple_commands(script):
            action = _fetches_code(command_words(command.masked))
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
        if action != "git clone" and re.search(_HEAD_REF_VARIABLE, masked):
            verdicts.append(Verdict(Confidence.HIGH, "`$GITHUB_HEAD_REF`"))
        if action != "git clone" and pr_ref_literal(masked):
            verdicts.append(Verdict(Confidence.HIGH, "a `pull/<n>/head` ref"))
        for match in re.finditer(SHELL_VARIABLE, masked):
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
