from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class SecretsInherit(Rule):
    """Placeholder: being written."""

    id = "secrets-inherit"
    summary = "every secret passed to a reusable workflow"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
