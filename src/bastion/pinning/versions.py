"""Version tags: parsing, the most specific tag of a commit, and choosing an update."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bastion.github.git import RefListing

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z][0-9A-Za-z.-]*))?")


@dataclass(frozen=True, slots=True)
class Version:
    name: str
    numbers: tuple[int, ...]
    prerelease: str = ""

    @property
    def major(self) -> int:
        return self.numbers[0]

    @property
    def padded(self) -> tuple[int, int, int]:
        first, second, third = (*self.numbers, 0, 0)[:3]
        return (first, second, third)

    @property
    def rank(self) -> tuple[tuple[int, int, int], bool, int]:
        """Newest first: higher numbers, then a release over a pre-release, then specificity."""
        return (self.padded, not self.prerelease, len(self.numbers))


def parse_version(tag: str) -> Version | None:
    match = _VERSION.fullmatch(tag)
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.groups()[:3] if part is not None)
    return Version(tag, numbers, match.group(4) or "")


def most_specific_tag(listing: RefListing, commit: str) -> str | None:
    """The version tag that names ``commit`` most precisely (``v4.2.2`` over ``v4``)."""
    versions = [v for v in map(parse_version, listing.tags_at(commit)) if v is not None]
    if not versions:
        return None
    return max(versions, key=lambda v: (not v.prerelease, len(v.numbers), v.padded)).name


@dataclass(frozen=True, slots=True)
class Update:
    tag: str
    commit: str


@dataclass(frozen=True, slots=True)
class UpdateChoice:
    update: Update | None
    note: str = ""
    """Why nothing newer was chosen, or what was skipped on the way."""


def choose_update(
    listing: RefListing,
    current: Version,
    *,
    released_at: dict[str, float],
    cooldown: float,
    now: float,
    allow_major: bool = False,
    accept: Callable[[Update], str] | None = None,
) -> UpdateChoice:
    """The newest release newer than ``current`` that is at least ``cooldown`` seconds old.

    Pre-releases are never chosen; without ``allow_major`` the major version stays. With a
    cooldown, a tag's age is its GitHub release's publication time (``released_at``), which
    GitHub sets and a committer cannot back-date; tags without a release are skipped.
    ``accept`` may refuse a candidate by returning why (e.g. its commit is on no branch).
    """
    candidates = sorted(
        (v for v in map(parse_version, listing.tags) if v is not None and not v.prerelease),
        key=lambda v: v.rank,
        reverse=True,
    )
    skipped: list[str] = []
    for candidate in candidates:
        if candidate.padded <= current.padded:
            break
        if not allow_major and candidate.major != current.major:
            continue
        commit = listing.tags[candidate.name]
        if len(candidate.numbers) < 3 and most_specific_tag(listing, commit) != candidate.name:
            continue  # a floating tag (v4): its precise sibling is a candidate of its own
        if cooldown > 0:
            published = released_at.get(candidate.name)
            if published is None:
                skipped.append(f"{candidate.name} (no GitHub release)")
                continue
            if now - published < cooldown:
                days = (now - published) / 86400
                skipped.append(f"{candidate.name} (released {days:.1f} days ago)")
                continue
        update = Update(most_specific_tag(listing, commit) or candidate.name, commit)
        refusal = accept(update) if accept is not None else ""
        if refusal:
            skipped.append(f"{candidate.name} ({refusal})")
            continue
        return UpdateChoice(update, _skipped(skipped))
    return UpdateChoice(None, _skipped(skipped))


def _skipped(skipped: list[str]) -> str:
    return f"skipped {', '.join(skipped)}" if skipped else ""
