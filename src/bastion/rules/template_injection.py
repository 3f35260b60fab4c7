from __future__ import annotations

from bastion.findings import Confidence, Severity
from bastion.rules.base import Rule


class TemplateInjection(Rule):
    """Placeholder: being written."""

    id = "template-injection"
    summary = "attacker-controlled expression expanded into code"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
