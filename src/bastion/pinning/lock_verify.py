"""``bastion check --online`` for GitHub's lockfile: every entry checked against GitHub.

For each entry of each readable ``.github/workflows/actions.lock``:

* its commit must be reachable from a branch of the repository (``impostor-commit``; the
  resolver's reachability, cached for good once proven) and exist (``unknown-ref``);
* a key's tag or branch must still name the locked commit (``lock-drift``), and exist
  (``unknown-ref``); so must the tag an entry keyed by a SHA records. A release tag naming
  an ancestor of the locked commit is no drift: GitHub's writer narrows a ``@v4`` that
  moved past its last release so (one request for the history, cached for good);
* the owner and repository ids must be those GitHub reports now (``lock-identity``).

Requests: the repository's one ``ls-refs`` listing, the reachability of each distinct
commit (usually none or one request), and one ``GET /repos/{owner}/{repo}`` per repository.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.config import Config
from bastion.engine import Report
from bastion.errors import BastionError
from bastion.findings import Finding
from bastion.github.git import GitError, RefListing
from bastion.inputs import Input, Kind
from bastion.model.lockfile import MAX_BYTES, Entry, Lockfile, build_lockfile
from bastion.pinning.ids import RepositoryGone, RepositoryIds
from bastion.pinning.resolver import Reach, Resolver, default_resolver
from bastion.rules.base import Rule
from bastion.rules.impostor_commit import ImpostorCommit
from bastion.rules.lock_drift import LockDrift
from bastion.rules.lock_identity import LockIdentity
from bastion.rules.unknown_ref import UnknownRef
from bastion.source.files import FileAccessError, read_file
from bastion.source.text import LineIndex
from bastion.source.yaml import YamlError, node_span, parse

LOCK_RULES: tuple[type[Rule], ...] = (ImpostorCommit, LockDrift, LockIdentity, UnknownRef)
_IGNORE = re.compile(r"#\s*bastion:\s*ignore\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class _File:
    display: str
    lock: Lockfile
    lines: LineIndex


def verify_lockfiles(
    report: Report,
    inputs: Sequence[Input],
    config: Config,
    github_url: str | None = None,
    *,
    resolver: Resolver | None = None,
    ids: RepositoryIds | None = None,
) -> None:
    """Add the lockfile entries' online findings (and any errors) to ``report``."""
    enabled = {rule.id for rule in LOCK_RULES if config.enabled(rule.id)}
    files = [f for f in map(_read, inputs) if f is not None]
    if not enabled or not files:
        return
    if resolver is None:
        resolver = default_resolver(github_url)
    ids = ids or RepositoryIds(resolver)
    resolver.prefetch(
        (e.pin.owner, e.pin.repo) for f in files for e in f.lock.dependencies.values()
    )
    found: list[Finding] = []
    errors: dict[str, None] = {}
    for file in files:
        for entry in file.lock.dependencies.values():
            try:
                found.extend(_verify(file, entry, resolver, ids))
            except BastionError as error:
                errors[f"online check of {entry.pin.key} in {file.display} failed: {error}"] = None
    kept = [f for f in found if f.rule in enabled and _keep(f, config, files)]
    report.findings.extend(kept)
    report.findings.sort(key=lambda f: f.sort_key)
    report.errors.extend(errors)
    by_path = {f.display: f for f in files}
    for finding in kept:
        lines = report.source_lines.setdefault(finding.path, {})
        line = finding.span.start.line
        lines[line] = by_path[finding.path].lines.line_text(line)


def _read(item: Input) -> _File | None:
    if item.kind is not Kind.LOCKFILE or item.path is None:
        return None
    try:
        data = read_file(item.path, item.boundary, MAX_BYTES)
        text = data.decode("utf-8").removeprefix("\ufeff")
        lock = build_lockfile(item.display, parse(text))
    except (FileAccessError, UnicodeDecodeError, YamlError):
        return None  # the static check has reported it
    return None if lock.rejected else _File(item.display, lock, LineIndex(text))


def _verify(file: _File, entry: Entry, resolver: Resolver, ids: RepositoryIds) -> list[Finding]:
    pin = entry.pin
    try:
        listing = resolver.listing(pin.owner, pin.repo)
    except GitError as error:
        if error.not_found:
            return [_finding(UnknownRef, f"{pin.slug} does not exist: {error}", file, entry)]
        raise
    findings: list[Finding] = []
    sha = entry.sha
    if len(sha) == 40:
        answer = resolver.reachability(pin.owner, pin.repo, sha)
        if answer.reach is Reach.UNREACHABLE:
            tags = listing.tags_at(sha)
            via = f"; only the tag {', '.join(sorted(tags))} points at it" if tags else ""
            message = (
                f"the locked commit {sha[:12]} of {pin.key} is on no branch of {pin.slug}{via}: "
                "it may come from a fork or a pull request, and GitHub refuses to run it"
            )
            findings.append(_finding(ImpostorCommit, message, file, entry))
        elif answer.reach is Reach.MISSING:
            message = f"{pin.slug} holds no commit {sha}, which {pin.key} locks"
            findings.append(_finding(UnknownRef, message, file, entry))
    ref = entry.ref if pin.ref_is_sha else pin.ref
    now = listing.tags.get(ref) or listing.heads.get(ref)
    if now is None and not pin.ref_is_sha:
        message = f"{pin.slug} has no branch or tag named `{ref}` any more ({pin.key})"
        findings.append(_finding(UnknownRef, message, file, entry))
    elif (
        now is not None
        and now != sha
        and (ref in listing.tags or not pin.ref_is_sha)
        and not _narrowed_past(resolver, entry, ref, now, listing)
    ):
        kind = "tag" if ref in listing.tags else "branch"
        message = (
            f"the {kind} `{ref}` of {pin.slug} now names commit {now[:12]}, not the locked "
            f"{sha[:12]}: GitHub keeps running the locked one; review the move, then "
            "`bastion lock --relock`"
        )
        findings.append(_finding(LockDrift, message, file, entry))
    try:
        owner_id, repo_id = ids.get(pin.owner, pin.repo, fresh=True)
    except RepositoryGone as error:
        return [*findings, _finding(UnknownRef, str(error), file, entry)]
    changed = []
    if owner_id != entry.owner_id:
        changed.append(f"owner id {entry.owner_id} is now {owner_id}")
    if repo_id != entry.repo_id:
        changed.append(f"repository id {entry.repo_id} is now {repo_id}")
    if changed:
        message = (
            f"{pin.slug} is not the repository that was locked ({'; '.join(changed)}): it was "
            "renamed, transferred or deleted and its name registered again; GitHub blocks the run"
        )
        findings.append(_finding(LockIdentity, message, file, entry))
    return findings


def _narrowed_past(
    resolver: Resolver, entry: Entry, ref: str, now: str, listing: RefListing
) -> bool:
    """A release tag naming an ancestor of the locked commit: GitHub's writer (and ``bastion
    lock --narrow``) records the newest release in the history of a ``@v4`` that moved past
    it, keeping the commit ``@v4`` named; that tag did not move."""
    if ref not in listing.tags or not re.fullmatch(r"v?\d+\.\d+\.\d+", ref):
        return False
    try:
        return resolver.is_ancestor(entry.pin.owner, entry.pin.repo, now, entry.sha)
    except BastionError:
        return False


def _finding(rule: type[Rule], message: str, file: _File, entry: Entry) -> Finding:
    span = node_span(entry.node)
    route = f"dependencies/{entry.pin.key}"
    return Finding(rule.id, rule.severity, rule.confidence, message, file.display, span, route)


def _keep(finding: Finding, config: Config, files: list[_File]) -> bool:
    if finding.rule in config.ignored_for_path(finding.path):
        return False
    if finding.severity < config.min_severity or finding.confidence < config.min_confidence:
        return False
    lines = next(f.lines for f in files if f.display == finding.path)
    for number in range(finding.span.start.line, finding.span.end.line + 1):
        for match in _IGNORE.finditer(lines.line_text(number)):
            if finding.rule in {part.strip() for part in match.group(1).split(",")}:
                return False
    return True
