from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class SecretOutsideEnvironment(Rule):
    """Placeholder: being written."""

    id = "secret-outside-environment"
    summary = "a job reads secrets without a deployment environment"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
