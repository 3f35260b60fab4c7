"""The writer's layout and GitHub's choice of ref for a commit pinned by SHA."""

from __future__ import annotations

from bastion.github.git import RefListing
from bastion.graph.lockfile import preferred_ref
from bastion.model.lockfile import Locked, build_lockfile, dump
from bastion.source.yaml import parse

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_dump_quotes_and_sorts_like_githubs_writer() -> None:
    text = dump(
        {".github/workflows/b.yml": ["z/z@v1", "a/a@it's"], ".github/workflows/a.yml": []},
        {
            "z/z@v1": Locked("v1", f"sha1-{SHA}", 3, 4, ("a/a@it's",)),
            "a/a@it's": Locked("it's", f"sha1-{SHA}", 1, 2),
        },
    )
    body = text.split("\n", 3)[3]
    assert body == (
        "version: 'v0.0.2'\n"
        "workflows:\n"
        "    '.github/workflows/a.yml': []\n"
        "    '.github/workflows/b.yml':\n"
        "        - 'a/a@it''s'\n"
        "        - 'z/z@v1'\n"
        "dependencies:\n"
        "    'a/a@it''s':\n"
        "        ref: 'it''s'\n"
        f"        commit: 'sha1-{SHA}'\n"
        "        owner_id: 1\n"
        "        repo_id: 2\n"
        "    'z/z@v1':\n"
        "        ref: 'v1'\n"
        f"        commit: 'sha1-{SHA}'\n"
        "        owner_id: 3\n"
        "        repo_id: 4\n"
        "        uses:\n"
        "            - 'a/a@it''s'\n"
    )
    lock = build_lockfile("actions.lock", parse(text))
    assert lock.problems == []
    assert lock.dependencies["a/a@it's"].ref == "it's"


def test_the_ref_recorded_for_a_sha_pin() -> None:
    def listing(*tags: str) -> RefListing:
        return RefListing({"main": "f" * 40}, dict.fromkeys(tags, SHA), "main")

    assert preferred_ref(listing("v5", "v4.3.1", "4.3.1", "v4.3.2-rc.1"), SHA, "") == "v4.3.1"
    assert preferred_ref(listing("v4", "v4.2"), SHA, "") == "v4.2"
    assert preferred_ref(listing("latest", "stable"), SHA, "") == "latest"
    assert preferred_ref(listing(), SHA, "release/v1") == "release/v1"
    assert preferred_ref(RefListing({"main": SHA}, {}, "main"), SHA, "") == "main"
