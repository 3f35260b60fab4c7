"""docs/fixes.md shows the permissions table the fix uses: the two must not drift apart."""

from __future__ import annotations

from pathlib import Path

from bastion.fix.permissions import (
    ACTIONS,
    CONDITIONAL_ACTIONS,
    GH_COMMANDS,
    NEEDS_NOTHING,
    SCRIPT_USES,
    Scopes,
)
from bastion.fix.registry import FIXERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "fixes.md"


def _scopes(scopes: Scopes) -> str:
    return ", ".join(f"`{scope}: {level}`" for scope, level in scopes.items())


def tables() -> str:
    """The permissions table as docs/fixes.md must show it."""
    lines = ["| Action | Permissions |", "|---|---|"]
    lines += [f"| `{slug}` | {_scopes(scopes)} |" for slug, scopes in ACTIONS.items()]
    lines += [f"| `{slug}` | {when} |" for slug, when in CONDITIONAL_ACTIONS.items()]
    lines += ["", "| `gh` command (with the token in `GH_TOKEN`) | Permissions |", "|---|---|"]
    grouped: dict[tuple[str, str], list[str]] = {}
    for command, needed in GH_COMMANDS.items():
        group, verb = command.split()
        grouped.setdefault((group, _scopes(needed)), []).append(verb)
    for (group, shown), verbs in grouped.items():
        lines.append(f"| `gh {group}` {', '.join(f'`{verb}`' for verb in verbs)} | {shown} |")
    lines += [
        "",
        "| In a `run:` script | Permissions | Only with the token | Only kept, never added |",
        "|---|---|---|---|",
    ]
    for use in SCRIPT_USES:
        token = "yes" if use.with_token else "no"
        kept = "yes" if use.kept else "no"
        lines.append(f"| {use.what} | {_scopes(use.scopes)} | {token} | {kept} |")
    nothing = ", ".join(f"`{slug}`" for slug in sorted(NEEDS_NOTHING))
    lines += ["", f"Actions that need no scope: {nothing}."]
    return "\n".join(lines) + "\n"


def test_docs_show_the_permissions_table() -> None:
    assert tables() in DOCS.read_text(encoding="utf-8")


def test_docs_name_every_fixer_and_whether_it_is_safe() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule, fixer in FIXERS.items():
        assert f"| `{rule}` | {'safe' if fixer.safe else 'unsafe'} |" in text
