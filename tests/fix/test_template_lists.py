"""The template-injection fix leaves a list unquoted where the script splits it into words
(a `for` loop's list, an argument list), and quotes every other value."""

from __future__ import annotations

from tests.fix.harness import fix

RULE = "template-injection"


def _workflow(script: str, shell: str = "") -> str:
    return (
        "on: [pull_request_target, workflow_dispatch]\npermissions: {}\n"
        "jobs:\n  t:\n    runs-on: ubuntu-latest\n"
        f"    steps:\n      - {shell}run: {script}\n"
    )


def _fixed(script: str, env: str, shell: str = "") -> str:
    return _workflow(script, shell) + f"        env:\n          {env}\n"


FILES = "${{ inputs.files }}"
TITLE = "${{ github.event.pull_request.title }}"


def test_a_for_loop_list_stays_unquoted() -> None:
    result = fix(_workflow(f"for f in {FILES}; do echo $f; done"), select=RULE)
    assert result.text == _fixed("for f in ${FILES}; do echo $f; done", f"FILES: {FILES}")
    assert result.remaining == []


def test_any_value_in_a_for_loop_list_stays_unquoted() -> None:
    result = fix(_workflow(f"for word in a {TITLE} b; do echo $word; done"), select=RULE)
    assert result.text == _fixed(
        "for word in a ${PR_TITLE} b; do echo $word; done", f"PR_TITLE: {TITLE}"
    )


def test_a_list_as_an_argument_list_stays_unquoted() -> None:
    flags = "${{ inputs.pytest-flags }}"
    result = fix(_workflow(f"pytest {flags} {FILES}"), select=RULE)
    assert result.text == _fixed(
        "pytest ${PYTEST_FLAGS} ${FILES}",
        f"PYTEST_FLAGS: {flags}\n          FILES: {FILES}",
    )


def test_a_joined_list_stays_unquoted() -> None:
    joined = "${{ join(fromJSON(inputs.tags), ' ') }}"
    result = fix(_workflow(f"docker push {joined}"), select=RULE)
    assert result.text == _fixed("docker push ${TAGS}", f"TAGS: {joined}")


def test_a_single_value_is_still_quoted() -> None:
    result = fix(_workflow(f"echo {TITLE}"), select=RULE)
    assert result.text == _fixed('echo "${PR_TITLE}"', f"PR_TITLE: {TITLE}")


def test_a_list_inside_a_word_or_assigned_is_quoted() -> None:
    result = fix(_workflow(f"FILES={FILES}"), select=RULE)
    assert result.text == _fixed('FILES="${FILES_2}"', f"FILES_2: {FILES}")
    result = fix(_workflow(f"echo --files={FILES}"), select=RULE)
    assert result.text == _fixed('echo --files="${FILES}"', f"FILES: {FILES}")


def test_a_list_in_powershell_is_not_fixed() -> None:
    text = _workflow(f"Write-Output {FILES}", "shell: pwsh\n        ")
    result = fix(text, select=RULE)
    assert not result.changed
    [finding] = result.remaining
    assert result.reasons[finding] == (
        "the expression is a list the script splits into words; PowerShell would pass the "
        "variable as one value: rewrite the script by hand"
    )
