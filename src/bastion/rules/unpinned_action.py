from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class UnpinnedAction(Rule):
    """Placeholder: being written."""

    id = "unpinned-action"
    summary = "an action or reusable workflow not pinned to a full commit SHA"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
