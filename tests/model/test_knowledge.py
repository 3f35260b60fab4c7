"""The knowledge base of actions: its schema, versions, canonical names, and user entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion import config, knowledge
from bastion.config import Config
from bastion.engine import run
from bastion.errors import UsageError
from bastion.findings import Confidence
from bastion.inputs import Input, Kind
from bastion.model.uses import parse_uses
from bastion.rules.taint import ATTACKER_OUTPUTS, PR_CODE_OUTPUTS

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def _packaged_only() -> Iterator[None]:
    yield
    knowledge.extend({})


def test_every_entry_cites_its_source_and_has_a_canonical_name() -> None:
    entries = knowledge.entries()
    assert len(entries) > 100
    for name, info in entries.items():
        assert info.source, name
        assert name == name.lower() == info.name
        assert parse_uses(f"{name}@v1").name == name


@pytest.mark.parametrize(
    ("text", "name", "path"),
    [
        (f"actions/checkout////@{SHA}", "actions/checkout", ""),
        (f"actions/checkout/.@{SHA}", "actions/checkout", ""),
        (f"actions/cache/save/../save@{SHA}", "actions/cache/save", "save"),
        ("Actions/Cache/Restore/@v4", "actions/cache/restore", "Restore"),
        (
            "o/r/.github/workflows/x.yml@v1",
            "o/r/.github/workflows/x.yml",
            ".github/workflows/x.yml",
        ),
        ("o/r/../../x@v1", "o/r/../../x", "../../x"),
    ],
)
def test_uses_has_one_canonical_name(text: str, name: str, path: str) -> None:
    uses = parse_uses(text)
    assert (uses.name, uses.path) == (name, path)


@pytest.mark.parametrize(
    ("line", "major"),
    [
        ("uses: astral-sh/setup-uv@v10", 10),
        ("uses: astral-sh/setup-uv@v6.8.0", 6),
        (f"uses: astral-sh/setup-uv@{SHA} # v10.0.1", 10),
        (f"uses: astral-sh/setup-uv@{SHA}  #v5", 5),
        (f"uses: astral-sh/setup-uv@{SHA} # pinned", None),
        (f"uses: astral-sh/setup-uv@{SHA}", None),
        ("uses: astral-sh/setup-uv@main", None),
    ],
)
def test_major_version_from_the_ref_or_the_version_comment(line: str, major: int | None) -> None:
    text = f"{line}\nnext: line # v99\n"
    value = line.split(" ", 1)[1].split(" ", 1)[0]
    end = len("uses: ") + len(value)
    uses = parse_uses(value)
    assert knowledge.major_version(uses, text, end) == major


def test_versions_pick_the_entries_of_a_range() -> None:
    info = knowledge.named("astral-sh/setup-uv")
    assert info is not None
    assert info.cache_uses(3) == ()
    assert [use.skipped_on for use in info.cache_uses(9)] == [()]
    assert "tag-push" in info.cache_uses(10)[0].skipped_on
    assert info.cache_uses(None) == info.cache_uses(10)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"a/b": {"nope": 1}}, "unknown key(s) nope"),
        ({"a/b": {"cache": [{"when": "sometimes", "input": "x"}]}}, "`when` must be one of"),
        ({"a/b": {"cache": [{"when": "set"}]}}, "`input` is required"),
        ({"a/b": {"cache": [{"always": True, "versions": "v4+"}]}}, "`versions` must be"),
        ({"a/b": {"permissions": "contents: all"}}, "`permissions` must read"),
        ({"a/b": {"code-inputs": {"run": 1}}}, "code-inputs must map"),
        ({"nobody": {}}, "is not an action name"),
    ],
)
def test_bad_entries_name_the_problem(table: dict[str, object], message: str) -> None:
    with pytest.raises(knowledge.KnowledgeError, match=re.escape(message)):
        knowledge.validate(table, "pyproject.toml")


def test_configuration_extends_the_knowledge_base(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bastion.actions."acme/setup-tool"]\n'
        'source = "our own action: caches ~/.tool unless cache: false"\n'
        'cache = [{ input = "cache", when = "unless-off", off = ["false"] }]\n'
        '[tool.bastion.actions."acme/run"]\n'
        'source = "runs `script` with bash"\n'
        'code-inputs = { script = "shell code" }\n',
        encoding="utf-8",
    )
    workflow = tmp_path / "release.yml"
    workflow.write_text(
        "on:\n  push:\n    tags: ['v*']\npermissions: {}\njobs:\n  release:\n"
        "    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: acme/setup-tool@{SHA}\n"
        f"      - uses: acme/setup-tool@{SHA}\n        with:\n          cache: false\n",
        encoding="utf-8",
    )
    loaded = config.load(tmp_path / "pyproject.toml")
    selected = Config(select=frozenset({"release-cache"}), actions=loaded.actions)
    report = run([Input("release.yml", Kind.WORKFLOW, workflow)], selected, jobs=1)
    assert [(f.rule, f.span.start.line, f.confidence) for f in report.findings] == [
        ("release-cache", 9, Confidence.HIGH)
    ]
    assert "acme/setup-tool" in report.findings[0].message
    assert knowledge.named("acme/run") is not None
    knowledge.extend({})
    assert knowledge.named("acme/run") is None


def test_bad_configuration_entry_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bastion.toml"
    path.write_text('[actions."acme/x"]\ncache = [{ when = "set" }]\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"`input` is required .*docs/knowledge.md"):
        config.load(path)


def test_output_tables_come_from_the_knowledge_base() -> None:
    attacker = {entry.slug: entry for entry in ATTACKER_OUTPUTS}
    assert attacker["tj-actions/changed-files"].unsafe_when == ("safe_output", frozenset({"false"}))
    assert attacker["dorny/paths-filter"].json_when == frozenset({"json"})
    assert {entry.slug for entry in PR_CODE_OUTPUTS} == {
        "tj-actions/branch-names",
        "xt0rted/pull-request-comment-branch",
    }
