"""The permissions fix never takes from a job what it uses or may use: a job doing what the
table does not know keeps what it had, with a note naming the job and the action."""

from __future__ import annotations

from tests.fix.harness import fix

RULE = "excessive-permissions"


def _workflow(top: str, job: str, steps: str) -> str:
    return f"on: push\n{top}jobs:\n  release:\n    runs-on: ubuntu-latest\n{job}    steps:\n{steps}"


UNKNOWN = "      - uses: acme/publish@v1\n"


def test_an_unknown_action_keeps_the_former_top_level_scopes() -> None:
    text = _workflow("permissions:\n  contents: write\n  id-token: write\n", "", UNKNOWN)
    result = fix(text, select=RULE)
    assert result.text == _workflow(
        "permissions: {}\n",
        "    permissions:\n      contents: write\n      id-token: write\n",
        UNKNOWN,
    )
    assert [a.note for a in result.applied] == [
        "job `release`: step 1 uses `acme/publish`, which the permissions table does not "
        "know; it keeps the former `contents: write, id-token: write`: narrow them by hand."
    ]
    assert result.remaining == []


def test_an_unknown_action_on_the_default_token_is_left_and_so_is_the_top_level() -> None:
    text = (
        "on: push\njobs:\n"
        "  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n"
        "  release:\n    runs-on: ubuntu-latest\n    steps:\n" + UNKNOWN
    )
    result = fix(text, select=RULE)
    assert result.text == text.replace(
        "  lint:\n    runs-on: ubuntu-latest\n",
        "  lint:\n    runs-on: ubuntu-latest\n    permissions: {}\n",
    )
    note = (
        "job `release`: step 1 uses `acme/publish`, which the permissions table does not know; "
        "it keeps the default token (not written down, so the top level stays): give it its "
        "own `permissions:` by hand."
    )
    assert [a.note for a in result.applied] == [note]
    [finding] = result.remaining
    assert (finding.rule, finding.span.start.line) == (RULE, 1)
    assert result.reasons[finding] == note


def test_a_top_level_write_all_moves_onto_the_job_the_table_does_not_know() -> None:
    text = _workflow("permissions: write-all\n", "", UNKNOWN)
    result = fix(text, select=RULE)
    assert result.text == _workflow("permissions: {}\n", "    permissions: write-all\n", UNKNOWN)
    [finding] = result.remaining
    assert finding.span.start.line == 6
    assert result.reasons[finding] == (
        "job `release`: step 1 uses `acme/publish`, which the permissions table does not know; "
        "it keeps `write-all`: narrow it by hand."
    )


def test_a_job_level_blanket_stays_when_the_job_is_not_known() -> None:
    text = _workflow("permissions: {}\n", "    permissions: write-all\n", UNKNOWN)
    result = fix(text, select=RULE)
    assert not result.changed
    assert [f.span.start.line for f in result.remaining] == [6]


def test_a_script_given_the_token_that_runs_an_unknown_command_keeps_the_scopes() -> None:
    steps = (
        "      - name: release\n        run: npx semantic-release\n"
        "        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"
    )
    text = _workflow("permissions:\n  contents: write\n  issues: write\n", "", steps)
    result = fix(text, select=RULE)
    assert "    permissions:\n      contents: write\n      issues: write\n" in result.text
    assert result.applied[0].note.startswith(
        "job `release`: step `release` gives the token to a script, which the permissions "
        "table does not know; it keeps the former `contents: write, issues: write`"
    )


def test_a_publish_command_keeps_id_token_when_the_job_had_it() -> None:
    steps = "      - run: pnpm publish -r\n"
    text = _workflow("permissions:\n  contents: read\n  id-token: write\n", "", steps)
    result = fix(text, select=RULE)
    assert result.text == _workflow(
        "permissions: {}\n", "    permissions:\n      id-token: write\n", steps
    )
    assert [a.note for a in result.applied] == [
        "job `release`: step 1 runs `publish`, which may use `id-token`; it keeps it."
    ]


def test_a_publish_command_does_not_add_id_token() -> None:
    steps = "      - run: pnpm publish -r\n"
    result = fix(_workflow("", "", steps), select=RULE)
    assert result.text == _workflow("permissions: {}\n", "", steps)
    assert [a.note for a in result.applied] == [""]


def test_codecov_with_oidc_and_changesets_keep_what_they_use() -> None:
    steps = (
        "      - uses: codecov/codecov-action@v5\n        with:\n          use_oidc: true\n"
        "      - uses: changesets/action@v1\n        with:\n          publish: pnpm release\n"
    )
    top = "permissions:\n  contents: write\n  id-token: write\n  pull-requests: write\n"
    result = fix(_workflow(top, "", steps), select=RULE)
    assert result.text == _workflow(
        "permissions: {}\n",
        "    permissions:\n      contents: write\n      id-token: write\n"
        "      pull-requests: write\n",
        steps,
    )


def test_the_old_comment_does_not_stay_on_the_new_line() -> None:
    steps = "      - uses: actions/checkout@v4\n"
    scalar = _workflow("permissions: write-all  # for the release\n", "", steps)
    block = _workflow("permissions:\n  contents: write  # for the release\n", "", steps)
    expected = _workflow("permissions: {}\n", "    permissions:\n      contents: read\n", steps)
    assert fix(scalar, select=RULE).text == expected
    assert fix(block, select=RULE).text == expected
    job = _workflow("permissions: {}\n", "    permissions: write-all  # all of it\n", steps)
    assert fix(job, select=RULE).text == expected


def test_table_entries_that_depend_on_inputs() -> None:
    steps = (
        "      - uses: golangci/golangci-lint-action@v8\n"
        "        with:\n          only-new-issues: true\n"
        "      - uses: gradle/actions/setup-gradle@v4\n"
        "        with:\n          dependency-graph: generate-and-submit\n"
        "      - uses: PyO3/maturin-action@v1\n        with:\n          command: upload\n"
    )
    top = "permissions:\n  contents: write\n  id-token: write\n  issues: write\n"
    result = fix(_workflow(top, "", steps), select=RULE)
    assert result.text == _workflow(
        "permissions: {}\n",
        "    permissions:\n      contents: write\n      id-token: write\n"
        "      pull-requests: read\n",
        steps,
    )
    assert [a.note for a in result.applied] == [
        "job `release`: step 3 runs `maturin upload`, which may use `id-token`; it keeps it."
    ]
