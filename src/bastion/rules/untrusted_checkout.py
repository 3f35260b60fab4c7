from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class UntrustedCheckout(Rule):
    """Placeholder: being written."""

    id = "untrusted-checkout"
    summary = "a privileged workflow checks out pull request code"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
