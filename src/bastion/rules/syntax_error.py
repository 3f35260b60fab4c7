from __future__ import annotations

from bastion.findings import Area, Confidence, Severity
from bastion.rules.base import Rule


class SyntaxError_(Rule):
    """Flags files that bastion, like GitHub, cannot read as what they are meant to be.

    This covers text that is not valid YAML (or JSON5, for Renovate), is not UTF-8, is
    empty, binary or too large, uses duplicate keys or aliases that expand without bound,
    holds a number of more than 1,000 digits or a `${{` that GitHub refuses (never closed
    by `}}`, or not a valid expression: reported at the `${{` or at the error) or an `if:`
    that is not a valid expression, and structure that is not a valid workflow or action (a
    step with neither `uses` nor `run`, an unknown event, a job with no `runs-on`, an input
    type GitHub does not know, and so on) or Dependabot, Renovate or pre-commit configuration
    (`updates` that is not a list, an unknown top-level key, a pre-commit repository without
    `rev`).

    ## Why it matters
    GitHub refuses such a file, so the workflow silently never runs, and no other rule can
    audit it: a file bastion cannot read is a file nobody has checked. Every other file of
    the run is still checked.

    ## Example
    ```yaml
    on:
      workflow_dispatch:
        inputs:
          hours:
            type: int      # flagged: GitHub knows string, boolean, number, choice, environment
    ```

    ## How to fix
    Correct the file at the position given. For duplicate keys, keep one; for a "billion
    laughs" structure, expand the anchors by hand or remove them.
    """

    id = "syntax-error"
    summary = "the file is not a readable workflow, action or updater configuration"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    area = Area.INPUT
