"""What a new user reads holds: every link between the documents resolves, every option the
documents give a command exists, and every rule's `bastion explain` page cites its sources."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import pytest
import yaml

from bastion.cli import _parser
from bastion.cli.docs import explain
from bastion.rules import RULES, RULES_BY_ID
from bastion.rules.sources import SOURCES

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "bench").glob("*.md")]
)
LINK = re.compile(r"\]\(([^)\s]+)\)")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    found = set()
    for line in markdown.splitlines():
        heading = re.match(r"#+\s+(.*)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def _broken_links(document: Path) -> list[str]:
    broken = []
    for match in LINK.finditer(document.read_text(encoding="utf-8")):
        target = match.group(1)
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, fragment = target.partition("#")
        destination = (document.parent / path).resolve() if path else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif (
            fragment
            and destination.suffix == ".md"
            and fragment not in _anchors(destination.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no such heading")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_link_between_the_documents_resolves(document: Path) -> None:
    assert _broken_links(document) == []


def test_a_broken_link_and_a_missing_heading_are_caught(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# The heading\n")
    page = tmp_path / "page.md"
    page.write_text("[a](other.md#the-heading) [b](gone.md) [c](other.md#nope) [d](https://x)\n")
    assert _broken_links(page) == ["gone.md: no such file", "other.md#nope: no such heading"]


def _options_by_command() -> dict[str, set[str]]:
    parser = _parser()
    [commands] = [
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return {name: set(sub._option_string_actions) for name, sub in commands.choices.items()}


def test_every_option_the_documents_give_a_command_exists() -> None:
    options = _options_by_command()
    # `bastion CMD ...` up to the end of the code span, a comment or a table cell.
    usage = re.compile(r"\bbastion (" + "|".join(options) + r")\b([^`\n#|]*)")
    unknown, seen = [], 0
    for document in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        lines = document.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            for match in usage.finditer(line):
                seen += 1
                command = match.group(1)
                for flag in FLAG.findall(match.group(2)):
                    if flag not in options[command]:
                        where = f"{document.relative_to(REPO)}:{number}"
                        unknown.append(f"{where}: bastion {command} {flag}")
    assert unknown == []
    assert seen > 100  # the pattern does find the documented commands


def test_every_rule_cites_its_sources() -> None:
    assert set(SOURCES) == set(RULES_BY_ID)
    for rule_id, sources in SOURCES.items():
        assert sources, rule_id
        for title, address in sources:
            assert title, rule_id
            if address.startswith("https://"):
                continue
            assert address == "" or (REPO / address).exists(), (rule_id, address)


@pytest.mark.parametrize("rule", [rule.id for rule in RULES])
def test_explain_ends_with_the_sources(rule: str) -> None:
    out = io.StringIO()
    assert explain(rule, out) == 0
    page = out.getvalue()
    sources = page.split("\n## Sources\n", 1)[1].splitlines()
    expected = [
        f"- {title}: {address}" if address else f"- {title}" for title, address in SOURCES[rule]
    ]
    assert sources == expected


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".github/workflows/actions.lock",
        "tools/setup/action.yaml",
        ".github/dependabot.yml",
        "renovate.json5",
        ".pre-commit-config.yaml",
        ".github/bastion.toml",
    ],
)
def test_the_pre_commit_hook_runs_when_a_file_bastion_checks_changes(path: str) -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert re.search(hook["files"], path), path
    assert not re.search(hook["files"], "src/app.py")


def test_the_readme_names_every_rule() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert [rule.id for rule in RULES if f"`{rule.id}`" not in readme] == []
