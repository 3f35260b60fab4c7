from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion.findings import Area, Confidence, Severity
from bastion.rules.base import Hit, Rule

if TYPE_CHECKING:
    from bastion.model.updaters import Dependabot


class UpdaterCodeExecution(Rule):
    """Flags Dependabot entries with `insecure-external-code-execution: allow`.

    ## Why it matters
    Some package managers run code while they resolve dependencies: `setup.py` for pip,
    gemspecs and Gemfiles for Bundler, scripts for Mix. Dependabot refuses to run such code
    unless an entry says `insecure-external-code-execution: allow`; with it, code from the
    manifests and from dependencies runs inside Dependabot's updater, which holds the
    credentials of every private registry the entry uses. A compromised dependency can then
    read those credentials. The playbook (dependency practices D1 and D6) wants updates
    without handing new, unvetted code anything it could steal.

    ## Example
    ```yaml
    updates:
      - package-ecosystem: pip
        directory: /
        insecure-external-code-execution: allow   # flagged
        registries: [internal-index]
    ```

    ## How to fix
    Remove the key (the default is `deny`) and make the manifests declarative (for example
    `pyproject.toml` instead of a `setup.py` that computes its dependencies). If code
    execution is unavoidable, give the entry no private registries, so that nothing secret
    is within reach.
    """

    id = "updater-code-execution"
    summary = "Dependabot allowed to run external code during updates"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.DEPENDENCIES

    def check_dependabot(self, config: Dependabot) -> Iterator[Hit]:
        for update in config.updates:
            switch = update.insecure_code_execution
            if switch is not None and switch.value == "allow":
                yield Hit(
                    f"Dependabot runs code from manifests and dependencies while updating "
                    f"{update.label} (`insecure-external-code-execution: allow`), with the "
                    "credentials of its registries within reach",
                    switch,
                    f"{update.route}/insecure-external-code-execution",
                )
