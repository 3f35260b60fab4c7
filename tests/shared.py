"""Where the shared reference material and corpus live, beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus" / "current"
SARIF_SCHEMA = SHARED / "reference" / "sarif-schema-2.1.0.json"


def require(path: Path) -> Path:
    """Skip the test, saying why, when the shared material is not checked out beside us."""
    if not path.exists():
        pytest.skip(f"{path} is not present (the shared folder sits beside the repository in CI)")
    return path
