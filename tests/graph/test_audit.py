"""The audits over the graph, on graphs built here from the real files of corpus/actions.

:func:`graph_of` is a small stand-in for the resolver: it reads a root workflow written in
the test and resolves each ``uses:`` it names (and the ``uses:`` of what they call) to a
commit folder of ``shared/corpus/actions`` given by the test, so the audits run on the real
bytes of the real actions, offline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from io import StringIO
from pathlib import Path

import jsonschema
import pytest

from bastion.cli import main
from bastion.config import Config
from bastion.engine import Report
from bastion.findings import Finding
from bastion.graph.audit import GRAPH_RULES, audit, marks
from bastion.graph.resolve import RootFile, load_roots, resolve_graph
from bastion.model.graph import Edge, Graph, Node, NodeKey, NodeKind
from bastion.model.uses import UsesKind, parse_uses
from bastion.model.workflow import Action, Workflow, build_action, build_workflow
from bastion.render import json as json_render
from bastion.render import sarif
from bastion.source.yaml import node_span, parse
from tests.graph.conftest import World
from tests.graph.corpus import ACTIONS
from tests.shared import SARIF_SCHEMA, require

Target = tuple[str, str, str]
"""``(OWNER__REPO folder, commit prefix, action path)`` in corpus/actions."""


def _commit_folder(repo: str, prefix: str) -> Path:
    base = require(ACTIONS) / repo
    (found,) = [path for path in base.iterdir() if path.name.startswith(prefix)]
    return found


def _called(target: Target) -> Node:
    repo, prefix, path = target
    folder = _commit_folder(repo, prefix)
    owner, name = repo.split("__", 1)
    files = {
        file.relative_to(folder).as_posix(): file.read_bytes()
        for file in folder.rglob("*")
        if file.is_file()
    }
    key = NodeKey(owner, name, path, folder.name)
    if path.startswith(".github/workflows/"):
        node = Node(key, NodeKind.REUSABLE_WORKFLOW, path, files)
        node.view = build_workflow(path, parse(files[path].decode()))
        return node
    metadata = next(
        name
        for name in (f"{path}/action.yml", f"{path}/action.yaml", "action.yml", "action.yaml")
        if name.lstrip("/") in files and (path or "/" not in name)
    ).lstrip("/")
    action = build_action(metadata, parse(files[metadata].decode()))
    kinds = {"composite": NodeKind.COMPOSITE, "docker": NodeKind.DOCKER}
    node = Node(key, kinds.get(action.using or "", NodeKind.JAVASCRIPT), metadata, files)
    node.view = action
    return node


def _uses_of(view: Action | Workflow) -> list[tuple[str, object, str, str | None]]:
    found: list[tuple[str, object, str, str | None]] = []
    if isinstance(view, Workflow):
        for job in view.jobs:
            if job.uses_node is not None:
                found.append((job.uses_node.value, job.uses_node, f"{job.route}/uses", job.job_id))
            for step in job.steps:
                if step.uses_node is not None:
                    uses = step.uses_node
                    found.append((uses.value, uses, f"{step.route}/uses", job.job_id))
    else:
        for step in view.steps:
            if step.uses_node is not None:
                found.append((step.uses_node.value, step.uses_node, f"{step.route}/uses", None))
    return found


def graph_of(path: str, text: str, targets: Mapping[str, Target]) -> Graph:
    """The graph of the workflow ``text`` at ``path``; ``targets`` resolves ``uses:``
    spellings (others are left out, as if they had no files)."""
    graph = Graph()
    root = Node(NodeKey("", "", path, ""), NodeKind.ROOT, path, {path: text.encode()})
    root.view = build_workflow(path, parse(text))
    graph.roots.append(root.key)
    graph.add_node(root)
    pending = [root]
    while pending:
        source = pending.pop()
        assert source.view is not None
        for spelling, uses_node, route, job in _uses_of(source.view):
            target = targets.get(spelling)
            if target is None or parse_uses(spelling).kind is not UsesKind.REPOSITORY:
                continue
            node = _called(target)
            if node.key not in graph.nodes:
                graph.add_node(node)
                pending.append(node)
            span = node_span(uses_node)  # type: ignore[arg-type]
            edge = Edge(
                source.key,
                node.key,
                spelling,
                parse_uses(spelling),
                source.metadata,
                span,
                route,
                job,
            )
            graph.add_edge(edge)
    return graph


def _only(findings: list[Finding], rule: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule == rule]


TANSTACK_SETUP = ("TanStack__config", "e3320dda8f4c", ".github/setup")

RELEASE = """\
name: release
on:
  push:
    tags: ["v*"]
permissions: {}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: release
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: TanStack/config/.github/setup@main
      - run: npm publish --provenance
"""


def test_tanstack_release_cache_through_a_called_composite() -> None:
    graph = graph_of(
        ".github/workflows/release.yml",
        RELEASE,
        {"TanStack/config/.github/setup@main": TANSTACK_SETUP},
    )
    (finding,) = _only(audit(graph, Config()), "release-cache")
    assert (finding.path, finding.span.start.line, finding.span.start.column) == (
        ".github/workflows/release.yml",
        12,
        15,
    )
    assert finding.route == "jobs/publish/steps/1/uses"
    assert (
        "via release.yml \u203a job publish \u203a TanStack/config/.github/setup@main "
        "\u203a actions/cache@v4.2.0)"
    ) in finding.message
    assert finding.message.startswith(
        "job `publish` publishes with `npm publish` and restores or saves the Actions cache "
        "with `actions/cache`"
    )
    (place,) = finding.via
    commit = "e3320dda8f4c735292787ba0fc18bb52b2c6f5e5"
    assert place.path == f"TanStack/config/.github/setup/action.yml@{commit}"
    assert place.span.start.line == 17
    assert place.label == "`actions/cache@v4.2.0`"
    assert place.uri == (
        f"https://github.com/TanStack/config/blob/{commit}/.github/setup/action.yml#L17"
    )
    # The same composite called by a job that does not release: no release-cache.
    tests = RELEASE.replace('tags: ["v*"]', "branches: [main]").replace(
        "      - run: npm publish --provenance\n", "      - run: npm test\n"
    )
    graph = graph_of(
        ".github/workflows/ci.yml", tests, {"TanStack/config/.github/setup@main": TANSTACK_SETUP}
    )
    assert _only(audit(graph, Config()), "release-cache") == []


def test_tanstack_chain_in_json_and_sarif() -> None:
    graph = graph_of(
        ".github/workflows/release.yml",
        RELEASE,
        {"TanStack/config/.github/setup@main": TANSTACK_SETUP},
    )
    findings = _only(audit(graph, Config()), "release-cache")
    report = Report(findings, 1, [])
    out = StringIO()
    json_render.render(report, out)
    (emitted,) = json.loads(out.getvalue())["findings"]
    assert emitted["line"] == 12
    (via,) = emitted["via"]
    assert (via["line"], via["label"]) == (17, "`actions/cache@v4.2.0`")
    assert via["path"].startswith("TanStack/config/.github/setup/action.yml@e3320dda")
    result = sarif.document(report)["runs"][0]["results"][0]  # type: ignore[index]
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 17
    assert related["physicalLocation"]["artifactLocation"]["uri"].startswith(
        "https://github.com/TanStack/config/blob/e3320dda"
    )
    schema = json.loads(require(SARIF_SCHEMA).read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(sarif.document(report))] == []
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [step["location"]["physicalLocation"]["region"]["startLine"] for step in flow] == [
        12,
        17,
    ]


def test_nested_gaps_point_at_the_users_line() -> None:
    workflow = """\
on: push
permissions: {}
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: tj-actions/eslint-changed-files@536c35c8184b
      - uses: montudor/action-zip@0852c26906e0
      - uses: aquasecurity/setup-trivy@81e514348e19
      - uses: aquasecurity/setup-trivy@81e514348e19
        with:
          version: v0.65.0
"""
    graph = graph_of(
        ".github/workflows/lint.yml",
        workflow,
        {
            "tj-actions/eslint-changed-files@536c35c8184b": (
                "tj-actions__eslint-changed-files",
                "536c35c8184b",
                "",
            ),
            "montudor/action-zip@0852c26906e0": ("montudor__action-zip", "0852c26906e0", ""),
            "aquasecurity/setup-trivy@81e514348e19": (
                "aquasecurity__setup-trivy",
                "81e514348e19",
                "",
            ),
        },
    )
    findings = audit(graph, Config())
    got = {
        (f.rule, f.span.start.line, f.via[-1].path.split("@")[0], f.via[-1].span.start.line)
        for f in findings
        if f.rule
        in ("nested-unverified-download", "mutable-docker-image", "latest-version-default")
    }
    assert (
        "nested-unverified-download",
        7,
        "tj-actions/eslint-changed-files/entrypoint.sh",
        24,
    ) in got
    assert ("mutable-docker-image", 8, "montudor/action-zip/Dockerfile", 1) in got
    # setup-trivy's `version: latest` default: reported where it is not overridden (line 9),
    # not where the caller passes an exact version (line 10).
    trivy = {(line, where) for rule, line, where, _ in got if rule == "latest-version-default"}
    assert trivy == {(9, "aquasecurity/setup-trivy/action.yaml")}
    assert {mark.status for mark in marks(graph)} >= {"gap"}


# Through the resolver, against the loopback git server of tests/graph (real refs and ids)

RESOLVED = """\
on:
  push:
    tags: ["v*"]
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: montudor/action-zip@v1.0.0
      - uses: aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25
      - uses: sigstore/cosign-installer@main
"""


def test_resolved_graph_gaps_and_controls(fresh: World, tmp_path: Path) -> None:
    root = RootFile(".github/workflows/release.yml", RESOLVED)
    graph = resolve_graph([root], fresh.resolver(tmp_path / "cache"))
    found = {
        (f.rule, f.span.start.line, f.via[-1].path.split("@")[0], f.via[-1].span.start.line)
        for f in audit(graph, Config())
    }
    assert ("mutable-docker-image", 9, "montudor/action-zip/Dockerfile", 1) in found
    # trivy-action pins its Trivy version and calls setup-trivy by SHA with that version:
    # setup-trivy's own `latest` default is not what runs, so nothing is reported there;
    # cosign-installer's pinned default and checked download are not reported either.
    assert not [item for item in found if item[1] in (10, 11) and item[0] in GRAPH_RULES]


def test_check_graph_on_the_command_line(
    fresh: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: graphtest/deep/level1@main\n      - uses: nobody/nothing@v1\n"
        "      - uses: graphtest/cycle-a@v1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    code = main(
        ["check", "--graph", "--no-config", "--select", "nested-mutable-uses", "--format",
         "json", "--github-url", fresh.url, "repo"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    findings = json.loads(captured.out)["findings"]
    first = findings[0]
    assert (first["rule"], first["path"], first["line"]) == (
        "nested-mutable-uses",
        "repo/.github/workflows/ci.yml",
        7,
    )
    assert first["via"][0]["path"].startswith("graphtest/deep/level1/action.yml@")
    assert (
        "via ci.yml \u203a job build \u203a graphtest/deep/level1@main \u203a " in first["message"]
    )
    assert "bastion: graph: repo/.github/workflows/ci.yml:8:15: " in captured.err
    # A problem in a called file is told at the user's line, with the chain.
    assert (
        "bastion: graph: repo/.github/workflows/ci.yml:9:15: a cycle: graphtest/cycle-a@v1 "
        "calls back into graphtest/cycle-a, already on this path (via ci.yml \u203a job build "
        "\u203a graphtest/cycle-a@v1 \u203a graphtest/cycle-b@v1 \u203a graphtest/cycle-a@v1)"
    ) in captured.err


def test_template_injection_in_a_called_action_follows_what_the_caller_passes() -> None:
    workflow = """\
on: issues
permissions: {}
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: aquasecurity/setup-trivy@3fb12ec12f41
        with:
          version: v0.65.0
      - uses: aquasecurity/setup-trivy@3fb12ec12f41
        with:
          version: ${{ github.event.issue.title }}
      - uses: aquasecurity/setup-trivy@3fb12ec12f41
        with:
          version: ${{ env.TRIVY }}-${{ matrix.flavour }}
    env:
      TRIVY: v0.65.0
"""
    target = ("aquasecurity__setup-trivy", "3fb12ec12f41", "")
    graph = graph_of(
        ".github/workflows/scan.yml", workflow, {"aquasecurity/setup-trivy@3fb12ec12f41": target}
    )
    found = _only(audit(graph, Config()), "template-injection")
    # Only the step that passes attacker text: constants, defaults, and the job's own env
    # and matrix values cannot inject.
    assert {finding.span.start.line for finding in found} == {10}
    assert all("`inputs.version`" in finding.message for finding in found)


def test_release_cache_in_a_local_composite_of_the_checkout() -> None:
    """The user's own setup action is checked by the file pass; the graph adds the context:
    called by a release job, its cache is `release-cache`, at the workflow's `uses:`."""
    workflow = RELEASE.replace("TanStack/config/.github/setup@main", "./.github/actions/setup")
    action = (
        "name: setup\nruns:\n  using: composite\n  steps:\n"
        "    - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020\n"
        "      with:\n        cache: pnpm\n"
    )
    graph = Graph()
    root_path, action_path = ".github/workflows/release.yml", ".github/actions/setup/action.yml"
    root = Node(NodeKey("", "", root_path, ""), NodeKind.ROOT, root_path)
    root.view = build_workflow(root_path, parse(workflow))
    local = Node(NodeKey("", "", ".github/actions/setup", ""), NodeKind.LOCAL, action_path)
    local.view = build_action(action_path, parse(action))
    graph.roots.append(root.key)
    graph.add_node(root)
    graph.add_node(local)
    job = root.view.jobs[0]
    step = job.steps[1]
    assert step.uses_node is not None
    assert step.uses is not None
    span = node_span(step.uses_node)
    graph.add_edge(
        Edge(
            root.key,
            local.key,
            step.uses.text,
            step.uses,
            root_path,
            span,
            f"{step.route}/uses",
            "publish",
        )
    )
    found = audit(graph, Config())
    # Only the context finding: the action's own file rules ran in the file pass already.
    assert [(f.rule, f.span.start.line) for f in found] == [("release-cache", 12)]
    (place,) = found[0].via
    assert (place.path, place.span.start.line, place.uri) == (action_path, 7, "")
    assert "caches with `actions/setup-node` (`cache: pnpm`)" in found[0].message


def test_release_cache_follows_the_inputs_a_composite_forwards() -> None:
    """ultralytics/actions/setup-uv passes `enable-cache: ${{ inputs.enable-cache }}` (its
    default "false") to astral-sh/setup-uv: judged on what the release job passes."""
    workflow = RELEASE.replace(
        "      - uses: TanStack/config/.github/setup@main\n",
        "      - uses: ultralytics/actions/setup-uv@main\n"
        "      - uses: ultralytics/actions/setup-uv@main\n"
        "        with:\n"
        "          enable-cache: true\n",
    )
    target = ("ultralytics__actions", "bcf6ad522321", "setup-uv")
    graph = graph_of(
        ".github/workflows/release.yml", workflow, {"ultralytics/actions/setup-uv@main": target}
    )
    found = _only(audit(graph, Config()), "release-cache")
    assert {(f.span.start.line, f.confidence.label) for f in found} == {(13, "high")}
    assert {f.via[-1].span.start.line for f in found} == {38, 50}


def test_check_graph_that_cannot_reach_the_server_exits_2_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: actions/checkout@{'a' * 40} # v4\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    code = main(["check", "--graph", "--no-config", "--github-url", "http://127.0.0.1:1", "."])
    captured = capsys.readouterr()
    assert code == 2
    [note] = [line for line in captured.err.splitlines() if line.startswith("bastion: graph:")]
    assert note.startswith(
        "bastion: graph: .github/workflows/ci.yml:7:15: cannot reach http://127.0.0.1:1 "
    )


def test_check_graph_skips_what_the_configuration_excludes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bastion]\nexclude = ["fixtures/**"]\n', encoding="utf-8"
    )
    action = tmp_path / "fixtures" / "setup"
    action.mkdir(parents=True)
    (action / "action.yml").write_text(
        "name: x\ndescription: x\nruns:\n  using: composite\n  steps:\n"
        "    - uses: someone/else@v1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--graph", "--github-url", "http://127.0.0.1:1", "."])
    captured = capsys.readouterr()
    assert (code, [line for line in captured.err.splitlines() if "graph:" in line]) == (0, [])


def test_a_dockerfile_only_docker_action_has_its_from_audited(fresh: World, tmp_path: Path) -> None:
    """A folder with a Dockerfile and no action file is a docker action to the runner: its
    `FROM` is audited, for a called repository and for a local `./` action of the checkout
    (the file pass does not read Dockerfiles)."""
    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: graphtest/broken/bare@main\n      - uses: ./docker\n",
        encoding="utf-8",
    )
    (root / "docker").mkdir()
    digest = "@sha256:" + "b" * 64
    (root / "docker" / "dockerfile").write_text(
        f"FROM python:3 AS build\nFROM build\nFROM alpine:3.20{digest}\n", encoding="utf-8"
    )
    roots, checkout, errors = load_roots(root)
    assert errors == []
    graph = resolve_graph(roots, fresh.resolver(tmp_path / "cache"), checkout=checkout)
    found = [
        (f.span.start.line, f.via[-1].path.split("@")[0], f.via[-1].span.start.line, f.message)
        for f in _only(audit(graph, Config()), "mutable-docker-image")
    ]
    assert [item[:3] for item in found] == [
        (6, "graphtest/broken/bare/Dockerfile", 1),
        (7, "docker/dockerfile", 1),
    ]
    assert found[0][3].startswith(
        "the action's `bare/Dockerfile` builds on the image `alpine:3` by the tag `3`"
    )
    # The stage `build` is no image, and the digest-pinned base is not reported.
    assert "`python:3` by the tag `3`" in found[1][3]


def _cache_mode_findings(workflow: str) -> list[Finding]:
    graph = graph_of(
        ".github/workflows/release.yml",
        workflow,
        {"TanStack/config/.github/setup@main": TANSTACK_SETUP},
    )
    return _only(audit(graph, Config()), "release-cache")


def test_release_cache_through_the_graph_honours_the_workflows_and_the_jobs_cache_mode() -> None:
    """As the file rule: the job's `cache-mode:` wins over the workflow's; `none` and
    `write-only` restore nothing; `read` still restores, and the message says so."""
    at_workflow = RELEASE.replace("permissions: {}\n", "permissions: {}\ncache-mode: none\n")
    assert _cache_mode_findings(at_workflow) == []
    job_wins = at_workflow.replace(
        "    environment: release\n", "    environment: release\n    cache-mode: write\n"
    )
    (finding,) = _cache_mode_findings(job_wins)
    assert finding.span.start.line == 14
    assert finding.message.startswith(
        "job `publish` publishes with `npm publish` and restores or saves the Actions cache"
    )
    reads = RELEASE.replace("permissions: {}\n", "permissions: {}\ncache-mode: read\n")
    (finding,) = _cache_mode_findings(reads)
    assert finding.message.startswith(
        "job `publish` publishes with `npm publish` (cache mode the workflow's "
        "`cache-mode: read`, which still restores) and restores or saves"
    )
    only_writes = RELEASE.replace(
        "    environment: release\n", "    environment: release\n    cache-mode: write-only\n"
    )
    assert _cache_mode_findings(only_writes) == []


FALLBACK_AND_PACKAGES = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: taiki-e/install-action@v2.86.5
        with:
          tool: cargo-nextest
      - uses: taiki-e/install-action@v2.86.5
        with:
          tool: cargo-nextest
          fallback: none
      - uses: EmbarkStudios/cargo-deny-action@main
      - uses: montudor/action-zip@v1.0.0
"""


def test_fallback_installer_and_distribution_packages_through_the_resolver(
    fresh: World, tmp_path: Path
) -> None:
    """README cases 20, 22 and 26 on the loopback server: exact rule, line, called file and
    line, and chain; `fallback: none` closes case 20."""
    root = RootFile(".github/workflows/ci.yml", FALLBACK_AND_PACKAGES)
    graph = resolve_graph([root], fresh.resolver(tmp_path / "cache"))
    found = [
        (
            f.span.start.line,
            f.via[-1].path,
            f.via[-1].span.start.line,
            f.severity.label,
            f.confidence.label,
            f.message.rsplit("; via ", 1)[1],
        )
        for f in _only(audit(graph, Config()), "nested-unverified-download")
    ]
    install = "taiki-e/install-action/action.yml@ba47c86ac325773530516bb756137ac718732518"
    deny = "EmbarkStudios/cargo-deny-action/Dockerfile@f28dad79a1c0736fb9bef3766fec993bb67416c5"
    zipper = "montudor/action-zip/Dockerfile@0852c26906e00f8a315c704958823928d8018b28"
    chain = "ci.yml \u203a job build \u203a "
    assert found == [
        (7, install, 16, "low", "medium", f"{chain}taiki-e/install-action@v2.86.5)"),
        (14, deny, 7, "low", "medium", f"{chain}EmbarkStudios/cargo-deny-action@main)"),
        (14, deny, 8, "medium", "high", f"{chain}EmbarkStudios/cargo-deny-action@main)"),
        (15, zipper, 12, "low", "low", f"{chain}montudor/action-zip@v1.0.0)"),
    ]


ALLS_GREEN = """\
on: pull_request
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
  check:
    if: always()
    needs: [test]
    runs-on: ubuntu-latest
    steps:
      - uses: re-actors/alls-green@05ac9388f0aebcb5727afa17fcccfecd6f8ec5fe
        with:
          jobs: ${{ toJSON(needs) }}
"""


def test_template_injection_of_needs_that_hold_only_job_results() -> None:
    """re-actors/alls-green expands `inputs.jobs` into its script (action.yml:63); callers
    pass `toJSON(needs)`. When the needed jobs declare no `outputs`, that is only their
    results (`success`...): nothing an outsider writes. With outputs, it is reported."""
    target = ("re-actors__alls-green", "05ac9388f0ae", "")
    targets = {"re-actors/alls-green@05ac9388f0aebcb5727afa17fcccfecd6f8ec5fe": target}
    graph = graph_of(".github/workflows/ci.yml", ALLS_GREEN, targets)
    assert _only(audit(graph, Config()), "template-injection") == []
    outputs = ALLS_GREEN.replace(
        "    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
        "    runs-on: ubuntu-latest\n    outputs:\n      title: ${{ steps.t.outputs.title }}\n"
        "    steps:\n      - run: make test\n",
    )
    graph = graph_of(".github/workflows/ci.yml", outputs, targets)
    (finding,) = _only(audit(graph, Config()), "template-injection")
    assert (finding.span.start.line, finding.via[-1].span.start.line) == (15, 63)


DELEGATOR = (
    "slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml"
)
GENERATOR = """\
on:
  push:
    tags: ["v*"]
permissions: {}
jobs:
  build:
    permissions:
      id-token: write
      contents: read
      actions: read
    uses: DELEGATOR@main
    with:
      slsa-token: x
""".replace("DELEGATOR", DELEGATOR)


def test_secrets_a_called_workflow_reads_but_its_caller_does_not_pass() -> None:
    """slsa-github-generator's delegator hands `secrets.secret1`...`secret15` to the
    builder (lines 189-203): a called workflow sees only the secrets its caller passes, so
    without `secrets:` nothing is read; passing `secret1` leaves only what reads it."""
    target = ("slsa-framework__slsa-github-generator", "4d014fae4dbd", DELEGATOR.split("/", 2)[2])
    targets = {f"{DELEGATOR}@main": target}
    graph = graph_of(".github/workflows/release.yml", GENERATOR, targets)
    assert _only(audit(graph, Config()), "secret-outside-environment") == []
    passing = GENERATOR + "    secrets:\n      secret1: ${{ secrets.TOKEN }}\n"
    graph = graph_of(".github/workflows/release.yml", passing, targets)
    found = _only(audit(graph, Config()), "secret-outside-environment")
    assert {(f.span.start.line, f.via[-1].span.start.line) for f in found} == {(11, 189)}
    assert all("the secret `SECRET1`" in f.message for f in found)
    inherit = GENERATOR + "    secrets: inherit\n"
    graph = graph_of(".github/workflows/release.yml", inherit, targets)
    assert len(_only(audit(graph, Config()), "secret-outside-environment")) == 15


def test_the_slsa_generators_builders_are_the_attestation() -> None:
    """builder_go_slsa3.yml creates and signs the provenance with its own builder (line 337)
    and uploads it beside the binary (401): `missing-provenance` is not reported in it."""
    uses = "slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@main"
    workflow = GENERATOR.replace(f"{DELEGATOR}@main", uses)
    target = ("slsa-framework__slsa-github-generator", "4d014fae4dbd", uses.split("/", 2)[2][:-5])
    graph = graph_of(".github/workflows/release.yml", workflow, {uses: target})
    found = audit(graph, Config())
    assert _only(found, "missing-provenance") == []
    assert _only(found, "publish-outside-environment") != []  # the rest still runs


def test_readme_case_28_a_tag_and_a_branch_of_one_name(fresh: World, tmp_path: Path) -> None:
    """codecov/codecov-action has a tag and a branch named `v3` (README case 28): the tag is
    taken, as git's order of refs has it (both name one commit here)."""
    workflow = (
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - uses: codecov/codecov-action@v3\n"
    )
    graph = resolve_graph(
        [RootFile(".github/workflows/ci.yml", workflow)], fresh.resolver(tmp_path / "cache")
    )
    (node,) = [n for n in graph.nodes.values() if n.key.slug == "codecov/codecov-action"]
    assert (node.key.commit, node.ref_kinds) == (
        "ab904c41d6ece82784817410c45d8b8c02684457",
        {"v3": "tag"},
    )
    assert graph.problems == []


def test_cache_mode_of_the_workflow_through_the_resolver(fresh: World, tmp_path: Path) -> None:
    """TanStack/config/.github/setup at the commit that cached (e3320dda; its `main` now
    passes `cache: false`), on the loopback server: the workflow's `cache-mode: none` leaves
    nothing to restore; `read` is reported, saying so, at the user's line, with the chain."""
    resolver = fresh.resolver(tmp_path / "cache")
    pinned = "TanStack/config/.github/setup@e3320dda8f4c735292787ba0fc18bb52b2c6f5e5"
    release = RELEASE.replace("TanStack/config/.github/setup@main", pinned)
    none = release.replace("permissions: {}\n", "permissions: {}\ncache-mode: none\n")
    graph = resolve_graph([RootFile(".github/workflows/release.yml", none)], resolver)
    assert _only(audit(graph, Config()), "release-cache") == []
    reads = release.replace("permissions: {}\n", "permissions: {}\ncache-mode: read\n")
    graph = resolve_graph([RootFile(".github/workflows/release.yml", reads)], resolver)
    found = _only(audit(graph, Config()), "release-cache")
    assert [(f.span.start.line, f.via[-1].path.split("@")[0]) for f in found] == [
        (13, "TanStack/config/.github/setup/action.yml")
    ]
    assert "(cache mode the workflow's `cache-mode: read`, which still restores)" in (
        found[0].message
    )
    assert found[0].message.endswith(
        f"via release.yml \u203a job publish \u203a {pinned} \u203a actions/cache@v4.2.0)"
    )


MIDDLE = """\
on:
  workflow_call:
    secrets:
      token:
jobs:
  build:
    uses: DELEGATOR@main
    with:
      slsa-token: x
    secrets:
      secret1: ${{ secrets.token }}
      secret2: literal
""".replace("DELEGATOR", DELEGATOR)


@pytest.mark.parametrize(
    ("passed", "expected"),
    [
        ("", {"`SECRET2`"}),  # the middle's `token` is empty: nothing reaches secret1
        ("    secrets:\n      token: ${{ secrets.TOKEN }}\n", {"`SECRET1`", "`SECRET2`"}),
        ("    secrets: inherit\n", {"`SECRET1`", "`SECRET2`"}),
    ],
)
def test_a_secret_passed_on_counts_only_when_the_call_before_passes_it(
    passed: str, expected: set[str]
) -> None:
    """root → org/middle's reusable workflow → slsa-github-generator's delegator: the middle
    passes `secret1: ${{ secrets.token }}`, which holds something only when the root passes
    `token` (or inherits), and `secret2: literal`, which always does (delegator line 189
    on)."""
    root_text = (
        "on: push\npermissions: {}\njobs:\n  call:\n    uses: org/middle/.github/workflows/m.yml@"
        + "a" * 40
        + "\n"
        + passed
    )
    graph = graph_of(".github/workflows/ci.yml", root_text, {})
    root = graph.nodes[graph.roots[0]]
    middle_path = ".github/workflows/m.yml"
    middle = Node(NodeKey("org", "middle", middle_path, "a" * 40), NodeKind.REUSABLE_WORKFLOW)
    middle.metadata = middle_path
    middle.files = {middle_path: MIDDLE.encode()}
    middle.view = build_workflow(middle_path, parse(MIDDLE))
    graph.add_node(middle)
    assert root.workflow is not None
    job = root.workflow.jobs[0]
    assert job.uses is not None
    assert job.uses_node is not None
    graph.add_edge(
        Edge(root.key, middle.key, job.uses.text, job.uses, root.metadata,
             node_span(job.uses_node), f"{job.route}/uses", "call")
    )  # fmt: skip
    delegator = _called(
        ("slsa-framework__slsa-github-generator", "4d014fae4dbd", DELEGATOR.split("/", 2)[2])
    )
    graph.add_node(delegator)
    inner = middle.view.jobs[0]
    assert inner.uses is not None
    assert inner.uses_node is not None
    graph.add_edge(
        Edge(middle.key, delegator.key, inner.uses.text, inner.uses, middle_path,
             node_span(inner.uses_node), f"{inner.route}/uses", "build")
    )  # fmt: skip
    found = _only(audit(graph, Config()), "secret-outside-environment")
    named = {part for f in found for part in f.message.split() if part.startswith("`SECRET")}
    assert named == expected
    assert {f.span.start.line for f in found} == {5}  # the root's `uses:`


def test_check_graph_reports_what_leads_nowhere_as_unresolved_uses(
    fresh: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: nobody/nothing@v1\n      - uses: graphtest/cycle-a@v1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    code = main(
        ["check", "--graph", "--no-config", "--select", "unresolved-uses", "--format", "json",
         "--github-url", fresh.url, "repo"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == ""
    found = [
        (f["rule"], f["line"], f["column"], f["severity"], f["confidence"], len(f.get("via", [])))
        for f in json.loads(captured.out)["findings"]
    ]
    assert found == [
        ("unresolved-uses", 7, 15, "high", "medium", 0),
        ("unresolved-uses", 8, 15, "medium", "high", 2),
    ]
    messages = [f["message"] for f in json.loads(captured.out)["findings"]]
    assert messages[1] == (
        "a cycle: graphtest/cycle-a@v1 calls back into graphtest/cycle-a, already on this path "
        "(via ci.yml \u203a job build \u203a graphtest/cycle-a@v1 \u203a graphtest/cycle-b@v1 "
        "\u203a graphtest/cycle-a@v1)"
    )
