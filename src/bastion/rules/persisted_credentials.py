from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class PersistedCredentials(Rule):
    """Placeholder: being written."""

    id = "persisted-credentials"
    summary = "actions/checkout leaves the token in .git/config"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
