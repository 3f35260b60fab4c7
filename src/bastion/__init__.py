"""bastion: audit, fix and enforce a supply-chain security playbook for GitHub projects."""

from __future__ import annotations

__version__ = "0.1.0"
