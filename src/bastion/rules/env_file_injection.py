from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.findings import Confidence, Severity
from bastion.model.guards import Guards, Reach
from bastion.model.shell import line_span, script_lines
from bastion.model.workflow import Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.taint import SHELL_VARIABLE, Scope
from bastion.rules.template_injection import Analysis, Taint

_FILES = {
    "GITHUB_ENV": Severity.HIGH,
    "GITHUB_PATH": Severity.HIGH,
    "GITHUB_OUTPUT": Severity.MEDIUM,
}
# Pattern strings, compiled by `re` when a privileged workflow's script is first read.
_TARGET = r">>?\s*[\"']?\$\{?(GITHUB_ENV|GITHUB_PATH|GITHUB_OUTPUT)\b"
_SEPARATOR = r";|&&|\|\||\||\b(?:then|do|else)\b"
_EFFECT = {
    "GITHUB_ENV": "a line break in it sets any variable for the later steps (`NODE_OPTIONS`, "
    "`LD_PRELOAD`, `BASH_ENV`), which runs the attacker's code with the job's token",
    "GITHUB_PATH": "it puts a folder of the attacker's choosing first on the PATH of the later "
    "steps, whose commands then run the attacker's programs",
    "GITHUB_OUTPUT": "a line break in it sets other outputs of the step, which later steps "
    "and jobs trust",
}


class EnvFileInjection(Rule):
    """Flags attacker-controlled text written to `$GITHUB_ENV`, `$GITHUB_PATH` or
    `$GITHUB_OUTPUT` in a privileged workflow.

    In a workflow an outsider can start with the base repository's token and secrets
    (`pull_request_target`, `workflow_run`, `issue_comment`, `issues`, `discussion`...), a
    `run:` line that appends (`>>`) to one of these files a shell variable that carries an
    attacker-controlled value (an `env:` of the step, job or workflow, set from a pull
    request title, a branch name, a comment..., followed like `template-injection` follows
    it) is flagged at the line: high severity for `$GITHUB_ENV` and `$GITHUB_PATH`, medium
    for `$GITHUB_OUTPUT`, medium confidence (the value is followed through a variable). A
    `${{ }}` written straight into the line is `template-injection`'s, not this rule's; a
    step no outsider's run reaches (its `if:`) is not reported.

    ## Why it matters
    GitHub reads these files line by line after the step ("Workflow commands for GitHub
    Actions: Setting an environment variable, Adding a system path, Setting an output
    parameter"). Text with a line break becomes several entries: `x\\nNODE_OPTIONS=--require
    /tmp/evil.js` in a branch name or title sets a variable that makes every later `node`
    run the attacker's code, with the privileged token and secrets.

    ## Example
    ```yaml
    on: pull_request_target
    jobs:
      label:
        runs-on: ubuntu-latest
        env:
          TITLE: ${{ github.event.pull_request.title }}
        steps:
          - run: echo "TITLE=$TITLE" >> "$GITHUB_ENV"     # flagged
    ```

    ## How to fix
    Do not pass outsider text through these files: read it where it is needed from
    `env:` (`${{ github.event.pull_request.title }}` into the step that uses it). If it
    must go through, write it with a random delimiter
    (`echo "TITLE<<$(uuidgen)"`) after removing line breaks, or validate it against a
    strict pattern first.
    """

    id = "env-file-injection"
    summary = "attacker text written to $GITHUB_ENV, $GITHUB_PATH or $GITHUB_OUTPUT"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        analysis = workflow.analysis(Analysis)
        if not analysis.privileged or workflow.has_trigger("workflow_call"):
            return
        guards = Guards(workflow, analysis.privileged)
        for job in workflow.jobs:
            for position, step in enumerate(job.steps):
                run = step.run
                if run is None or "GITHUB_" not in run.value:
                    continue
                reach = guards.step(job, step)
                if reach.reach is Reach.NOBODY:
                    continue
                scope = Scope(job, job.steps, position)
                for line in script_lines(run.value):
                    found = _written(analysis, scope, line.masked)
                    if found is None or analysis.text(line.original, scope, 0) is not None:
                        continue  # nothing tainted, or a `${{ }}` that template-injection reports
                    target, taint = found
                    if taint.severity < Severity.HIGH:
                        continue  # only a writer's value, or no privileged event delivers it
                    confidence = Confidence.MEDIUM
                    why = ""
                    if reach.reach is Reach.MAINTAINER:
                        confidence = Confidence.LOW
                        why = f"; only a maintainer's action reaches the step ({reach.why})"
                    carries = taint.origin or taint.context
                    yield Hit(
                        f"job `{job.job_id}` writes `{taint.context}`, which carries "
                        f"`{carries}` (controlled by {taint.who}), to `${target}` under "
                        f"`{taint.event}`: {_EFFECT[target]}{why}",
                        run,
                        f"{step.route}/run",
                        severity=_FILES[target],
                        confidence=confidence,
                        span=line_span(workflow.lines, run, run.value, line),
                    )


def _written(analysis: Analysis, scope: Scope, masked: str) -> tuple[str, Taint] | None:
    """The file a line appends to, and the worst attacker taint of the variables it writes."""
    target = re.search(_TARGET, masked)
    if target is None:
        return None
    # Only what `echo`/`printf` writes is the written text (not a command's arguments).
    written = re.split(_SEPARATOR, masked[: target.start()])[-1].strip()
    if written.split(" ", 1)[0] not in ("echo", "printf"):
        return None
    taints = [
        analysis.env(name.lower(), scope, 1, f"${name}")
        for name in re.findall(SHELL_VARIABLE, written)
        if not name.startswith(("GITHUB_", "RUNNER_"))
    ]
    found = [t for t in taints if t is not None]
    if not found:
        return None
    return target.group(1), max(found, key=lambda t: t.rank)
