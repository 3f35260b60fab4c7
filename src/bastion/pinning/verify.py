"""``bastion check --online``: verify every pin against its repository and add findings.

One git ``ls-refs`` request per distinct repository (concurrent, cached), then the
reachability of each distinct pinned commit (see ``Resolver.reachability`` for its bound).
Findings are filtered like the static ones (selected rules, per-path ignores, minimum
severity and confidence, ``# bastion: ignore[rule]`` on the line) and added to the report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.config import Config
from bastion.engine import Report
from bastion.errors import BastionError
from bastion.findings import Finding, Span
from bastion.github.git import GitError
from bastion.inputs import MAX_INPUT_BYTES, Input, Kind
from bastion.pinning.resolver import NotCached, Reach, Resolver, default_resolver
from bastion.pinning.rewrite import Parsed, Site, YamlError, read_sites
from bastion.rules.base import Rule
from bastion.rules.impostor_commit import ImpostorCommit
from bastion.rules.unknown_ref import UnknownRef
from bastion.rules.version_comment_mismatch import VersionCommentMismatch
from bastion.source.files import FileAccessError, read_file

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_HEX = re.compile(r"[0-9a-fA-F]{7,40}")
_IGNORE = re.compile(r"#\s*bastion:\s*ignore\[([^\]]*)\]")
ONLINE_RULES: tuple[type[Rule], ...] = (ImpostorCommit, VersionCommentMismatch, UnknownRef)


@dataclass(frozen=True, slots=True)
class _File:
    display: str
    parsed: Parsed


def verify_online(
    report: Report,
    inputs: Sequence[Input],
    config: Config,
    github_url: str | None = None,
    *,
    resolver: Resolver | None = None,
) -> None:
    """Add the online rules' findings (and any errors) to ``report``."""
    enabled = [rule for rule in ONLINE_RULES if config.enabled(rule.id)]
    if not enabled:
        return
    if resolver is None:
        resolver = default_resolver(github_url)
    files = [f for f in map(_read, inputs) if f is not None]
    sites = [(f, site) for f in files for site in f.parsed.sites]
    resolver.prefetch(site.owner_repo for _, site in sites)
    pins = []
    for _, site in sites:
        if site.uses.ref and _FULL_SHA.fullmatch(site.uses.ref):
            try:
                resolver.listing(*site.owner_repo)
            except BastionError:
                continue
            pins.append((site.uses.owner, site.uses.repo, site.uses.ref))
    resolver.prefetch_reachability(pins)
    found: list[Finding] = []
    errors: dict[str, None] = {}
    for file, site in sites:
        try:
            found.extend(_verify(file, site, resolver))
        except NotCached as error:
            errors[f"online check skipped {file.display}:{site.line}: {error}"] = None
        except BastionError as error:
            errors[f"online check of {site.uses.slug} failed: {error}"] = None
    kept = [f for f in found if _keep(f, config, enabled, files)]
    report.findings.extend(kept)
    report.findings.sort(key=lambda f: f.sort_key)
    report.errors.extend(errors)
    by_path = {f.display: f for f in files}
    for finding in kept:
        lines = report.source_lines.setdefault(finding.path, {})
        index = by_path[finding.path].parsed.lines
        lines[finding.span.start.line] = index.line_text(finding.span.start.line)


def _read(item: Input) -> _File | None:
    if item.kind not in (None, Kind.WORKFLOW, Kind.ACTION):
        return None
    try:
        data = item.data
        if data is None:
            data = read_file(item.path, item.boundary, MAX_INPUT_BYTES) if item.path else b""
        text = data.decode("utf-8").removeprefix("\ufeff")
        return _File(item.display, read_sites(text, item.kind))
    except (FileAccessError, UnicodeDecodeError, YamlError):
        return None  # the static check has already reported it


def _verify(file: _File, site: Site, resolver: Resolver) -> list[Finding]:
    uses = site.uses
    ref = uses.ref
    if not ref:
        return []
    slug = f"{uses.owner}/{uses.repo}"
    try:
        listing = resolver.listing(uses.owner, uses.repo)
    except GitError as error:
        if error.not_found:
            return [_finding(UnknownRef, str(error), file, site)]
        raise
    if not _FULL_SHA.fullmatch(ref):
        if ref in listing.tags or ref in listing.heads or _HEX.fullmatch(ref):
            return []
        return [_finding(UnknownRef, f"{slug} has no branch or tag named `{ref}`", file, site)]
    findings = []
    if site.comment is not None:
        tagged = listing.tags.get(site.comment)
        message = ""
        if tagged is None:
            message = f"the comment names {site.comment}, but {slug} has no such tag"
        elif tagged != ref:
            message = (
                f"the comment names {site.comment}, which is commit {tagged[:12]} of {slug}, "
                f"not the pinned {ref[:12]}"
            )
        actual = sorted(listing.tags_at(ref))
        if message and actual:
            message += f" (the pinned commit is tagged {', '.join(actual)})"
        if message:
            findings.append(_finding(VersionCommentMismatch, message, file, site, comment=True))
    answer = resolver.reachability(uses.owner, uses.repo, ref)
    if answer.reach is Reach.UNREACHABLE:
        tags = listing.tags_at(ref)
        via = f"; only the tag {', '.join(sorted(tags))} points at it" if tags else ""
        message = (
            f"commit {ref[:12]} is not on any branch of {slug}{via}: it may come from a fork "
            "or a pull request, which GitHub serves under the upstream's name"
        )
        findings.append(_finding(ImpostorCommit, message, file, site))
    elif answer.reach is Reach.MISSING:
        message = f"{slug} holds no commit {ref}"
        findings.append(_finding(UnknownRef, message, file, site))
    return findings


def _finding(
    rule: type[Rule], message: str, file: _File, site: Site, *, comment: bool = False
) -> Finding:
    lines = file.parsed.lines
    span: Span
    if comment and site.comment_start >= 0:
        span = lines.span(site.comment_start, site.comment_end)
    else:
        span = lines.span(site.start, site.end)
    return Finding(rule.id, rule.severity, rule.confidence, message, file.display, span, site.route)


def _keep(finding: Finding, config: Config, enabled: list[type[Rule]], files: list[_File]) -> bool:
    if finding.rule not in {rule.id for rule in enabled}:
        return False
    if finding.rule in config.ignored_for_path(finding.path):
        return False
    if finding.severity < config.min_severity or finding.confidence < config.min_confidence:
        return False
    lines = next(f.parsed.lines for f in files if f.display == finding.path)
    for number in range(finding.span.start.line, finding.span.end.line + 1):
        for match in _IGNORE.finditer(lines.line_text(number)):
            if finding.rule in {part.strip() for part in match.group(1).split(",")}:
                return False
    return True
