"""Audits over the action graph: the rules, run on what every workflow really calls.

For every node the graph reaches from the user's files (a called composite, docker or
JavaScript action, a reusable workflow, a local action):

- the graph rules' :meth:`~bastion.rules.base.Rule.check_node` (immutability gaps), on
  every called node;
- the file rules' hooks (``check_action`` / ``check_workflow``), once per called file, as if
  it were the user's own, except the rules a graph rule stands for on called files
  (:data:`COVERED`) and those about a workflow's own triggers and token, which a called
  workflow takes from its caller (:data:`CALLER_DECIDES`);
- the file rules' ``check_node`` (the context a file alone does not give: a cache in an
  action that a release job calls is ``release-cache``), once per chain.

A finding points at the line of the user's file that brings the node in (the first
``uses:`` of the chain), and carries the rest of the chain as its ``via``: each later
``uses:``, then the place in the called file. Local actions of the user's checkout are the
user's own files, checked by the file pass already: only the context hooks run on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bastion import knowledge
from bastion.config import Config
from bastion.engine import Report, inline_ignores, internal_error, is_suppressed
from bastion.findings import Confidence, Finding, Location, Severity, Span
from bastion.graph.resolve import load_roots, resolve_graph
from bastion.model.expressions import (
    ExpressionError,
    context_paths,
    find_expressions,
    parse_expression,
)
from bastion.model.gaps import INPUT_REFERENCE, Context, Gap, input_defaults
from bastion.model.graph import (
    SEPARATOR,
    Chain,
    Edge,
    Graph,
    Mark,
    MarkStatus,
    Node,
    NodeKey,
    NodeKind,
    Problem,
    ProblemKind,
)
from bastion.model.workflow import Action, Job, Step, Workflow
from bastion.pinning.resolver import default_resolver
from bastion.rules import RULES
from bastion.rules.base import Rule, gap_of
from bastion.rules.release import release_jobs
from bastion.rules.syntax_error import SyntaxError_
from bastion.rules.taint import attacker_source
from bastion.rules.unknown_ref import UnknownRef
from bastion.rules.unresolved_uses import UnresolvedUses
from bastion.source.text import LineIndex
from bastion.source.yaml import MappingNode, ScalarNode

COVERED: frozenset[str] = frozenset(
    {
        "unpinned-action",  # nested-mutable-uses
        "unpinned-image",  # mutable-docker-image
        "unverified-download",  # nested-unverified-download
    }
)
"""File rules that a graph rule stands for on called files (with the remedy a caller has)."""
CALLER_DECIDES = frozenset({"dangerous-trigger", "excessive-permissions"})
"""File rules about a workflow's own triggers and token: a called workflow runs on its
caller's event, with at most its caller's permissions."""
GRAPH_RULES = frozenset(
    rule.id for rule in RULES if not rule.checks_files and "check_node" in vars(rule)
)
"""The rules that only the graph audits run."""
OWN_DOCKERFILE_RULES = frozenset({"mutable-docker-image"})
"""Graph rules that also run on a docker action of the user's checkout: the file pass does
not read Dockerfiles (the rule leaves the action file itself to the file pass)."""
SKIPPED_KINDS = frozenset({NodeKind.ROOT, NodeKind.IMAGE, NodeKind.UNRESOLVED})
WEB = "https://github.com"


@dataclass(frozen=True, slots=True)
class _Found:
    rule: Rule
    gap: Gap
    node: Node
    chain: Chain


def audit(
    graph: Graph,
    config: Config,
    display: Callable[[str], str] | None = None,
    errors: list[str] | None = None,
) -> list[Finding]:
    """Every finding of the rules ``config`` enables on the nodes of ``graph``, filtered
    like the file pass's (severity, confidence, path ignores, inline ignores), sorted.

    A finding's ``path`` is its root file's path in the graph, or ``display(path)``: the
    path the file pass reports the same file under. A rule that crashes on a node is told
    in ``errors``."""
    rules = [
        rule(config.rule_settings.get(rule.id))
        for rule in RULES
        if config.enabled(rule.id) and rule is not SyntaxError_ and _runs_on_graph(rule)
    ]
    findings: dict[tuple[object, ...], Finding] = {}
    for found in _audit(graph, rules, errors if errors is not None else []):
        finding = _finding(graph, found)
        if finding is None or not _kept(graph, config, finding):
            continue
        last = finding.via[-1] if finding.via else None
        key = (finding.rule, finding.path, finding.span, last.path if last else "", last)
        if display is not None:
            finding = finding._replace(path=display(finding.path))
        findings.setdefault(key, finding)
    return sorted(findings.values(), key=lambda f: (*f.sort_key, f.message))


def add_to_report(
    report: Report, graph: Graph, config: Config, display: Callable[[str], str] | None = None
) -> None:
    """Add the graph's findings to ``report``, `unresolved-uses` included, with the user's
    lines they point at."""
    shown = display or (lambda path: path)
    found = audit(graph, config, shown, report.errors)
    found.extend(_unresolved_findings(report, graph, config, shown))
    report.findings.extend(found)
    report.findings.sort(key=lambda f: f.sort_key)
    lines_by_path = {
        shown(root.metadata): root.view.lines
        for key in graph.roots
        if (root := graph.nodes.get(key)) is not None and root.view is not None
    }
    for finding in found:
        lines = lines_by_path.get(finding.path)
        if lines is not None:
            number = finding.span.start.line
            report.source_lines.setdefault(finding.path, {})[number] = lines.line_text(number)


def audit_paths(
    report: Report, paths: list[str], config: Config, github_url: str | None
) -> list[str]:
    """``bastion check --graph``: resolve the graph of each path (a checkout, or a file in
    one) and add its findings to ``report``; what could not be resolved comes back as
    messages (``file:line: ...`` at the ``uses:`` that brought it in)."""
    notes: list[str] = []
    resolver = default_resolver(github_url)
    for path in paths:
        target = Path(path)
        if path == "-" or not target.exists():
            continue
        roots, checkout, errors = load_roots(target, config.excludes)
        notes.extend(errors)
        if not roots:
            continue
        graph = resolve_graph(roots, resolver, checkout=checkout)

        def display(relative: str, checkout: Path = checkout) -> str:
            shown = (checkout / relative).as_posix()
            return shown.removeprefix("./")

        add_to_report(report, graph, config, display)
        for problem in graph.problems:
            note = f"graph: {_problem_note(graph, problem, display)}"
            # The audit could not run there: an error (exit 2), as for `check --online`.
            if problem.kind in _INCOMPLETE:
                report.errors.append(note)
            elif not config.enabled(UnresolvedUses.id) or _unresolved(graph, problem) is None:
                notes.append(note)
    return notes


_INCOMPLETE = frozenset({ProblemKind.FETCH_FAILED, ProblemKind.ACCESS_DENIED})
"""Problems that leave part of the graph unaudited for reasons outside the files (network,
server, permissions, rate limit), rather than saying something about them."""
_UNRESOLVED: dict[ProblemKind, tuple[Severity, Confidence]] = {
    # Private without a token looks the same as gone: medium confidence.
    ProblemKind.REPOSITORY_NOT_FOUND: (Severity.HIGH, Confidence.MEDIUM),
    ProblemKind.REF_NOT_FOUND: (Severity.MEDIUM, Confidence.HIGH),
    # A local action may come from another checkout than the one bastion reads.
    ProblemKind.FILE_MISSING: (Severity.MEDIUM, Confidence.MEDIUM),
    ProblemKind.MALFORMED: (Severity.MEDIUM, Confidence.HIGH),
    ProblemKind.LIMIT: (Severity.MEDIUM, Confidence.HIGH),
    ProblemKind.CYCLE: (Severity.MEDIUM, Confidence.HIGH),
    ProblemKind.INVALID_USES: (Severity.LOW, Confidence.HIGH),
}
"""The severity and confidence of `unresolved-uses` for each kind of problem."""


def _unresolved(graph: Graph, problem: Problem) -> Finding | None:
    """The `unresolved-uses` finding of a problem, at the user's line that leads to it;
    None for a root file that cannot be read (the file pass reports it)."""
    edge = problem.edge
    led = _leading_edge(graph, edge) if edge is not None else None
    if edge is None or led is None:
        return None
    first, chain = led
    via: list[Location] = []
    message = problem.message
    if chain is not None:
        via = [_location(e.source, e.file, e.span, f"`{e.uses}`") for e in chain.edges[1:]]
        via.append(_location(edge.source, edge.file, edge.span, f"`{edge.uses}`"))
        message = f"{message} (via {chain}{SEPARATOR}{edge.uses})"
    severity, confidence = _UNRESOLVED[problem.kind]
    return Finding(
        UnresolvedUses.id,
        severity,
        confidence,
        message,
        first.file,
        first.span,
        first.route,
        via=tuple(via),
    )


def _unresolved_findings(
    report: Report, graph: Graph, config: Config, display: Callable[[str], str]
) -> list[Finding]:
    """The graph's `unresolved-uses` findings that the configuration keeps, once each, less
    those `unknown-ref` (`--online`) already makes at the same line of the user's file."""
    if not config.enabled(UnresolvedUses.id):
        return []
    online = {(f.path, f.span.start.line) for f in report.findings if f.rule == UnknownRef.id}
    found: dict[tuple[str, int, int, str], Finding] = {}
    for problem in graph.problems:
        finding = None if problem.kind in _INCOMPLETE else _unresolved(graph, problem)
        if finding is None or not _kept(graph, config, finding):
            continue
        finding = finding._replace(path=display(finding.path))
        line, column = finding.span.start.line, finding.span.start.column
        if not finding.via and (finding.path, line) in online:
            continue
        found.setdefault((finding.path, line, column, finding.message), finding)
    return list(found.values())


def _problem_note(graph: Graph, problem: Problem, display: Callable[[str], str]) -> str:
    """``file:line:column: message`` at the user's line that leads to the problem (and the
    chain, when the ``uses:`` at fault is in a called file)."""
    edge = problem.edge
    led = _leading_edge(graph, edge) if edge is not None else None
    if edge is None or led is None:
        return problem.message
    first, chain = led
    via = "" if chain is None else f" (via {chain}{SEPARATOR}{edge.uses})"
    where = f"{display(first.file)}:{first.span.start.line}:{first.span.start.column}"
    return f"{where}: {problem.message}{via}"


def _leading_edge(graph: Graph, edge: Edge) -> tuple[Edge, Chain | None] | None:
    """The ``uses:`` of the user's file that leads to ``edge`` (``edge`` itself when it is
    in a root file, with no chain), and the chain to ``edge``'s file; None when no root
    reaches it."""
    if edge.source in graph.roots:
        return edge, None
    chains = graph.chains(edge.source, limit=1)
    return (chains[0].edges[0], chains[0]) if chains else None


def marks(graph: Graph) -> list[Mark]:
    """For ``bastion graph``: a ``gap`` mark for each graph-rule finding and a ``finding``
    mark for each file-rule finding, on the node it is about (default configuration)."""
    rules = [rule() for rule in RULES if rule is not SyntaxError_ and _runs_on_graph(rule)]
    seen: set[tuple[NodeKey, str, str]] = set()
    found: list[Mark] = []
    for item in _audit(graph, rules, []):
        message = f"{item.gap.file}:{item.gap.span.start.line}: {item.gap.message}"
        key = (item.node.key, item.rule.id, message)
        if key in seen:
            continue
        seen.add(key)
        status: MarkStatus = "gap" if item.rule.id in GRAPH_RULES else "finding"
        found.append(Mark(status, item.node.key, message, item.rule.id, item.chain.edges[-1]))
    return found


def _runs_on_graph(rule: type[Rule]) -> bool:
    return rule.checks_files or "check_node" in vars(rule)


def _audit(graph: Graph, rules: list[Rule], errors: list[str]) -> list[_Found]:
    """What ``rules`` find on the graph; a rule that crashes on a node is reported in
    ``errors`` (as the file pass does) and the rest is still audited."""
    releases = _release_jobs(graph)
    found: list[_Found] = []
    for node in graph.walk():
        if node.kind in SKIPPED_KINDS:
            continue
        chains = graph.chains(node.key)
        if not chains:
            continue
        own = node.own
        contexts = [_context(graph, chain, releases) for chain in chains]
        for rule in rules:
            if rule.id in GRAPH_RULES - OWN_DOCKERFILE_RULES and own:
                continue
            try:
                found.extend(_rule_on_node(rule, node, contexts, own))
            except Exception:
                errors.append(internal_error(rule, str(node.key)))
    return found


def _rule_on_node(rule: Rule, node: Node, contexts: list[Context], own: bool) -> list[_Found]:
    found: list[_Found] = []
    if (
        rule.checks_files
        and not own
        and rule.id not in COVERED | CALLER_DECIDES
        and not _attests_itself(rule, node)
    ):
        gaps = list(_file_hits(rule, node))
        for context in contexts:
            found.extend(
                _Found(rule, gap, node, context.chain)
                for gap in gaps
                if not _constant_input(rule, gap, context)
                and not _secret_not_passed(rule, gap, node, context)
            )
    if "check_node" in vars(type(rule)):
        for context in contexts:
            found.extend(
                _Found(rule, gap, node, context.chain) for gap in rule.check_node(node, context)
            )
    return found


def _attests_itself(rule: Rule, node: Node) -> bool:
    """`missing-provenance` in a workflow of a repository whose reusable workflows are the
    attestation (knowledge `attests-whole-repository`: the SLSA generator's builders create
    and sign provenance with their own binary, which no attest step shows)."""
    if rule.id != "missing-provenance" or node.kind is not NodeKind.REUSABLE_WORKFLOW:
        return False
    info = knowledge.named(f"{node.key.owner}/{node.key.repo}".lower())
    return info is not None and info.attests_whole_repository


_ACTION_INPUT = re.compile(r"`inputs\.([A-Za-z0-9_-]+)`")
_FROM_CALLER = (
    "is controlled by the workflow that uses this action",
    "is controlled by whoever dispatches or calls the workflow",
)
"""How `template-injection` says that an action's or a called workflow's input reaches a
script."""


def _constant_input(rule: Rule, gap: Gap, context: Context) -> bool:
    """A `template-injection` of a called action's inputs that this caller fills with what
    no outsider writes (text, the action's default, or `matrix`, `vars`, `secrets`,
    `inputs` and `github` fields that are not attacker sources)."""
    if rule.id != "template-injection" or not any(t in gap.message for t in _FROM_CALLER):
        return False
    names = _ACTION_INPUT.findall(gap.message)
    return bool(names) and all(_trusted(context.inputs.get(name, ""), context) for name in names)


_SECRET_NAMES = re.compile(r"the secrets? ((?:`[^`]+`(?:, | and )?)+)")


def _secret_not_passed(rule: Rule, gap: Gap, node: Node, context: Context) -> bool:
    """A `secret-outside-environment` in a called workflow of secrets its caller does not
    pass: a called workflow sees only the secrets the calling job passes (`secrets:`), or
    the caller's own with `secrets: inherit` ("Reusing workflows"); unpassed, they are
    empty."""
    if rule.id != "secret-outside-environment" or node.kind is not NodeKind.REUSABLE_WORKFLOW:
        return False
    if context.secrets is None:
        return False
    if not context.secrets:
        return True  # no secret at all reaches it (`GITHUB_TOKEN` is not reported)
    match = _SECRET_NAMES.search(gap.message)
    if match is None or "every secret" in gap.message or "computed at run time" in gap.message:
        return False
    names = {name.lower() for name in re.findall(r"`([^`]+)`", match.group(1))}
    return not names & context.secrets


_TRUSTED_CONTEXTS = frozenset({"matrix", "vars", "secrets", "inputs", "runner", "strategy"})


def _trusted(value: str, context: Context, depth: int = 0) -> bool:
    """Whether no outsider can write ``value``: ``env`` values of the root workflow and job
    are followed; ``steps`` and ``needs`` outputs are not, so they count as untrusted."""
    if depth > 3:
        return False
    for embedded in find_expressions(value):
        try:
            paths = context_paths(parse_expression(embedded.source))
        except ExpressionError:
            return False
        for path in paths:
            root = path.parts[0]
            if root in _TRUSTED_CONTEXTS:
                continue
            if root == "env" and len(path.parts) > 1:
                defined = context.env.get(path.parts[1].lower())
                if defined is not None and _trusted(defined, context, depth + 1):
                    continue
                return False
            if root == "needs" and _only_results(path.parts, context):
                continue
            if root != "github" or attacker_source(path) is not None:
                return False
    return True


def _only_results(parts: tuple[str, ...], context: Context) -> bool:
    """A `needs` value that holds no text a job wrote: `needs.<job>.result`, or `needs` (or
    one job's entry, as in `toJSON(needs)`) when the root workflow's needed jobs declare no
    `outputs` and call no reusable workflow (whose outputs are its own): only their results,
    `success`, `failure`, `cancelled` or `skipped`, are left."""
    if len(parts) >= 3 and parts[2] == "result":
        return True
    if context.job is None or context.workflow is None or len(parts) >= 3:
        return False
    named = context.job.needs if len(parts) == 1 else [parts[1]]
    jobs = {job.job_id: job for job in context.workflow.jobs}
    return all(
        name in jobs and jobs[name].uses is None and _no_outputs(jobs[name]) for name in named
    )


def _no_outputs(job: Job) -> bool:
    value = job.fields.get("outputs")
    return value is None or (isinstance(value, MappingNode) and not value.value)


def _file_hits(rule: Rule, node: Node) -> Iterator[Gap]:
    view = node.view
    if isinstance(view, Workflow):
        hits = rule.check_workflow(view)
    elif isinstance(view, Action):
        hits = rule.check_action(view)
    else:
        return
    for hit in hits:
        yield gap_of(hit, node.metadata)


def _release_jobs(graph: Graph) -> dict[tuple[NodeKey, str], str]:
    """Why each release job of the root workflows is one, by (root, job id)."""
    found: dict[tuple[NodeKey, str], str] = {}
    for key in graph.roots:
        root = graph.nodes.get(key)
        workflow = root.workflow if root is not None else None
        if workflow is not None:
            for release in release_jobs(workflow):
                found[(key, release.job.job_id)] = release.why
    return found


def _context(graph: Graph, chain: Chain, releases: dict[tuple[NodeKey, str], str]) -> Context:
    first = chain.edges[0]
    root = graph.nodes.get(first.source)
    workflow = root.workflow if root is not None else None
    job = next((j for j in workflow.jobs if j.job_id == chain.job), None) if workflow else None
    why = releases.get((first.source, chain.job)) if chain.job is not None else None
    env: dict[str, str] = {}
    for fields in (workflow.fields if workflow else None, job.fields if job else None):
        for entry in (fields.mapping("env") if fields else None) or ():
            if isinstance(entry.value, ScalarNode):
                env[entry.key.value.lower()] = entry.value.value
    secrets = _passed_secrets(graph, chain.edges)
    return Context(chain, job, why, _passed(graph, chain.edges), env, workflow, secrets)


def _passed_secrets(graph: Graph, edges: tuple[Edge, ...]) -> frozenset[str] | None:
    """The secrets the last ``uses:`` of ``edges`` passes when it is a job's call of a
    workflow (none without ``secrets:``); a ``name: ${{ secrets.OTHER }}`` counts only when
    the call before passes ``OTHER`` (the root's secrets are all there). None for
    ``secrets: inherit`` of everything the caller has, an expression, or a step."""
    edge = edges[-1]
    source = graph.nodes.get(edge.source)
    view = source.view if source is not None else None
    owner = _owner(view, edge.route.removesuffix("/uses")) if view is not None else None
    if not isinstance(owner, Job):
        return None
    value = owner.fields.get("secrets")
    outer = _passed_secrets(graph, edges[:-1]) if len(edges) > 1 else None
    if value is None:
        return frozenset()
    if isinstance(value, ScalarNode) and value.value.strip() == "inherit":
        return outer
    if not isinstance(value, MappingNode):
        return None
    passed: set[str] = set()
    for key, given in value.value:
        if not isinstance(key, ScalarNode):
            continue
        match = (
            _SECRET_VALUE.fullmatch(given.value.strip()) if isinstance(given, ScalarNode) else None
        )
        if match is None or outer is None or match.group(1).lower() in outer:
            passed.add(key.value.lower())
    return frozenset(passed)


_SECRET_VALUE = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_-]+)\s*\}\}")


def _passed(graph: Graph, edges: tuple[Edge, ...]) -> dict[str, str]:
    """The ``with:`` values the last ``uses:`` of ``edges`` passes (scalars only), with each
    ``${{ inputs.NAME }}`` replaced by what the caller before it passes, or its default."""
    edge = edges[-1]
    source = graph.nodes.get(edge.source)
    view = source.view if source is not None else None
    owner = _owner(view, edge.route.removesuffix("/uses")) if view is not None else None
    inputs = owner.fields.mapping("with") if owner is not None else None
    passed = {
        entry.key.value: entry.value.value
        for entry in inputs or ()
        if isinstance(entry.value, ScalarNode)
    }
    if view is None or not any(
        INPUT_REFERENCE.fullmatch(value.strip()) for value in passed.values()
    ):
        return passed
    outer = _passed(graph, edges[:-1]) if len(edges) > 1 else {}
    defaults = input_defaults(view)
    for name, value in passed.items():
        match = INPUT_REFERENCE.fullmatch(value.strip())
        if match is not None:
            forwarded = match.group(1) or match.group(2)
            given = outer.get(forwarded, defaults.get(forwarded))
            if given is not None:
                passed[name] = given
    return passed


def _owner(view: Action | Workflow, route: str) -> Step | Job | None:
    """The step or job of ``view`` at ``route`` (or holding it)."""
    candidates: list[Step | Job] = []
    if isinstance(view, Workflow):
        for job in view.jobs:
            candidates.append(job)
            candidates.extend(job.steps)
    else:
        candidates.extend(view.steps)
    best: Step | Job | None = None
    for candidate in candidates:
        inside = route == candidate.route or route.startswith(f"{candidate.route}/")
        if inside and (best is None or len(candidate.route) > len(best.route)):
            best = candidate
    return best


def _location(key: NodeKey, file: str, span: Span, label: str) -> Location:
    if key.is_checkout:
        return Location(file, span, label)
    path = f"{key.owner}/{key.repo}/{file}@{key.commit}"
    uri = f"{WEB}/{key.owner}/{key.repo}/blob/{key.commit}/{file}#L{span.start.line}"
    return Location(path, span, label, uri)


def _finding(graph: Graph, found: _Found) -> Finding | None:
    chain, gap, node = found.chain, found.gap, found.node
    first = chain.edges[0]
    via = [
        _location(edge.source, edge.file, edge.span, f"`{edge.uses}`") for edge in chain.edges[1:]
    ]
    called = _called_uses(node, gap.route)
    label = f"`{called}`" if called else f"{gap.file}:{gap.span.start.line}"
    via.append(_location(node.key, gap.file, gap.span, label))
    text = str(chain) + (f"{SEPARATOR}{called}" if called else "")
    where = f"{node.key.slug}@{_short(node.key)}" if not node.key.is_checkout else node.key.path
    message = f"{gap.message} (in {where}, {gap.file}:{gap.span.start.line}; via {text})"
    return Finding(
        found.rule.id,
        gap.severity if gap.severity is not None else found.rule.severity,
        gap.confidence if gap.confidence is not None else found.rule.confidence,
        message,
        first.file,
        first.span,
        first.route,
        via=tuple(via),
    )


def _short(key: NodeKey) -> str:
    return key.commit[:12] if key.commit else key.ref


def _called_uses(node: Node, route: str) -> str | None:
    """The ``uses:`` of the step a route of the node's file points into, if it has one."""
    view = node.view
    if view is None or not route:
        return None
    owner = _owner(view, route)
    return owner.uses.text if owner is not None and owner.uses is not None else None


def _root_lines(graph: Graph, path: str) -> LineIndex | None:
    for key in graph.roots:
        root = graph.nodes.get(key)
        if root is not None and root.metadata == path and root.view is not None:
            return root.view.lines
    return None


def _kept(graph: Graph, config: Config, finding: Finding) -> bool:
    if finding.severity < config.min_severity or finding.confidence < config.min_confidence:
        return False
    if finding.rule in config.ignored_for_path(finding.path):
        return False
    lines = _root_lines(graph, finding.path)
    suppressed = inline_ignores(lines) if lines is not None else {}
    return not (suppressed and is_suppressed(finding, suppressed))
