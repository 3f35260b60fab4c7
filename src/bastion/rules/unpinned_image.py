from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class UnpinnedImage(Rule):
    """Placeholder: being written."""

    id = "unpinned-image"
    summary = "a container image not pinned to a digest"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
