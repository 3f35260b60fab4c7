"""Serve ``shared/corpus/actions`` from loopback git repositories.

Each commit folder ``OWNER__REPO/COMMIT/`` is written as a parentless commit holding its
files byte for byte (so blob ids equal ``MANIFEST.tsv``'s ``git_blob``); the branches and
tags of ``refs.tsv`` whose commit is here point at it (annotated tags stay annotated). The
rebuilt commits get new ids: :class:`Translation` maps them to and from the real ones, and
:class:`TranslatingResolver` speaks real ids to the graph resolver, so tests (and the bench)
see the real commit ids and the real full-SHA ``uses:`` of the files resolve.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bastion.errors import BastionError
from bastion.github.git import RefListing, Snapshot
from bastion.pinning.resolver import Fetched, Resolver
from tests.pinning.gitserver import RefSpec, import_repository
from tests.pinning.gitserver import Snapshot as Commit
from tests.shared import SHARED

ACTIONS = SHARED / "corpus" / "actions"
_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(slots=True)
class Translation:
    """Real <-> rebuilt object ids (commits and annotated tag objects)."""

    to_built: dict[str, str] = field(default_factory=dict)
    to_real: dict[str, str] = field(default_factory=dict)

    def add(self, real: str, built: str) -> None:
        self.to_built[real] = built
        self.to_real[built] = real

    def built(self, oid: str) -> str:
        return self.to_built.get(oid, oid)

    def real(self, oid: str) -> str:
        return self.to_real.get(oid, oid)


def corpus_repositories() -> list[str]:
    """``owner/repo`` of every repository of the dataset."""
    return sorted(
        entry.name.replace("__", "/", 1)
        for entry in ACTIONS.iterdir()
        if entry.is_dir() and "__" in entry.name
    )


def _default_branches() -> dict[str, str]:
    branches: dict[str, str] = {}
    with (ACTIONS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            for reason in row["refs"].split():
                if reason.startswith("default-branch:"):
                    branches[row["repo"]] = reason.removeprefix("default-branch:")
    return branches


def build_corpus(root: Path, repositories: Iterable[str], translation: Translation) -> None:
    """Write the dataset's ``repositories`` as bare repositories under ``root``."""
    defaults = _default_branches()
    for slug in repositories:
        owner, repo = slug.split("/", 1)
        folder = ACTIONS / f"{owner}__{repo}"
        commits = sorted(p.name for p in folder.iterdir() if p.is_dir() and _SHA.fullmatch(p.name))
        snapshots = [
            Commit(
                commit,
                {
                    path.relative_to(folder / commit).as_posix(): path.read_bytes()
                    for path in sorted((folder / commit).rglob("*"))
                    if path.is_file()
                },
                f"rebuilt from {slug}@{commit}",
            )
            for commit in commits
        ]
        present = set(commits)
        refs: list[RefSpec] = []
        tag_objects: dict[str, str] = {}
        with (folder / "refs.tsv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["peeled_commit"] not in present:
                    continue
                tag = row["type"] == "tag"
                annotated = tag and row["object"] != row["peeled_commit"]
                refs.append(RefSpec(row["ref"], row["peeled_commit"], tag, annotated))
                if annotated:
                    tag_objects[row["ref"]] = row["object"]
        default = defaults.get(slug, "main")
        if not any(not ref.tag and ref.name == default for ref in refs):
            default = next((ref.name for ref in refs if not ref.tag), "main")
        ids = import_repository(root, owner, repo, snapshots, refs, default_branch=default)
        for commit in commits:
            translation.add(commit, ids[commit])
        for name, real in tag_objects.items():
            translation.add(real, ids[f"tag:{name}"])


class TranslatingResolver(Resolver):
    """A resolver that answers in real commit ids over repositories of rebuilt ones."""

    translation: Translation

    def _list(self, owner: str, repo: str) -> RefListing:
        listing = super()._list(owner, repo)
        real = self.translation.real
        return RefListing(
            {name: real(oid) for name, oid in listing.heads.items()},
            {name: real(oid) for name, oid in listing.tags.items()},
            listing.default_branch,
        )

    def _branch_tip(self, owner: str, repo: str) -> str | None:
        tip = super()._branch_tip(owner, repo)
        return None if tip is None else self.translation.built(tip)

    def objects(
        self,
        owner: str,
        repo: str,
        commits: Iterable[str],
        blobs: Iterable[str] = (),
        *,
        listed: Container[str] = (),
    ) -> Fetched:
        asked = {self.translation.built(commit): commit for commit in commits}
        sure = {built for built, real in asked.items() if real in listed}
        found = super().objects(owner, repo, asked, blobs, listed=sure)
        answer: dict[str, Snapshot | BastionError] = {}
        for built, value in found.snapshots.items():
            answer[asked[built]] = (
                Snapshot(self.translation.real(value.commit), value.files)
                if isinstance(value, Snapshot)
                else value
            )
        return Fetched(answer, found.blobs, found.blob_error)


def dataset_refs() -> set[tuple[str, str]]:
    """(``owner/repo`` lowercased, ref) for every ref the loopback repositories resolve: each
    commit folder's id, every branch and tag whose commit is here, and annotated tag objects."""
    found: set[tuple[str, str]] = set()
    for slug in corpus_repositories():
        folder = ACTIONS / slug.replace("/", "__", 1)
        name = slug.lower()
        commits = {p.name for p in folder.iterdir() if p.is_dir() and _SHA.fullmatch(p.name)}
        found.update((name, commit) for commit in commits)
        with (folder / "refs.tsv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["peeled_commit"] in commits:
                    found.add((name, row["ref"]))
                    found.add((name, row["object"]))
    return found
