"""The immutability gaps, on the real files of shared/corpus/actions.

Each test names the real file and asserts the exact line: the cases are the "Notable real
cases" of the dataset's README (numbered as there), then its controls, then one pass of
every gap rule over every file of the dataset.

All 28 are covered. The two that were not: 20 (taiki-e/install-action's `fallback:
cargo-binstall`) is reported at `action.yml:16`, low severity, and conditionally, since
whether a given tool has a manifest is not in the dataset; 22's `apk add zip` (line 12)
is reported as a gap of immutability at low confidence beside its `FROM alpine:latest`.
28 is the resolver's: an annotated tag's id in tests/graph/test_resolve.py, the tag and
branch both named `v3` in tests/graph/test_audit.py, where 20, 22 and 26 also run through
the loopback resolver.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.engine import run
from bastion.findings import Confidence, Severity
from bastion.graph.audit import GRAPH_RULES
from bastion.inputs import Input, Kind
from bastion.model.dockerfile import parse_dockerfile
from bastion.model.gaps import (
    Context,
    Gap,
    dockerfile_downloads,
    dockerfile_images,
    dockerfile_system_packages,
    dockerfile_unpinned_installs,
    latest_version_defaults,
    nested_mutable_uses,
    run_step_downloads,
    script_downloads,
)
from bastion.model.graph import Chain, Node, NodeKey, NodeKind
from bastion.model.workflow import Action, Workflow, build_action, build_workflow
from bastion.rules import RULES_BY_ID
from bastion.source.yaml import parse
from tests.graph.corpus import ACTIONS
from tests.shared import require


def _folder(repo: str, prefix: str) -> Path:
    base = require(ACTIONS) / repo
    (found,) = [path for path in base.iterdir() if path.name.startswith(prefix)]
    return found


def _text(repo: str, prefix: str, path: str) -> str:
    return (_folder(repo, prefix) / path).read_text(encoding="utf-8")


def _view(repo: str, prefix: str, path: str) -> Action | Workflow:
    document = parse(_text(repo, prefix, path))
    if path.startswith(".github/workflows/"):
        return build_workflow(path, document)
    return build_action(path, document)


def _files(repo: str, prefix: str) -> dict[str, str]:
    folder = _folder(repo, prefix)
    return {
        file.relative_to(folder).as_posix(): file.read_text(encoding="utf-8")
        for file in folder.rglob("*")
        if file.is_file()
    }


def _lines(gaps: object) -> set[int]:
    assert not isinstance(gaps, list | set) or all(isinstance(g, Gap) for g in gaps)
    return {gap.span.start.line for gap in gaps}  # type: ignore[attr-defined]


def _node(repo: str, prefix: str, metadata: str) -> Node:
    folder = _folder(repo, prefix)
    owner, name = repo.split("__", 1)
    files = {
        file.relative_to(folder).as_posix(): file.read_bytes()
        for file in folder.rglob("*")
        if file.is_file()
    }
    path = metadata.rpartition("/")[0]
    node = Node(NodeKey(owner, name, path, folder.name), NodeKind.COMPOSITE, metadata, files)
    node.view = _view(repo, prefix, metadata)
    return node


def _rule_lines(rule: str, node: Node) -> set[tuple[str, int]]:
    context = Context(Chain("ci.yml", "build", ()))
    return {
        (gap.file, gap.span.start.line) for gap in RULES_BY_ID[rule]().check_node(node, context)
    }


# 1-7: scripts and installers downloaded from a branch or a mutable URL


def test_1_eslint_formatter_from_a_branch() -> None:
    text = _text("tj-actions__eslint-changed-files", "536c35c8184b", "entrypoint.sh")
    (gap,) = script_downloads("entrypoint.sh", text)
    assert gap.span.start.line == 24
    assert "reviewdog/action-eslint/master/eslint-formatter-rdjson/index.js" in gap.message
    node = _node("tj-actions__eslint-changed-files", "536c35c8184b", "action.yml")
    assert ("entrypoint.sh", 24) in _rule_lines("nested-unverified-download", node)


def test_2_rustup_piped_into_sh() -> None:
    view = _view("dtolnay__rust-toolchain", "29eef336d9b2", "action.yml")
    assert _lines(run_step_downloads(view, "action.yml")) == {77}
    view = _view("dsherret__rust-toolchain-file", "3551321aa44d", "action.yml")
    assert _lines(run_step_downloads(view, "action.yml")) == {37}


def test_3_codspeed_installer_and_branch_install() -> None:
    view = _view("CodSpeedHQ__action", "4296e51e7041", "action.yml")
    gaps = list(run_step_downloads(view, "action.yml"))
    # 184: the prerelease installer, piped unverified as well (the action warns of it).
    assert _lines(gaps) == {178, 184, 191}
    assert "pipes a download straight into an interpreter" in gaps[0].message
    assert "builds and installs a git branch" in gaps[2].message
    # Each is a mode: without `runner-version`, the pinned `.codspeed-runner-version` is
    # installed and checked against `.codspeed-runner-installer-hashes.json`; low confidence.
    assert [gap.confidence for gap in gaps] == [Confidence.LOW] * 3
    assert '(only in the branch `[ "$VERSION_TYPE" = "latest" ]` of its script' in gaps[0].message


def test_4_cargo_binstall_latest_release() -> None:
    text = _text("cargo-bins__cargo-binstall", "75b4bfae1b2c", "install-from-binstall-release.sh")
    gaps = list(script_downloads("install-from-binstall-release.sh", text))
    assert _lines(gaps) == {25}
    assert "`releases/latest`" in gaps[0].message
    view = _view("cargo-bins__cargo-binstall", "75b4bfae1b2c", "action.yml")
    (gap,) = latest_version_defaults(view, "action.yml", {})
    assert gap.span.start.line == 8
    assert "its description says “Defaults to latest.”" in gap.message


def test_5_reviewdog_version_latest() -> None:
    for prefix in ("e04ffabe3898", "d8a7baabd7f3"):
        view = _view("reviewdog__action-setup", prefix, "action.yml")
        (gap,) = latest_version_defaults(view, "action.yml", {})
        assert gap.span.start.line == 6
        assert gap.message.startswith("input `reviewdog_version` defaults to `latest`")


def test_6_setup_trivy_version_latest() -> None:
    view = _view("aquasecurity__setup-trivy", "81e514348e19", "action.yaml")
    assert _lines(latest_version_defaults(view, "action.yaml", {})) == {9}
    # Passing an exact version closes the gap; an expression or `latest` does not.
    assert _lines(latest_version_defaults(view, "action.yaml", {}, {"version": "v0.65.0"})) == set()
    assert _lines(latest_version_defaults(view, "action.yaml", {}, {"version": "latest"})) == {9}


def test_7_ultralytics_lychee_latest_and_biome_latest() -> None:
    view = _view("ultralytics__actions", "bcf6ad522321", "action.yml")
    gaps = {gap.span.start.line: gap.message for gap in run_step_downloads(view, "action.yml")}
    # 431: the archive from `releases/latest`; its checksum comes from the same place, so
    # the `sha256sum -c` of line 434 verifies nothing, and the unpacked download (432) counts.
    assert set(gaps) == {199, 431, 432}
    assert "`npm install -g @biomejs/biome@latest`" in gaps[199]


# 8-12: composite actions and reusable workflows with nested mutable uses


def test_8_ultralytics_nested_main_and_uv_latest() -> None:
    view = _view("ultralytics__actions", "bcf6ad522321", "action.yml")
    assert {110, 249} <= _lines(nested_mutable_uses(view, "action.yml"))
    setup = _view("ultralytics__actions", "bcf6ad522321", "setup-uv/action.yml")
    (gap,) = latest_version_defaults(setup, "setup-uv/action.yml", {})
    assert gap.span.start.line == 35
    assert "passes `version: latest` to `astral-sh/setup-uv@" in gap.message


def test_9_slsa_reusable_workflow_calls_its_actions_by_branch_and_tag() -> None:
    workflow = ".github/workflows/generator_generic_slsa3.yml"
    action = ".github/actions/secure-download-artifact/action.yml"
    for prefix, ref in (("4d014fae4dbd", "main"), ("f7dd8c54c206", "v2.1.0")):
        gaps = list(
            nested_mutable_uses(
                _view("slsa-framework__slsa-github-generator", prefix, workflow), workflow
            )
        )
        (at_124,) = [gap for gap in gaps if gap.span.start.line == 124]
        assert f"by the tag or branch `{ref}`" in at_124.message
        assert at_124.message.startswith("this reusable workflow calls")
        view = _view("slsa-framework__slsa-github-generator", prefix, action)
        assert 88 in _lines(nested_mutable_uses(view, action))


def test_10_11_12_tags_inside_composites_and_workflows() -> None:
    view = _view("codecov__codecov-action", "18283e04ce6e", "action.yml")
    assert _lines(nested_mutable_uses(view, "action.yml")) == {206}
    path = "subaction/matrix/action.yml"
    assert _lines(
        nested_mutable_uses(_view("docker__bake-action", "a66e1c87e2ec", path), path)
    ) == {31}
    path = ".github/workflows/codeql-analysis.yml"
    view = _view("actions__reusable-workflows", "1e97bade5ca1", path)
    assert {40, 44} <= _lines(nested_mutable_uses(view, path))


# 13-20: version inputs that default to `latest` or a range

LATEST = "defaults to `latest`"


@pytest.mark.parametrize(
    ("repo", "prefix", "path", "line", "start"),
    [
        ("codecov__codecov-action", "671740ac38dd", "action.yml", 166, LATEST),
        ("google-github-actions__setup-gcloud", "aa5489c8933f", "action.yml", 48, LATEST),
        ("1Password__load-secrets-action", "92467eb28f72", "action.yml", 16, LATEST),
        ("zizmorcore__zizmor-action", "77053b0c7ee4", "action.yml", 44, LATEST),
        ("docker__setup-qemu-action", "96fe6ef7f335", "action.yml", 12, "defaults to the image"),
        ("goreleaser__goreleaser-action", "f06c13b6b1a9", "action.yml", 16, "the range `~> v2`"),
        ("goreleaser__goreleaser-action", "b953231f81b8", "action.yml", 16, LATEST),
        ("astral-sh__setup-uv", "caf0cab7a618", "action.yml", 8, LATEST),
        ("voidzero-dev__setup-vp", "d37b3860d05e", "action.yml", 12, LATEST),
        ("jdx__mise-action", "3c2e0cf82a5b", "action.yml", 10, "its description says"),
    ],
)  # fmt: skip
def test_13_to_19_version_defaults(
    repo: str, prefix: str, path: str, line: int, start: str
) -> None:
    view = _view(repo, prefix, path)
    gaps = [
        gap
        for gap in latest_version_defaults(view, path, _files(repo, prefix))
        if gap.span.start.line == line
    ]
    (gap,) = gaps
    assert start in gap.message


def test_20_install_action_fallback_to_cargo_binstall() -> None:
    """`main.sh:973` sends a tool without a manifest (and :982, a version the manifest
    lacks) to the fallback, and :1105 installs it with `cargo-binstall binstall`, outside
    the sha256 checks of `download_and_checksum`; :514 calls `fallback: none` the best
    practice. Which tools the manifests list is not in the dataset (nor fetched), so the gap
    is told of the input, at low severity, and closed by `fallback: none`."""
    node = _node("taiki-e__install-action", "ba47c86ac325", "action.yml")
    rule = RULES_BY_ID["nested-unverified-download"]()
    (gap,) = rule.check_node(node, Context(Chain("ci.yml", "build", ())))
    assert (gap.file, gap.span.start.line, gap.route) == (
        "action.yml",
        16,
        "inputs/fallback/default",
    )
    assert (gap.severity, gap.confidence) == (Severity.LOW, Confidence.MEDIUM)
    assert "installed by `cargo-binstall binstall` (`main.sh:1105`)" in gap.message
    assert "`main.sh:514` itself calls `fallback: none` the best practice" in gap.message
    for value in ("none", "cargo-install"):
        context = Context(Chain("ci.yml", "build", ()), inputs={"fallback": value})
        assert list(rule.check_node(node, context)) == []
    # It is no version input: the version rule does not claim it.
    view = _view("taiki-e__install-action", "ba47c86ac325", "action.yml")
    assert 16 not in _lines(latest_version_defaults(view, "action.yml", {}))


# 21-26: docker actions with images by tag


def test_21_scorecard_image_by_tag() -> None:
    node = _node("ossf__scorecard-action", "2d1146689b8c", "action.yaml")
    node.metadata, node.key = (
        "action.yaml",
        NodeKey("ossf", "scorecard-action", "", node.key.commit),
    )
    assert _rule_lines("mutable-docker-image", node) == {("action.yaml", 61)}


@pytest.mark.parametrize(
    ("repo", "prefix", "lines"),
    [
        ("montudor__action-zip", "0852c26906e0", {1}),
        ("karancode__yamllint-github-action", "4052d365f09b", {1}),
        ("codespell-project__actions-codespell", "8f01853be192", {1}),
        ("pypa__gh-action-pypi-publish", "81e9d935c883", {1}),
        ("addnab__docker-run-action", "4f65fabd2431", {1}),
        ("Ilshidur__action-discord", "d2594079a10f", {1}),
        ("appleboy__telegram-action", "37056891d444", {1}),
        ("tiangolo__issue-manager", "48bacd85fb84", {1, 3}),
    ],
)
def test_22_to_25_dockerfile_images_by_tag(repo: str, prefix: str, lines: set[int]) -> None:
    assert _lines(dockerfile_images("Dockerfile", _text(repo, prefix, "Dockerfile"))) == lines
    metadata = "action.yaml" if repo == "montudor__action-zip" else "action.yml"
    node = _node(repo, prefix, metadata)
    assert {("Dockerfile", line) for line in lines} <= _rule_lines("mutable-docker-image", node)


def test_22_26_distribution_packages_without_versions() -> None:
    """A gap of immutability, not an unverified download (the packages are signed by the
    distribution): low severity; medium confidence under a base pinned by digest
    (cargo-deny-action), low under a tag (montudor/action-zip, whose `FROM` is reported)."""
    rule = RULES_BY_ID["nested-unverified-download"]()
    context = Context(Chain("ci.yml", "build", ()))
    cases = [
        ("montudor__action-zip", "0852c26906e0", "action.yaml", 12, 1, Confidence.LOW),
        ("EmbarkStudios__cargo-deny-action", "f28dad79a1c0", "action.yml", 7, 5, Confidence.MEDIUM),
        ("karancode__yamllint-github-action", "4052d365f09b", "action.yml", 4, 1, Confidence.LOW),
    ]  # fmt: skip
    for repo, prefix, metadata, line, column, confidence in cases:
        node = _node(repo, prefix, metadata)
        (gap,) = [gap for gap in rule.check_node(node, context) if "with `apk add`" in gap.message]
        assert (gap.file, gap.span.start.line, gap.span.start.column) == (
            "Dockerfile",
            line,
            column,
        )
        assert (gap.severity, gap.confidence) == (Severity.LOW, confidence), repo
    text = _text("EmbarkStudios__cargo-deny-action", "f28dad79a1c0", "Dockerfile")
    (gap,) = dockerfile_system_packages("Dockerfile", text)
    assert gap.message.startswith(
        "a `RUN` of the action's `Dockerfile` installs `bash`, `curl`, `git`, `tar`, `openssh` "
        "with `apk add` and no version: the base image is pinned by digest, but these"
    )
    text = _text("karancode__yamllint-github-action", "4052d365f09b", "Dockerfile")
    (gap,) = dockerfile_system_packages("Dockerfile", text)
    assert "(the file silences hadolint's DL3018, the check for this)" in gap.message
    # Versions, local packages and stages of pinned images are not reported.
    digest = "@sha256:" + "a" * 64
    text = (
        f"FROM debian:12{digest} AS base\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1 \\\n"
        "    ./tool.deb && apk add --virtual build musl=1.2.4-r2\n"
        "FROM base\n"
        "RUN sudo apt-get install -y git\n"
    )
    (gap,) = dockerfile_system_packages("Dockerfile", text)
    assert (gap.span.start.line, gap.confidence) == (5, Confidence.MEDIUM)
    assert "installs `git` with `apt-get install`" in gap.message


def test_23_24_unpinned_installs_in_a_dockerfile() -> None:
    repo, prefix = "karancode__yamllint-github-action", "4052d365f09b"
    text = _text(repo, prefix, "Dockerfile")
    (gap,) = dockerfile_unpinned_installs("Dockerfile", text, _files(repo, prefix))
    assert (gap.file, gap.span.start.line) == ("Dockerfile", 7)
    assert "installs `yamllint` with no exact version" in gap.message
    repo, prefix = "codespell-project__actions-codespell", "8f01853be192"
    text = _text(repo, prefix, "Dockerfile")
    (gap,) = dockerfile_unpinned_installs("Dockerfile", text, _files(repo, prefix))
    assert (gap.file, gap.span.start.line) == ("requirements.txt", 1)
    assert "`codespell[toml]>=2.2.4`" in gap.message
    # pypa's loose `.in` files are installed under a constraints lock (PIP_CONSTRAINT).
    repo, prefix = "pypa__gh-action-pypi-publish", "81e9d935c883"
    text = _text(repo, prefix, "Dockerfile")
    assert list(dockerfile_unpinned_installs("Dockerfile", text, _files(repo, prefix))) == []


def test_25_copy_from_an_image_says_so() -> None:
    text = _text("tiangolo__issue-manager", "48bacd85fb84", "Dockerfile")
    copied = [gap for gap in dockerfile_images("Dockerfile", text) if gap.span.start.line == 3]
    assert "copies files from the image `ghcr.io/astral-sh/uv:0.9.11`" in copied[0].message
    assert copied[0].span.start.column == 13


def test_26_release_tarballs_unpacked_unverified() -> None:
    text = _text("EmbarkStudios__cargo-deny-action", "f28dad79a1c0", "Dockerfile")
    assert _lines(dockerfile_images("Dockerfile", text)) == set()  # FROM by digest
    assert _lines(dockerfile_downloads("Dockerfile", text)) == {8}
    text = _text("crate-ci__typos", "3bc303c295c0", "action/entrypoint.sh")
    assert _lines(script_downloads("action/entrypoint.sh", text)) == {42}


# 27: controls that must not be reported


def test_27_cosign_installer_pinned_default_and_checksum() -> None:
    node = _node("sigstore__cosign-installer", "3094a48ba063", "action.yml")
    for rule in ("latest-version-default", "nested-unverified-download", "mutable-docker-image"):
        assert _rule_lines(rule, node) == set(), rule


def test_27_slsa_detect_workflow_pins_images_by_digest() -> None:
    path = ".github/actions/detect-workflow/Dockerfile"
    text = _text("slsa-framework__slsa-github-generator", "c3a3e407b10c", path)
    assert [image.span.start.line for image in parse_dockerfile(text).images] == [15, 25]
    assert _lines(dockerfile_images(path, text)) == set()


def test_27_trivy_action_pinned_version_and_sha_pinned_setup_trivy() -> None:
    node = _node("aquasecurity__trivy-action", "ed142fd0673e", "action.yaml")
    node.metadata, node.key = (
        "action.yaml",
        NodeKey("aquasecurity", "trivy-action", "", node.key.commit),
    )
    for rule in ("latest-version-default", "nested-mutable-uses", "nested-unverified-download"):
        assert _rule_lines(rule, node) == set(), rule


# The Dockerfile reader on what the dataset does not show


def test_dockerfile_stages_args_continuations_and_comments() -> None:
    text = (
        "# escape=\\\n"
        "ARG BASE=python\n"
        "ARG TAG\n"
        "from ${BASE}:3.12 AS build\n"
        "RUN apt-get update \\\n"
        "    # a comment inside the instruction\n"
        "    && curl -sL https://example.com/t.tgz \\\n"
        "\n"
        "    | tar xz\n"
        "FROM build\n"
        "COPY --from=build /a /b\n"
        "COPY --from=0 /a /b\n"
        "FROM alpine:${TAG:-3.19}@sha256:" + "a" * 64 + "\n"
        "FROM $UNKNOWN\n"
        "FROM --platform=$BUILDPLATFORM scratch\n"
        "COPY --from=nginx:latest /etc /etc\n"
    )
    images = parse_dockerfile(text).images
    assert [(i.reference, i.span.start.line, i.copy, i.pinned) for i in images] == [
        ("python:3.12", 4, False, False),
        ("alpine:3.19@sha256:" + "a" * 64, 13, False, True),
        ("$UNKNOWN", 14, False, False),
        ("nginx:latest", 16, True, False),
    ]
    gaps = list(dockerfile_images("Dockerfile", text))
    assert [gap.confidence for gap in gaps if gap.span.start.line == 14] != [None]
    assert _lines(dockerfile_downloads("Dockerfile", text)) == {7}


# Every gap rule over every file of the dataset


def test_gap_rules_over_the_whole_dataset() -> None:
    """Counts per rule over every action and workflow file at every commit of the dataset
    (docs/graph-rules.md discusses them); each node is checked alone, with no caller."""
    counts: Counter[str] = Counter()
    context = Context(Chain("ci.yml", "build", ()))
    rules = [RULES_BY_ID[rule]() for rule in sorted(GRAPH_RULES)]
    for repo in sorted(path for path in require(ACTIONS).iterdir() if path.is_dir()):
        owner, name = repo.name.split("__", 1)
        for folder in sorted(path for path in repo.iterdir() if path.is_dir()):
            files = {
                file.relative_to(folder).as_posix(): file.read_bytes()
                for file in folder.rglob("*")
                if file.is_file()
            }
            for metadata in sorted(files):
                base = metadata.rsplit("/", 1)[-1]
                workflow = metadata.startswith(".github/workflows/")
                if base not in ("action.yml", "action.yaml") and not workflow:
                    continue
                document = parse(files[metadata].decode("utf-8"))
                view = (
                    build_workflow(metadata, document)
                    if workflow
                    else build_action(metadata, document)
                )
                folder_path = metadata if workflow else metadata.rpartition("/")[0]
                node = Node(
                    NodeKey(owner, name, folder_path, folder.name), NodeKind.COMPOSITE, metadata
                )
                prefix = f"{folder_path}/" if folder_path and not workflow else ""
                node.files = {path: data for path, data in files.items() if path.startswith(prefix)}
                node.view = view
                for rule in rules:
                    counts[rule.id] += sum(1 for _ in rule.check_node(node, context))
    assert dict(counts) == {
        "latest-version-default": 46,
        "mutable-docker-image": 18,
        "nested-mutable-uses": 313,
        "nested-unverified-download": 54,
    }


def test_the_shared_download_reader_in_the_file_rule() -> None:
    """`unverified-download` reads scripts with the same reader, and reports only its kinds."""
    workflow = b"""\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          url="https://github.com/o/t/releases/latest/download/t.tgz"
          curl -fsSL "$url" -o t.tgz
          curl -fsSL "$url.sha256" -o t.tgz.sha256
          sha256sum -c t.tgz.sha256
      - run: |
          wget "https://example.com/v1/${NAME}" -O "/tmp/${NAME}"
          chmod +x "/tmp/${NAME}"
      - run: curl -sL https://example.com/t.tgz | tar xz
"""
    config = Config(select=frozenset({"unverified-download"}))
    report = run([Input("ci.yml", Kind.WORKFLOW, data=workflow)], config, jobs=1)
    # 8: a `releases/latest` URL in a variable, "checked" against a checksum fetched from the
    # same place; 13: `${NAME}` read as one word; 15: unpacking is not this rule's kind.
    assert [f.span.start.line for f in report.findings] == [8, 13]


def test_a_download_in_a_mode_branch_of_a_script() -> None:
    """Only an `if`/`elif` that tests a variable against a literal is a mode; `else`, the
    end of the `if`, and tests of what is installed (`! -x`) are the usual path."""
    script = (
        'if [ "$MODE" = "latest" ]; then\n'
        "  curl -fsSL https://example.com/i.sh | sh\n"
        "else\n"
        "  curl -fsSL https://example.com/j.sh | sh\n"
        "fi\n"
        "if [[ ! -x tool ]]; then\n"
        "  if [[ $KIND == nightly ]]; then echo; fi\n"
        "  curl -fsSL https://example.com/k.sh | sh\n"
        "fi\n"
        'if [ "$A" = "x" ]; then echo; fi\n'
        'if [ "$B" = "y" ]\n'
        "then\n"
        "  curl -fsSL https://example.com/m.sh | sh\n"
        "fi\n"
    )
    gaps = list(script_downloads("install.sh", script))
    assert [(gap.span.start.line, gap.confidence) for gap in gaps] == [
        (2, Confidence.LOW),
        (4, None),
        (8, None),
        (13, Confidence.LOW),
    ]
    assert '(only in the branch `[ "$MODE" = "latest" ]` of its script' in gaps[0].message
