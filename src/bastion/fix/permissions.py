"""What a job's ``GITHUB_TOKEN`` needs, from the actions it uses and the commands it runs.

What each action needs is in the knowledge base (src/bastion/knowledge/actions.toml, with
the source of every entry); the commands are here. The table is deliberately small and
explicit: an action it does not know, and a script given the token that runs no command it
knows, make the job's needs *unknown*, never guessed; the fix then keeps what the job had.
docs/fixes.md shows the same table; a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bastion import knowledge
from bastion.model.workflow import Job, Step, Workflow
from bastion.source.yaml import Node

LEVELS = {"none": 0, "read": 1, "write": 2}

Scopes = dict[str, str]


def _scopes(text: str) -> Scopes:
    """``"contents: read, id-token: write"`` as a mapping."""
    found: Scopes = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        scope, level = (s.strip() for s in part.split(":"))
        found[scope] = level
    return found


ACTIONS: dict[str, Scopes] = {
    name: dict(info.permissions)
    for name, info in knowledge.entries().items()
    if info.permissions and not info.permissions_when
}
"""Actions whose needs do not depend on their inputs: canonical name -> scopes (the
``permissions`` of the knowledge base, src/bastion/knowledge/actions.toml)."""

CONDITIONAL_ACTIONS = {
    name: info.permissions_when
    for name, info in knowledge.entries().items()
    if info.permissions_when
}
"""Actions whose needs depend on their inputs (``permissions-when`` in the knowledge base,
for documentation; the logic is in ``_action``)."""

NEEDS_NOTHING = frozenset(name for name, info in knowledge.entries().items() if info.needs_no_token)
"""Actions that use no GITHUB_TOKEN scope (the token they may read only raises rate limits
on public data): ``needs-no-token`` in the knowledge base."""

GH_COMMANDS: dict[str, Scopes] = {
    command: _scopes(scopes)
    for command, scopes in {
        "pr comment": "pull-requests: write",
        "pr create": "pull-requests: write",
        "pr edit": "pull-requests: write",
        "pr review": "pull-requests: write",
        "pr close": "pull-requests: write",
        "pr reopen": "pull-requests: write",
        "pr ready": "pull-requests: write",
        "pr lock": "pull-requests: write",
        "pr unlock": "pull-requests: write",
        "pr merge": "contents: write, pull-requests: write",
        "pr view": "pull-requests: read",
        "pr list": "pull-requests: read",
        "pr diff": "pull-requests: read",
        "pr checks": "pull-requests: read, checks: read",
        "pr status": "pull-requests: read",
        "pr checkout": "contents: read, pull-requests: read",
        "issue create": "issues: write",
        "issue comment": "issues: write",
        "issue edit": "issues: write",
        "issue close": "issues: write",
        "issue reopen": "issues: write",
        "issue lock": "issues: write",
        "issue unlock": "issues: write",
        "issue pin": "issues: write",
        "issue unpin": "issues: write",
        "issue delete": "issues: write",
        "issue transfer": "issues: write",
        "issue view": "issues: read",
        "issue list": "issues: read",
        "issue status": "issues: read",
        "label create": "issues: write",
        "label edit": "issues: write",
        "label delete": "issues: write",
        "label clone": "issues: write",
        "label list": "issues: read",
        "release create": "contents: write",
        "release upload": "contents: write",
        "release edit": "contents: write",
        "release delete": "contents: write",
        "release delete-asset": "contents: write",
        "release view": "contents: read",
        "release list": "contents: read",
        "release download": "contents: read",
        "run list": "actions: read",
        "run view": "actions: read",
        "run watch": "actions: read",
        "run download": "actions: read",
        "run cancel": "actions: write",
        "run rerun": "actions: write",
        "run delete": "actions: write",
        "workflow run": "actions: write",
        "workflow enable": "actions: write",
        "workflow disable": "actions: write",
        "workflow list": "actions: read",
        "workflow view": "actions: read",
        "cache list": "actions: read",
        "cache delete": "actions: write",
        "repo view": "contents: read",
        "repo clone": "contents: read",
        "attestation verify": "attestations: read",
    }.items()
}
"""``gh`` subcommands run with the GITHUB_TOKEN (``GH_TOKEN``) -> scopes."""


@dataclass(frozen=True, slots=True)
class ScriptUse:
    what: str
    pattern: re.Pattern[str]
    scopes: Scopes
    with_token: bool
    """Counts only when the GITHUB_TOKEN reaches the script (the OIDC uses always count)."""
    kept: bool = False
    """The command may use the scopes, or may not: a job that had them keeps them, one that
    did not is not given them."""


def _use(
    what: str, pattern: str, scopes: str, *, with_token: bool = False, kept: bool = False
) -> ScriptUse:
    return ScriptUse(what, re.compile(pattern), _scopes(scopes), with_token, kept)


GIT_PUSH = _use(
    "`git push` (after a checkout that stored the token, or with the token in the step)",
    r"\bgit\s+(?:-c\s+\S+\s+)*push\b",
    "contents: write",
    with_token=True,
)
PAGES_PUSH = _use(
    "`mkdocs gh-deploy`, `ghp-import -p`, `mike deploy --push` (they push like `git push`)",
    r"\bgh-deploy\b|\bghp-import\b[^\n]*\s(?:-p|--push)\b|\bmike\s[^\n]*--push\b",
    "contents: write",
    with_token=True,
)
PUSHING = (GIT_PUSH, PAGES_PUSH)
"""Commands that push with the token a checkout stored, or one given to the step."""
SCRIPT_USES = (
    GIT_PUSH,
    PAGES_PUSH,
    _use("`docker login`", r"\bdocker\s+login\b", "packages: write", with_token=True),
    _use(
        "`npm publish --provenance` (or `NPM_CONFIG_PROVENANCE`)",
        r"--provenance\b|NPM_CONFIG_PROVENANCE",
        "id-token: write",
    ),
    _use(
        "`cosign sign`, `cosign attest` (and `-blob`) without `--key`",
        r"\bcosign\s+(?:sign|attest)(?:-blob)?\b(?!.*--key)",
        "id-token: write",
    ),
    _use(
        "`ACTIONS_ID_TOKEN_REQUEST_URL` or `ACTIONS_ID_TOKEN_REQUEST_TOKEN`",
        r"ACTIONS_ID_TOKEN_REQUEST_(?:TOKEN|URL)",
        "id-token: write",
    ),
    _use(
        "`uv publish` without a token or password (trusted publishing)",
        r"\buv\s+publish\b(?!.*(?:--token|-t\s|--password|UV_PUBLISH_TOKEN))",
        "id-token: write",
    ),
    _use(
        "a `publish`, `upload` or `deploy` command (trusted publishing, OIDC uploads)",
        r"\b(?:publish|upload|deploy|sigstore)\b",
        "id-token: write",
        kept=True,
    ),
)
"""What a ``run:`` script does that needs a scope."""

_TOKEN = re.compile(
    r"github\.token\b|secrets\.github_token\b|secrets\[\s*'github_token'\s*\]", re.IGNORECASE
)
_GH = re.compile(r"(?:^|[\s;&|(`$])gh\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")


@dataclass(slots=True)
class Needs:
    """What a job's token needs, and what could not be told."""

    scopes: Scopes = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    """Scopes a command may use: kept if the job had them, never added; scope -> why."""
    unknown: list[str] = field(default_factory=list)
    """What the table does not know; the job keeps all it had."""

    def add(self, scopes: Scopes) -> None:
        for scope, level in scopes.items():
            if LEVELS[level] > LEVELS.get(self.scopes.get(scope, "none"), 0):
                self.scopes[scope] = level

    def keep(self, scopes: Scopes, why: str) -> None:
        for scope in scopes:
            self.kept.setdefault(scope, why)

    def sorted(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((s, level) for s, level in self.scopes.items() if level != "none"))


def mentions_token(text: str) -> bool:
    return bool(_TOKEN.search(text))


def job_needs(workflow: Workflow, job: Job) -> Needs:
    needs = Needs()
    text = workflow.document.text
    if job.uses is not None:
        needs.unknown.append(f"it calls the reusable workflow `{job.uses.text}`")
        return needs
    inherited = any(
        _raw(text, fields.get("env")) and mentions_token(_raw(text, fields.get("env")))
        for fields in (workflow.fields, job.fields)
    )
    checkout_token = False
    for step in job.steps:
        raw = _raw(text, step.node)
        if step.uses is not None:
            slug = step.uses.name
            if slug == "actions/checkout":
                given = step.input("token")
                checkout_token = given is None or mentions_token(given.value)
                if checkout_token:
                    needs.add(ACTIONS[slug])
            else:
                _action(needs, step, slug, raw)
        run = step.run
        if run is not None:
            has_token = inherited or mentions_token(raw)
            _script(
                needs, step, run.value, token=has_token, pushes_with=checkout_token or has_token
            )
    for part in ("container", "services"):
        node = job.fields.get(part)
        if node is not None and mentions_token(_raw(text, node)):
            needs.add({"packages": "read"})
    return needs


def _raw(text: str, node: Node | None) -> str:
    return text[node.start_mark.index : node.end_mark.index] if node is not None else ""


def _action(needs: Needs, step: Step, slug: str, raw: str) -> None:
    inputs = step.with_
    given = {entry.key.value.lower() for entry in inputs} if inputs else set()

    def value(name: str) -> str:
        node = step.input(name)
        return node.value if node is not None else ""

    if slug in ACTIONS:
        needs.add(ACTIONS[slug])
    elif slug == "pypa/gh-action-pypi-publish":
        if "password" not in given:
            needs.add({"id-token": "write"})
    elif slug == "rubygems/configure-rubygems-credentials":
        if "api-token" not in given:
            needs.add({"id-token": "write"})
    elif slug == "docker/login-action":
        if mentions_token(value("password")):
            needs.add({"packages": "write"})
    elif slug == "aws-actions/configure-aws-credentials":
        if "role-to-assume" in given and "aws-access-key-id" not in given:
            needs.add({"id-token": "write"})
    elif slug == "google-github-actions/auth":
        if "workload_identity_provider" in given and "credentials_json" not in given:
            needs.add({"id-token": "write"})
    elif slug == "azure/login":
        if "client-id" in given and "creds" not in given:
            needs.add({"id-token": "write"})
    elif slug == "codecov/codecov-action":
        # codecov__codecov-action/18283e04…/action.yml: `use_oidc` (default 'false').
        oidc = value("use_oidc").strip().lower()
        if oidc == "true" or "${{" in oidc:
            needs.add({"id-token": "write"})
    elif slug == "actions/download-artifact":
        if "github-token" in given:
            needs.add({"actions": "read"})
    elif slug == "actions/dependency-review-action":
        needs.add({"contents": "read"})
        comment = value("comment-summary-in-pr").strip().lower()
        if comment and comment not in ("never", "false"):
            needs.add({"pull-requests": "write"})
    elif slug == "peaceiris/actions-gh-pages":
        if "deploy_key" not in given:
            needs.add({"contents": "write"})
    elif slug == "zizmorcore/zizmor-action":
        # zizmorcore__zizmor-action/f52a838c…/action.yml: `advanced-security` uploads the
        # results as SARIF to the security tab.
        if value("advanced-security").strip().lower() != "false":
            needs.add({"security-events": "write"})
    elif slug == "ossf/scorecard-action":
        # ossf__scorecard-action/f49aabe0…/action.yaml: `publish_results` (default false)
        # signs the results with the job's OIDC token.
        if value("publish_results").strip().lower() not in ("", "false"):
            needs.add({"id-token": "write"})
    elif slug == "golangci/golangci-lint-action":
        # golangci__golangci-lint-action/ba0d7d2e…/action.yml: `only-new-issues` fetches the
        # pull request's patch with `github-token`.
        if value("only-new-issues").strip().lower() not in ("", "false"):
            needs.add({"pull-requests": "read"})
    elif slug == "gradle/actions/setup-gradle":
        # gradle__actions/ed408507…/setup-gradle/action.yml: `dependency-graph` (default
        # 'disabled') submits through the Dependency Submission API with `github-token`.
        if "submit" in value("dependency-graph"):
            needs.add({"contents": "write"})
    elif slug == "pyo3/maturin-action":
        # PyO3__maturin-action/e83996d1…/action.yml: `command` (default 'build'); `publish`
        # and `upload` may use trusted publishing; the token only downloads maturin.
        command = value("command").strip().split()
        if command and command[0] in ("publish", "upload"):
            needs.keep({"id-token": "write"}, f"step {_name(step)} runs `maturin {command[0]}`")
    elif slug == "changesets/action":
        # It pushes the version commit and opens the release pull request with the token;
        # its `publish` script (often `npm publish` with provenance) may request OIDC.
        needs.add({"contents": "write", "pull-requests": "write"})
        if "publish" in given:
            needs.keep({"id-token": "write"}, f"step {_name(step)} publishes with `{slug}`")
    elif slug == "actions/github-script":
        token = value("github-token")
        if not token or mentions_token(token):
            needs.unknown.append(f"step {_name(step)} runs a github-script with the token")
    elif slug not in NEEDS_NOTHING:
        shown = slug if step.uses is None or step.uses.owner else step.uses.text
        needs.unknown.append(f"step {_name(step)} uses `{shown}`")


def _script(needs: Needs, step: Step, script: str, *, token: bool, pushes_with: bool) -> None:
    known = False
    for use in SCRIPT_USES:
        found = use.pattern.search(script)
        if not found:
            continue
        if use.with_token and not (pushes_with if use in PUSHING else token):
            continue
        if use.kept:
            needs.keep(use.scopes, f"step {_name(step)} runs `{found.group()}`")
        else:
            needs.add(use.scopes)
            known = known or use.with_token
    if not token:
        return
    for match in _GH.finditer(script):
        group, verb = match.group(1), match.group(2) or ""
        command = f"{group} {verb}"
        if command in GH_COMMANDS:
            needs.add(GH_COMMANDS[command])
            known = True
        elif group in ("auth", "config", "extension", "help", "version", "alias", "completion"):
            continue
        else:
            shown = group if group == "api" else command.strip()
            needs.unknown.append(f"step {_name(step)} runs `gh {shown}` with the token")
            known = True
    if not known:
        needs.unknown.append(f"step {_name(step)} gives the token to a script")


def _name(step: Step) -> str:
    name = step.fields.text("name") or step.fields.text("id")
    return f"`{name}`" if name else f"{step.index + 1}"
