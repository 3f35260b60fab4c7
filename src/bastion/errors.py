"""Errors that carry their own remedy: the message says what happened and what to do."""

from __future__ import annotations


class BastionError(Exception):
    """Base class; ``str(error)`` is a complete sentence for the user."""


class UsageError(BastionError):
    """The command line or the configuration asks for something impossible (exit code 2)."""
