"""What to do with each ``uses:``: pin it (``bastion pin``) or move it (``bastion update``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bastion.errors import BastionError
from bastion.findings import Finding
from bastion.github.git import RefListing
from bastion.inputs import Kind
from bastion.pinning.resolver import Reach, Resolver
from bastion.pinning.rewrite import Edit, Site, pin_edits, read_sites
from bastion.pinning.versions import Update, choose_update, most_specific_tag, parse_version

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_SHORT_SHA = re.compile(r"[0-9a-f]{7,39}")


@dataclass(frozen=True, slots=True)
class PinPlan:
    site: Site
    edits: list[Edit] = field(default_factory=list)
    commit: str | None = None
    version: str | None = None
    problem: str = ""
    """Why the site is not pinned ("" when it is, or already was)."""
    note: str = ""
    """Something worth saying about a site that is pinned all the same."""


def plan_pin(site: Site, resolver: Resolver, *, allow_branches: bool = False) -> PinPlan:
    """Resolve the site's ref and build the edits that pin it."""
    uses = site.uses
    ref = uses.ref
    if not ref:
        return PinPlan(site, problem="names no ref (GitHub needs one after `@`)")
    if _FULL_SHA.fullmatch(ref) and site.comment is not None:
        return PinPlan(site, commit=ref, version=site.comment)
    try:
        listing = resolver.listing(uses.owner, uses.repo)
    except BastionError as error:
        if _FULL_SHA.fullmatch(ref):  # pinned already; only its comment is missing
            return PinPlan(site, commit=ref, note=f"no version comment added: {error}")
        return PinPlan(site, problem=str(error))
    commit, problem = _resolve(listing, ref, allow_branches, f"{uses.owner}/{uses.repo}")
    if commit is None:
        return PinPlan(site, problem=problem)
    version = most_specific_tag(listing, commit)
    if version is None and ref in listing.tags:
        version = ref
    if version is None and ref in listing.heads:
        version = ref
    if site.editable:
        return PinPlan(
            site, commit=commit, version=version, problem=f"not rewritten: {site.editable}"
        )
    return PinPlan(site, pin_edits(site, commit, version), commit, version)


def _resolve(
    listing: RefListing, ref: str, allow_branches: bool, slug: str
) -> tuple[str | None, str]:
    if _FULL_SHA.fullmatch(ref):
        return ref, ""
    if ref in listing.tags:
        return listing.tags[ref], ""
    if ref in listing.heads:
        if not allow_branches:
            return None, (
                f"`{ref}` is a branch, which moves with every push; pin it with --branches, "
                "or name a release tag"
            )
        return listing.heads[ref], ""
    if _SHORT_SHA.fullmatch(ref):
        known = {*listing.tags.values(), *listing.heads.values()}
        matches = sorted(c for c in known if c.startswith(ref))
        if len(matches) == 1:
            return matches[0], ""
        return None, (
            f"the short SHA `{ref}` is not the commit of a branch or tag of {slug}; write the "
            "full 40-character SHA"
        )
    return None, f"{slug} has no branch or tag named `{ref}`"


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    site: Site
    edits: list[Edit] = field(default_factory=list)
    current: str | None = None
    target: str | None = None
    note: str = ""
    problem: str = ""


def plan_update(
    site: Site,
    resolver: Resolver,
    *,
    cooldown: float,
    now: float,
    allow_major: bool = False,
) -> UpdatePlan:
    """Move a SHA pin to the newest release that is at least ``cooldown`` seconds old.

    The chosen release's commit must be on a branch of the repository (a tag pushed onto a
    fork's commit is passed over), which costs the reachability check's requests.
    """
    uses = site.uses
    if uses.ref is None or not _FULL_SHA.fullmatch(uses.ref):
        return UpdatePlan(site, problem="is not pinned to a commit SHA; run `bastion pin` first")
    sha = uses.ref
    try:
        listing = resolver.listing(uses.owner, uses.repo)
    except BastionError as error:
        return UpdatePlan(site, problem=str(error))
    name = most_specific_tag(listing, sha) or site.comment
    current = parse_version(name) if name else None
    if current is None:
        return UpdatePlan(
            site, problem="names no version (no version tag points at it, no `# v1.2.3` comment)"
        )
    released: dict[str, float] = {}
    if cooldown > 0:
        try:
            released = resolver.releases(uses.owner, uses.repo)
        except BastionError as error:
            return UpdatePlan(site, current=current.name, problem=str(error))

    def on_a_branch(update: Update) -> str:
        try:
            answer = resolver.reachability(uses.owner, uses.repo, update.commit)
        except BastionError as error:
            return f"cannot check its commit: {error}"
        return "" if answer.reach is Reach.BRANCH else "its commit is on no branch"

    choice = choose_update(
        listing,
        current,
        released_at=released,
        cooldown=cooldown,
        now=now,
        allow_major=allow_major,
        accept=on_a_branch,
    )
    if choice.update is None:
        return UpdatePlan(site, current=current.name, note=choice.note)
    if site.editable:
        return UpdatePlan(site, current=current.name, problem=f"not rewritten: {site.editable}")
    edits = pin_edits(site, choice.update.commit, choice.update.tag)
    return UpdatePlan(site, edits, current.name, choice.update.tag, choice.note)


def pin_finding(
    finding: Finding,
    text: str,
    kind: Kind | None,
    resolver: Resolver,
    *,
    allow_branches: bool = False,
) -> PinPlan | None:
    """How to fix one ``unpinned-action`` finding in ``text`` (its file's content).

    The site is found by the finding's route (``jobs/build/steps/2/uses``); None when no
    pinnable ``uses:`` is there (an expression, a local action). The plan's ``edits`` pin
    it (``@<sha> # <version>``); when they are empty, ``problem`` says why (an unknown ref,
    a branch without ``allow_branches``, an offline resolver without the answer, a value
    that cannot be rewritten in place). Raises YamlError when ``text`` does not parse.
    """
    for site in read_sites(text, kind).sites:
        if site.route == finding.route:
            return plan_pin(site, resolver, allow_branches=allow_branches)
    return None
