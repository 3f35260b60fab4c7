"""The audit of a repository or a whole organisation: collect, judge, and report findings.

Repositories are collected concurrently (a thread each, as many as the client's
concurrency); a single repository's requests run concurrently too. Checks that pass are
counted; those that fail or cannot tell become findings with ``status`` set, and the
repository's workflows, fetched through the contents API, go through the static rules.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from bastion.config import Config
from bastion.engine import Checker, Report
from bastion.errors import UsageError
from bastion.findings import Confidence, Finding, Point, Severity, Span
from bastion.github.host import Host
from bastion.github.rest import ApiError, RateLimitError, RestClient
from bastion.inputs import Input, Kind
from bastion.render.json import SCHEMA_VERSION
from bastion.rules import RULES_BY_ID
from bastion.settings.checks import Outcome, organization_checks, repository_checks
from bastion.settings.collect import (
    CONFIGURATION_KINDS,
    Options,
    RulesetCache,
    collect_org,
    collect_repo,
    repository_meta,
    sequential,
    threaded,
)
from bastion.settings.state import RepoState, Unavailable

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    """1-based."""
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index_text, count_text = text.split("/")
            index, count = int(index_text), int(count_text)
        except ValueError:
            raise UsageError(f"--shard {text!r} is not I/N, like 1/4") from None
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {text!r}: I must be between 1 and N")
        return cls(index, count)

    def keeps(self, position: int) -> bool:
        return position % self.count == self.index - 1


@dataclass(slots=True)
class Audit:
    report: Report
    outcomes: list[Outcome] = field(default_factory=list)
    repositories: int = 0
    notes: list[str] = field(default_factory=list)
    """What the run skipped and why (disabled repositories), for standard error."""

    def counts(self) -> Counter[str]:
        return Counter(outcome.status for outcome in self.outcomes)


def subject_of(host: Host, *parts: str) -> str:
    return "/".join((host.hostname, *parts))


def options_from(config: Config) -> Options:
    def strings(rule: str, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = config.rule_settings.get(rule, {}).get(name, default)
        return value if isinstance(value, tuple) else (str(value),)

    environments = set(strings("unprotected-release-environment", "environments", ("release",)))
    environments |= set(strings("mutable-release-tags", "environments", ("release",)))
    return Options(
        sensitive_patterns=strings(
            "unrestricted-sensitive-branches", "patterns", ("advisory-*", "internal-*")
        ),
        release_environments=tuple(sorted(environments)),
    )


def audit_repository(client: RestClient, config: Config, owner: str, name: str) -> Audit:
    host = client.host
    try:
        meta = repository_meta(client, owner, name)
    except RateLimitError:
        raise
    except ApiError as error:
        if error.status in (401, 403, 404):
            raise UsageError(
                f"cannot read repository {owner}/{name} on {host.web_url}: {error} "
                "(is the name right, and can the token see it?)"
            ) from None
        raise
    audit = Audit(Report([], 0, []))
    full_name = str(meta.get("full_name") or f"{owner}/{name}")
    if meta.get("disabled"):
        audit.notes.append(_disabled_note(full_name))
        return audit
    if full_name.lower() != f"{owner}/{name}".lower():
        audit.notes.append(f"{owner}/{name} is now {full_name} (renamed or transferred)")
    with ThreadPoolExecutor(max_workers=8) as pool:
        state = collect_repo(
            client,
            subject_of(host, *full_name.split("/", 1)),
            meta,
            options_from(config),
            cache=RulesetCache(),
            gather=threaded(pool),
        )
    _judge_repository(audit, state, config)
    _finish(audit, config)
    audit.repositories = 1
    return audit


def audit_organization(
    client: RestClient,
    config: Config,
    login: str,
    *,
    shard: Shard | None = None,
    include_archived: bool = False,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> Audit:
    host = client.host
    audit = Audit(Report([], 0, []))
    repositories = organization_repositories(client, login, shard, include_archived)
    for repo in [r for r in repositories if r.get("disabled")]:
        audit.notes.append(_disabled_note(str(repo.get("full_name") or repo.get("name"))))
        repositories.remove(repo)
    options = options_from(config)
    cache = RulesetCache()
    organization_subject = subject_of(host, login)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        org_state = collect_org(client, login, organization_subject, threaded(pool))
        org_outcomes = list(organization_checks(org_state, config.rule_settings))
        if shard is None or shard.index == 1:
            # Shards merge: only the first reports the organisation's own settings.
            audit.outcomes.extend(org_outcomes)
        enforced = {o.rule for o in org_outcomes if o.status == "pass" and o.rule in _INHERITED}
        owners = org_state.owners
        futures = {
            pool.submit(
                collect_repo,
                client,
                subject_of(host, login, str(repo["name"])),
                repo,
                options,
                cache=cache,
                gather=sequential,
                organization_audit=True,
                owners=owners,
            ): repo
            for repo in repositories
        }
        if progress is not None:
            progress(0, len(futures))
        for done, future in enumerate(as_completed(futures), start=1):
            repo = futures[future]
            try:
                state = future.result()
            except RateLimitError:
                for pending in futures:
                    pending.cancel()
                raise
            except Exception:
                where = traceback.extract_tb(sys.exc_info()[2])[-1]
                audit.report.errors.append(
                    f"internal error while auditing {repo.get('full_name')} "
                    f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno}): please report this; "
                    "the other repositories were audited"
                )
            else:
                _judge_repository(audit, state, config, enforced)
            if progress is not None:
                progress(done, len(futures))
    audit.repositories = len(repositories)
    _finish(audit, config)
    return audit


def organization_repositories(
    client: RestClient, login: str, shard: Shard | None, include_archived: bool
) -> list[dict[str, object]]:
    """The repositories of ``login`` that an organisation-wide run looks at, by name
    (archived ones only when asked; this run's share when sharded)."""
    try:
        repositories = [
            repo
            for repo in client.paginate(
                f"/orgs/{login}/repos", {"type": "all", "sort": "full_name"}
            )
            if isinstance(repo, dict) and (include_archived or not repo.get("archived"))
        ]
    except RateLimitError:
        raise
    except ApiError as error:
        raise UsageError(
            f"cannot list the repositories of {login} on {client.host.web_url}: {error}"
        ) from None
    repositories.sort(key=lambda repo: str(repo.get("name", "")).lower())
    if shard is not None:
        repositories = [repo for i, repo in enumerate(repositories) if shard.keeps(i)]
    return repositories


def _disabled_note(full_name: str) -> str:
    return (
        f"skipped {full_name}: GitHub has disabled the repository, so its settings cannot be "
        "read (this is not about the token; see the repository's page)"
    )


_INHERITED = frozenset({"sha-pinning-not-required", "writable-default-token"})
"""Settings where the organisation's policy binds every repository."""


def _judge_repository(
    audit: Audit,
    state: RepoState,
    config: Config,
    enforced: frozenset[str] | set[str] = frozenset(),
) -> None:
    for outcome in repository_checks(state, config.rule_settings):
        inherited = outcome.rule in enforced and outcome.status != "pass"
        audit.outcomes.append(
            replace(outcome, status="pass", message="enforced by the organisation's policy")
            if inherited
            else outcome
        )
    files = [
        (path, Kind.WORKFLOW, data)
        for path, data in (state.workflows if isinstance(state.workflows, dict) else {}).items()
    ]
    if isinstance(state.configurations, Unavailable):
        audit.notes.append(
            f"the Dependabot, Renovate and pre-commit files of {state.full_name} were not "
            f"checked: {state.configurations.reason}"
        )
    else:
        files.extend(
            (path, CONFIGURATION_KINDS[path], data) for path, data in state.configurations.items()
        )
    if files:
        checker = Checker(config)
        for path, kind, data in sorted(files, key=lambda item: item[0]):
            display = f"{state.subject}/{path}"
            result = checker.check(Input(display, kind, data=data))
            audit.report.files += 1
            audit.report.findings.extend(result.findings)
            audit.report.errors.extend(result.errors)
            if result.source_lines:
                audit.report.source_lines[display] = result.source_lines


def _finish(audit: Audit, config: Config) -> None:
    audit.outcomes = [o for o in audit.outcomes if config.enabled(o.rule)]
    audit.outcomes.sort(key=lambda o: (o.subject.count("/"), o.subject, o.rule))
    audit.report.findings.extend(findings(audit.outcomes, config))
    audit.report.findings.sort(key=lambda f: f.sort_key)


def findings(outcomes: Iterable[Outcome], config: Config) -> list[Finding]:
    """The outcomes that did not pass, as findings, filtered by the configuration."""
    found = []
    for outcome in outcomes:
        if outcome.status == "pass" or not config.enabled(outcome.rule):
            continue
        rule = RULES_BY_ID[outcome.rule]
        severity = outcome.severity if outcome.severity is not None else rule.severity
        if severity < config.min_severity or rule.confidence < config.min_confidence:
            continue
        if outcome.rule in config.ignored_for_path(outcome.subject):
            continue
        found.append(
            Finding(
                outcome.rule,
                severity,
                rule.confidence,
                outcome.message,
                outcome.subject,
                Span.at(1, 1),
                outcome.route,
                outcome.status,
            )
        )
    return found


def merge_reports(paths: list[Path]) -> Report:
    """One report from JSON reports (docs/json-output.md), findings sorted and de-duplicated.

    Source lines are not in JSON reports, so a merged human report shows no excerpts.
    """
    merged = Report([], 0, [])
    seen: set[tuple[object, ...]] = set()
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or document.get("version") != SCHEMA_VERSION:
                raise ValueError(f"not a version {SCHEMA_VERSION} bastion JSON report")
            merged.files += int(document.get("files_checked", 0))
            merged.errors.extend(str(e) for e in document.get("errors", []))
            for item in document["findings"]:
                finding = Finding(
                    str(item["rule"]),
                    Severity.parse(item["severity"]),
                    Confidence.parse(item["confidence"]),
                    str(item["message"]),
                    str(item["path"]),
                    Span(
                        Point(int(item["line"]), int(item["column"])),
                        Point(int(item["end_line"]), int(item["end_column"])),
                    ),
                    str(item.get("route", "")),
                    item.get("status"),
                )
                key = (finding.rule, finding.path, finding.span, finding.route, finding.message)
                if key not in seen:
                    seen.add(key)
                    merged.findings.append(finding)
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror}") from None
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{path} is not a bastion JSON report: {error}") from None
    merged.findings.sort(key=lambda f: f.sort_key)
    return merged
