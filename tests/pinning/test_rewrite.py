"""Offline: finding the uses: sites, editing them byte-exactly, and choosing versions."""

from __future__ import annotations

import pytest

from bastion.github.git import RefListing
from bastion.inputs import Kind
from bastion.pinning.rewrite import apply_edits, pin_edits, read_sites
from bastion.pinning.versions import choose_update, most_specific_tag, parse_version

SHA = "a" * 40


def pin_all(text: str, version: str = "v1.2.3", kind: Kind | None = Kind.WORKFLOW) -> str:
    parsed = read_sites(text, kind)
    edits = [edit for site in parsed.sites for edit in pin_edits(site, SHA, version)]
    return apply_edits(text, edits)


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        ("uses: a/b@v1", f"uses: a/b@{SHA} # v1.2.3"),
        ('uses: "a/b@v1"', f'uses: "a/b@{SHA}" # v1.2.3'),
        ("uses: 'a/b@v1'  ", f"uses: 'a/b@{SHA}' # v1.2.3  "),
        ("uses: a/b@v1 # v1", f"uses: a/b@{SHA} # v1.2.3"),
        ("uses: a/b@v1 #v1.0", f"uses: a/b@{SHA} #v1.2.3"),
        ("uses: a/b@v1 # tag=v1.0.0 and more", f"uses: a/b@{SHA} # tag=v1.2.3 and more"),
        ("uses: a/b@v1 # why we need it", f"uses: a/b@{SHA} # v1.2.3 # why we need it"),
        ("uses: a/b@v1 # 2 retries", f"uses: a/b@{SHA} # v1.2.3 # 2 retries"),
        ("uses: a/b/sub/dir@main", f"uses: a/b/sub/dir@{SHA} # v1.2.3"),
    ],
)
def test_step_uses_is_rewritten_in_place(line: str, pinned: str) -> None:
    head = "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
    text = f"{head}      - {line}\n        with: {{}}\n"
    assert pin_all(text) == text.replace(line, pinned)


def test_values_that_cannot_be_rewritten_in_place_are_left_alone() -> None:
    text = (
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        '      - uses: "a/b@\\x761"\n'
        "      - uses: >-\n          a/b@v1\n"
        "      - uses: ${{ matrix.action }}\n"
    )
    parsed = read_sites(text, Kind.WORKFLOW)
    assert [site.editable for site in parsed.sites] == [
        "it is written with escapes or over several lines",
        "it is written with escapes or over several lines",
    ]
    assert pin_all(text) == text


def test_aliased_uses_is_edited_once() -> None:
    text = (
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - &s {uses: a/b@v1}\n      - *s\n"
    )
    assert pin_all(text) == text.replace("a/b@v1}", f"a/b@{SHA}}}")


def test_already_pinned_and_commented_needs_no_edit() -> None:
    text = f"runs:\n  using: composite\n  steps:\n    - uses: a/b@{SHA} # v1.2.3\n"
    assert pin_all(text, kind=None) == text


def test_versions() -> None:
    assert parse_version("v4.2.2") is not None
    assert parse_version("4.2") is not None
    assert parse_version("release-4") is None
    listing = RefListing(
        {"main": "c"},
        {"v4": "b", "v4.2": "b", "v4.2.2": "b", "v4.3.0-rc.1": "c", "v4.1.0": "a", "v5.0.0": "d"},
    )
    assert most_specific_tag(listing, "b") == "v4.2.2"
    current = parse_version("v4.1.0")
    assert current is not None
    choice = choose_update(listing, current, released_at={}, cooldown=0, now=0)
    assert choice.update is not None
    assert choice.update.tag == "v4.2.2"
    major = choose_update(listing, current, released_at={}, cooldown=0, now=0, allow_major=True)
    assert major.update is not None
    assert major.update.tag == "v5.0.0"
    aged = choose_update(listing, current, released_at={"v4.2.2": 50.0}, cooldown=100, now=100)
    assert aged.update is None
    assert aged.note == "skipped v4.2.2 (released 0.0 days ago)"
