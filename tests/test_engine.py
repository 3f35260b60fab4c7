from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion import config as config_module
from bastion import engine
from bastion.config import Config
from bastion.engine import Checker, run
from bastion.findings import Confidence, Point, Severity, Span
from bastion.inputs import Input, Kind, collect
from bastion.model.repository import Repository
from bastion.model.workflow import Workflow
from bastion.rules.base import Hit, RepositoryHit, Rule
from bastion.rules.dangerous_trigger import DangerousTrigger
from bastion.source.yaml import Document, parse

TRIGGER = (
    "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: x\n"
    "    steps:\n      - run: echo\n"
)
ONLY = Config(select=frozenset({"dangerous-trigger", "syntax-error"}))


def _check(
    data: bytes, config: Config = ONLY, kind: Kind | None = Kind.WORKFLOW
) -> list[tuple[int, int, str, str]]:
    result = Checker(config).check(Input("w.yml", kind, data=data))
    assert not result.errors
    return [(f.span.start.line, f.span.start.column, f.rule, f.message) for f in result.findings]


def test_a_finding_points_at_the_trigger() -> None:
    assert _check(TRIGGER.encode()) == [
        (
            1,
            5,
            "dangerous-trigger",
            "`pull_request_target` runs with a write token and secrets in the context of the "
            "base repository while handling a pull request from anyone",
        )
    ]


@pytest.mark.parametrize(
    ("data", "point", "message"),
    [
        (b"", (1, 1), "the file holds no YAML document (it is empty or only comments)"),
        (b"on: push\njobs: {}\n\x00\x01", (3, 1), "the file is binary (it holds NUL bytes)"),
        (b"name: caf\xe9\n", (1, 10), "the file is not UTF-8 (byte 0xe9 at offset 9)"),
        (b"\xff\xfen\x00a\x00", (1, 1), "the file is UTF-16; GitHub reads UTF-8"),
        (
            b"on: [push\n",
            (2, 1),
            "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence)",
        ),
        (b"- a\n- b\n", (1, 1), "a workflow must be a mapping with 'on' and 'jobs'"),
        (b"jobs: {}\n", (1, 1), "a workflow needs 'on' (the events that run it)"),
    ],
)
def test_unreadable_files_are_syntax_errors(
    data: bytes, point: tuple[int, int], message: str
) -> None:
    assert _check(data) == [(*point, "syntax-error", message)]


def test_a_utf8_bom_is_accepted() -> None:
    assert [f[2] for f in _check(b"\xef\xbb\xbf" + TRIGGER.encode())] == ["dangerous-trigger"]


def test_a_huge_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.yml"
    path.write_bytes(b"#" * 2000)
    result = Checker(ONLY).check(Input("big.yml", Kind.WORKFLOW, path))
    [finding] = result.findings
    assert finding.rule == "syntax-error"
    assert "larger than" in finding.message


def test_duplicate_keys_are_reported_and_the_rest_is_still_checked() -> None:
    text = TRIGGER + "permissions: {}\n"
    assert [(line, rule) for line, _, rule, _ in _check(text.encode())] == [
        (1, "dangerous-trigger"),
        (8, "syntax-error"),
    ]


def test_structure_problems_are_located() -> None:
    text = (
        "on:\n  push:\n  workflow_dispatch:\n    inputs:\n      n:\n        type: int\n"
        "jobs:\n  a:\n    steps:\n      - name: nothing\n      - uses: x/y@v1\n        run: echo\n"
    )
    assert [(line, col, message) for line, col, _, message in _check(text.encode())] == [
        (
            6,
            15,
            "input 'n' of workflow_dispatch has type 'int'; "
            "GitHub accepts boolean, choice, environment, number, string",
        ),
        (8, 3, "job 'a' needs 'runs-on' (or 'uses' for a workflow)"),
        (10, 9, "a step needs 'uses' or 'run'"),
        (11, 9, "a step cannot have both 'uses' and 'run'"),
    ]


def test_parallel_steps_are_understood() -> None:
    text = (
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - parallel:\n          - run: one\n          - uses: actions/checkout@v1\n"
        "      - run: server\n        id: s\n        background: true\n"
        "      - wait: s\n      - wait-all:\n      - cancel: s\n"
    )
    assert _check(text.encode()) == []


def test_inline_ignore_on_the_line_or_in_the_span() -> None:
    text = TRIGGER.replace(
        "pull_request_target", "pull_request_target # bastion: ignore[dangerous-trigger]"
    )
    assert _check(text.encode()) == []
    other = TRIGGER.replace(
        "pull_request_target", "pull_request_target # bastion: ignore[unpinned-action]"
    )
    assert [f[2] for f in _check(other.encode())] == ["dangerous-trigger"]


def test_min_severity_and_per_path_ignores() -> None:
    assert _check(TRIGGER.encode(), Config(min_severity=Severity.HIGH, select=ONLY.select)) != []
    ignored = Config(
        select=ONLY.select, per_path_ignores=(("*.yml", frozenset({"dangerous-trigger"})),)
    )
    assert _check(TRIGGER.encode(), ignored) == []


def test_kind_is_guessed_from_content() -> None:
    action = b"name: x\nruns:\n  using: composite\n  steps:\n    - run: echo\n"
    assert _check(action, kind=None) == [
        (5, 7, "syntax-error", "a 'run' step of a composite action needs 'shell'")
    ]


class _Broken(Rule):
    id = "dangerous-trigger"
    summary = "crashes"
    severity = Severity.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        raise RuntimeError("boom")


def test_a_crashing_rule_is_reported_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(engine, "RULES", (_Broken,))
    good = tmp_path / "a.yml"
    good.write_text("on: [\n", encoding="utf-8")
    report = run(
        [Input("a.yml", Kind.WORKFLOW, good), Input("b.yml", Kind.WORKFLOW, data=TRIGGER.encode())],
        Config(),
        jobs=1,
    )
    assert [f.rule for f in report.findings] == ["syntax-error"]
    assert len(report.errors) == 1
    assert report.errors[0].startswith("internal error in rule dangerous-trigger on b.yml")


def test_parallel_run_gives_the_same_report(tmp_path: Path) -> None:
    inputs = []
    for index in range(engine.PARALLEL_THRESHOLD + 2):
        path = tmp_path / f"w{index:03}.yml"
        path.write_text(TRIGGER if index % 2 else "on: [\n", encoding="utf-8")
        inputs.append(Input(path.name, Kind.WORKFLOW, path))
    serial = run(inputs, ONLY, jobs=1)
    parallel = run(inputs, ONLY, jobs=2)
    assert serial.findings == parallel.findings
    assert serial.source_lines == parallel.source_lines
    assert len(serial.findings) == len(inputs)
    assert serial.findings[0].span.start == Point(2, 1)


# ---------------------------------------------------------------- updater configurations

DEPENDENCY_RULES = frozenset(
    {
        "no-dependency-updater",
        "updater-cooldown",
        "actions-not-updated",
        "updater-code-execution",
        "unpinned-pre-commit",
        "syntax-error",
    }
)
WORKFLOW = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _findings(report: engine.Report) -> list[tuple[str, int, str]]:
    return [(f.path, f.span.start.line, f.rule) for f in report.findings]


def test_each_kind_of_configuration_reaches_its_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": WORKFLOW,
            ".github/dependabot.yml": (
                "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
                "    insecure-external-code-execution: allow\n"
            ),
            ".github/renovate.json5": "{\n  enabledManagers: ['npm'],\n}\n",
            ".pre-commit-config.yaml": "repos:\n  - repo: https://example.com/hooks\n    rev: v1\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    report = run(collect(["."]), Config(select=DEPENDENCY_RULES), jobs=1)
    assert report.errors == []
    assert _findings(report) == [
        (".github/dependabot.yml", 2, "actions-not-updated"),
        (".github/dependabot.yml", 3, "updater-cooldown"),
        (".github/dependabot.yml", 5, "updater-code-execution"),
        (".github/renovate.json5", 1, "updater-cooldown"),
        (".github/renovate.json5", 2, "actions-not-updated"),
        (".pre-commit-config.yaml", 3, "unpinned-pre-commit"),
    ]
    assert report.source_lines[".pre-commit-config.yaml"][3] == "    rev: v1"
    assert report.source_lines[".github/renovate.json5"][2] == "  enabledManagers: ['npm'],"


def test_an_updater_file_is_parsed_once_and_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository pass hands what it parsed to the file's own check, which reports
    from it what it would have found parsing the file itself (a duplicate key included);
    a file that changed in between is parsed again."""
    dependabot = (
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    directory: /x\n"
    )
    renovate = "{\n  enabledManagers: ['npm'],\n}\n"
    _tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": WORKFLOW,
            ".github/dependabot.yml": dependabot,
            "renovate.json5": renovate,
        },
    )
    monkeypatch.chdir(tmp_path)
    parsed: list[str] = []

    def counting_parse(text: str) -> Document:
        parsed.append(text)
        return parse(text)

    monkeypatch.setattr("bastion.engine.parse", counting_parse)
    inputs = collect(["."])
    config = Config(select=DEPENDENCY_RULES | {"syntax-error"})
    report = run(inputs, config, jobs=1)
    assert parsed.count(dependabot) == 1
    assert _findings(report) == [
        (".github/dependabot.yml", 2, "actions-not-updated"),
        (".github/dependabot.yml", 3, "updater-cooldown"),
        (".github/dependabot.yml", 5, "syntax-error"),
        ("renovate.json5", 1, "updater-cooldown"),
        ("renovate.json5", 2, "actions-not-updated"),
    ]
    checker = Checker(config)
    engine._repository(inputs, checker.shared)
    assert sorted(checker.shared) == [".github/dependabot.yml", "renovate.json5"]
    changed = "version: 2\nupdates: []\n"
    (tmp_path / ".github" / "dependabot.yml").write_text(changed, encoding="utf-8")
    (tmp_path / "renovate.json5").write_text("{\n}\n", encoding="utf-8")
    rechecked = {
        item.display: [(f.span.start.line, f.rule) for f in checker.check(item).findings]
        for item in inputs
        if item.kind in (Kind.DEPENDABOT, Kind.RENOVATE)
    }
    assert rechecked == {
        ".github/dependabot.yml": [],
        "renovate.json5": [(1, "updater-cooldown")],  # no longer actions-not-updated
    }
    assert parsed.count(changed) == 1
    assert checker.shared == {}
    monkeypatch.setattr(engine, "MAX_SHARED", 1)
    engine._repository(inputs, checker.shared)
    assert list(checker.shared) == [".github/dependabot.yml"]


def test_no_updater_points_at_the_first_workflow_and_honours_ignores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path,
        {"repo/.github/workflows/b.yml": WORKFLOW, "repo/.github/workflows/a.yml": WORKFLOW},
    )
    monkeypatch.chdir(tmp_path)
    only = Config(select=frozenset({"no-dependency-updater"}))
    report = run(collect(["repo"]), only, jobs=1)
    assert _findings(report) == [("repo/.github/workflows/a.yml", 1, "no-dependency-updater")]
    finding = report.findings[0]
    assert finding.message.startswith("the repository has 2 workflows but no Dependabot")
    assert report.source_lines["repo/.github/workflows/a.yml"][1] == "on: push"
    # An inline ignore on that line, or a per-path ignore, silences it like any finding.
    (tmp_path / "repo/.github/workflows/a.yml").write_text(
        "on: push # bastion: ignore[no-dependency-updater]\n" + WORKFLOW.split("\n", 1)[1],
        encoding="utf-8",
    )
    assert run(collect(["repo"]), only, jobs=1).findings == []
    per_path = Config(
        select=frozenset({"no-dependency-updater"}),
        per_path_ignores=(("repo/.github/workflows/*", frozenset({"no-dependency-updater"})),),
        root=tmp_path,
    )
    (tmp_path / "repo/.github/workflows/a.yml").write_text(WORKFLOW, encoding="utf-8")
    assert run(collect(["repo"]), per_path, jobs=1).findings == []


def test_files_named_one_by_one_are_no_repository(tmp_path: Path) -> None:
    _tree(tmp_path, {".github/workflows/ci.yml": WORKFLOW})
    only = Config(select=frozenset({"no-dependency-updater"}))
    assert run(collect([str(tmp_path / ".github/workflows/ci.yml")]), only, jobs=1).findings == []
    assert len(run(collect([str(tmp_path)]), only, jobs=1).findings) == 1


def test_a_repository_with_renovate_in_package_json_has_an_updater(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": WORKFLOW,
            "package.json": '{\n  "name": "x",\n  "renovate": {"minimumReleaseAge": "2 days"}\n}\n',
        },
    )
    monkeypatch.chdir(tmp_path)
    report = run(collect(["."]), Config(select=DEPENDENCY_RULES), jobs=1)
    assert _findings(report) == [("package.json", 3, "updater-cooldown")]
    assert report.findings[0].route == "renovate/minimumReleaseAge"


def test_a_package_json_without_renovate_key_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text('{"name": "x", "scripts": {"renovate": "run"}}', encoding="utf-8")
    result = Checker(Config(select=DEPENDENCY_RULES)).check(
        Input("package.json", Kind.RENOVATE, path)
    )
    assert result.findings == []
    assert result.errors == []


def test_invalid_json5_is_a_syntax_error_and_the_repository_pass_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path, {".github/workflows/ci.yml": WORKFLOW, "renovate.json": '{\n  "extends": [\n}\n'}
    )
    monkeypatch.chdir(tmp_path)
    report = run(collect(["."]), Config(select=DEPENDENCY_RULES), jobs=1)
    assert [(f.path, f.span.start.line, f.rule, f.message) for f in report.findings] == [
        (
            "renovate.json",
            3,
            "syntax-error",
            "invalid JSON5: unexpected '}' where a value should be",
        )
    ]
    assert report.errors == []


class _BrokenRepositoryRule(Rule):
    id = "no-dependency-updater"
    summary = "crashes"
    severity = Severity.LOW
    confidence = Confidence.HIGH

    def check_repository(self, repository: Repository) -> Iterator[RepositoryHit]:
        raise RuntimeError("boom")
        yield


def test_a_crashing_repository_check_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(engine, "RULES", (_BrokenRepositoryRule,))
    _tree(tmp_path, {".github/workflows/ci.yml": WORKFLOW})
    report = run(collect([str(tmp_path)]), Config(), jobs=1)
    assert report.findings == []
    assert len(report.errors) == 1
    assert report.errors[0].startswith(
        f"internal error in rule no-dependency-updater on {tmp_path}"
    )


@given(
    st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    st.sampled_from([Kind.DEPENDABOT, Kind.RENOVATE, Kind.PRE_COMMIT]),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_updater_file_ends_in_findings_not_a_traceback(data: bytes, kind: Kind) -> None:
    result = Checker(Config()).check(Input("config", kind, data=data))
    assert result.errors == []


# ---------------------------------------------------------------- streamed report order


class _PointsAround(Rule):
    """Repository-level findings before, among, at and after the files' paths; the one at
    a file ties with that file's dangerous-trigger finding (same path, place and rule)."""

    id = "dangerous-trigger"
    summary = "points around"
    severity = Severity.LOW
    confidence = Confidence.HIGH

    def check_repository(self, repository: Repository) -> Iterator[RepositoryHit]:
        for path, line, column in (
            ("a-first.yml", 2, 1),
            ("r/w034.yml", 1, 5),
            ("r/w050x.yml", 1, 1),
            ("zz.yml", 1, 1),
        ):
            yield RepositoryHit(f"around {path}", path, Span.at(line, column))


class _CrashOnSevens(Rule):
    id = "syntax-error-crash"
    summary = "crashes on some files"
    severity = Severity.HIGH
    confidence = Confidence.HIGH

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        if workflow.path.endswith("7.yml"):
            raise RuntimeError("boom")
        return iter(())


def _naive(inputs: list[Input], config: Config) -> engine.Report:
    """The report as a run held it whole before streaming: every file's findings in input
    order, then the repositories', one stable sort; errors in the same order."""
    checker = Checker(config)
    report = engine.Report([], len(inputs), [])
    results = [checker.check(item) for item in inputs]
    for repository in engine.repositories(inputs):
        results.extend(checker.check_repository(repository, lambda _: None).values())
    for result in results:
        report.findings.extend(result.findings)
        report.errors.extend(result.errors)
    report.findings.sort(key=lambda f: f.sort_key)
    return report


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_streamed_report_is_in_the_order_of_one_sort_of_every_finding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jobs: int
) -> None:
    rules = (DangerousTrigger, _PointsAround, _CrashOnSevens)
    monkeypatch.setattr(engine, "RULES", rules)
    monkeypatch.setattr(config_module, "RULES_BY_ID", {rule.id: rule for rule in rules})
    (tmp_path / "r").mkdir()
    monkeypatch.chdir(tmp_path)
    inputs = []
    for index in reversed(range(engine.PARALLEL_THRESHOLD + 6)):  # not in path order
        path = Path(f"r/w{index:03}.yml")
        path.write_text(TRIGGER if index % 3 else "on: [\n", encoding="utf-8")
        inputs.append(Input(str(path), Kind.WORKFLOW, path, root="r"))
    inputs.insert(5, inputs[40])  # the same file twice: its findings twice, side by side
    check = engine.Check(inputs, Config(), jobs=jobs, lines=False)
    groups = list(check.groups())
    expected = _naive(inputs, Config())
    assert [f for group in groups for f in group.findings] == expected.findings
    assert check.errors == expected.errors
    crashed = [error.split(" on ")[1].split(" ")[0] for error in check.errors]
    assert crashed == ["r/w067.yml", "r/w047.yml", "r/w037.yml", "r/w017.yml", "r/w007.yml"]
    paths = [group.path for group in groups]
    assert paths == sorted(set(paths))  # one group per path, in order
    assert paths[0] == "a-first.yml"
    assert paths[-1] == "zz.yml"
    assert "r/w050x.yml" in paths
    tied = [f.message[:6] for f in groups[paths.index("r/w034.yml")].findings]
    assert tied == ["`pull_", "around"]  # the file's finding first, as a stable sort has it
    assert all(group.lines == {} for group in groups)


def test_a_file_s_findings_are_handed_on_before_later_files_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    original = Checker.check

    def check(self: Checker, item: Input) -> engine.FileResult:
        checked.append(item.display)
        return original(self, item)

    monkeypatch.setattr(Checker, "check", check)
    inputs = [Input(f"w{index}.yml", Kind.WORKFLOW, data=TRIGGER.encode()) for index in range(3)]
    groups = engine.Check(inputs, ONLY, jobs=1, lines=True).groups()
    first = next(groups)
    assert first.path == "w0.yml"
    assert first.lines == {1: "on: pull_request_target"}
    assert checked == ["w0.yml", "w1.yml"]  # the next path is read to know w0.yml is done
    assert [group.path for group in groups] == ["w1.yml", "w2.yml"]
