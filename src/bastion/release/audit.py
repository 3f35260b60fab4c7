"""`bastion release` for one repository or a whole organisation, and its report.

Links that do not pass become findings with ``status`` (as in `bastion repo`), so the JSON,
SARIF and annotation formats and `bastion merge` work unchanged; the human report draws each
release's chain as a list of links with a mark each.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from bastion.config import Config
from bastion.errors import UsageError
from bastion.findings import Finding
from bastion.github.rest import ApiError, RateLimitError, RestClient
from bastion.release.chain import ReleaseCheck, ReleaseOptions, check_release
from bastion.release.registries import RegistryClient
from bastion.release.signatures import Verifier
from bastion.settings.audit import Shard, organization_repositories, subject_of
from bastion.settings.audit import findings as settings_findings
from bastion.settings.checks import Outcome
from bastion.settings.collect import RulesetCache, repository_meta, sequential, threaded

MARKS = {"pass": "pass", "fail": "FAIL", "unknown": "unknown"}


def check_repository(
    client: RestClient,
    config: Config,
    owner: str,
    name: str,
    *,
    options: ReleaseOptions,
    registry: RegistryClient,
) -> ReleaseCheck:
    verifier = Verifier()
    try:
        meta = repository_meta(client, owner, name)
    except RateLimitError:
        raise
    except ApiError as error:
        unseen = error.status in (401, 403, 404)
        hint = " (is the name right, and can the token see it?)" if unseen else ""
        raise UsageError(
            f"cannot read repository {owner}/{name} on {client.host.web_url}: {error}{hint}"
        ) from None
    with ThreadPoolExecutor(max_workers=8) as pool:
        return check_release(
            client,
            config,
            subject_of(client.host, owner, name),
            meta,
            options,
            verifier=verifier,
            registry=registry,
            gather=threaded(pool),
        )


def check_organization(
    client: RestClient,
    config: Config,
    login: str,
    options: ReleaseOptions,
    registry: RegistryClient,
    *,
    shard: Shard | None = None,
    include_archived: bool = False,
    concurrency: int = 8,
) -> list[ReleaseCheck]:
    """The latest release of every repository (the same selection as `bastion org`)."""
    verifier = Verifier()
    repositories = organization_repositories(client, login, shard, include_archived)
    wanted = ReleaseOptions(
        pypi_url=options.pypi_url, npm_url=options.npm_url, no_release_passes=True
    )
    rulesets = RulesetCache()  # the organisation's rulesets, read once for all repositories
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [
            pool.submit(
                check_release,
                client,
                config,
                subject_of(client.host, login, str(repo["name"])),
                repo,
                wanted,
                verifier=verifier,
                registry=registry,
                gather=sequential,
                rulesets=rulesets,
            )
            for repo in repositories
        ]
        return [future.result() for future in futures]


def outcomes(checks: list[ReleaseCheck], config: Config) -> list[Outcome]:
    """Every link as an outcome of the settings audit's kind, those that the configuration
    switches off (``select``, ``ignore``) left out."""
    found = []
    for check in checks:
        where = f"release {check.tag}: " if check.tag else ""
        for link in check.links:
            if config.enabled(link.rule):
                message = f"{where}{link.title}: {link.message}"
                found.append(Outcome(link.rule, link.status, message, check.subject, link.route))
    return found


def findings(checks: list[ReleaseCheck], config: Config) -> list[Finding]:
    """The links that do not pass, as findings, filtered by the configuration as the settings
    audit's are (rules, severity and confidence thresholds, per-path ignores)."""
    found = settings_findings(outcomes(checks, config), config)
    found.sort(key=lambda f: f.sort_key)
    return found


def render_chains(checks: list[ReleaseCheck], out: TextIO, config: Config) -> None:
    """Each release as its chain of links (those the configuration selects), the first broken
    one named."""
    width = max(len(mark) for mark in MARKS.values())
    for check in checks:
        what = f"release {check.tag}" if check.tag else "no release"
        out.write(f"{check.subject}: {what}\n")
        links = [link for link in check.links if config.enabled(link.rule)]
        for link in links:
            out.write(f"  {MARKS[link.status]:<{width}}  {link.title}: {link.message}\n")
        broken = next((link for link in links if link.status != "pass"), None)
        if broken is None:
            out.write("  the chain holds\n")
        else:
            out.write(f"  the chain breaks at: {broken.title}\n")
