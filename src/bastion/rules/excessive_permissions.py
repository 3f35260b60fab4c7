from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class ExcessivePermissions(Rule):
    """Placeholder: being written."""

    id = "excessive-permissions"
    summary = "a workflow that does not start from permissions: {}"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
