"""Hostile input: whatever a pull request puts in the files, every run ends with findings or
a clear message, the documented exit code, and output that is valid UTF-8.

Runs that check the bytes bastion writes go through a real process (``python -m bastion``);
the others run ``main()`` in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bastion import engine
from bastion.cli import main
from bastion.findings import escape_text

PULL_REQUEST_TARGET = "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: x\n"
BAD_NAME = b"\xff.yml"


def _run(root: Path, *arguments: str) -> tuple[int, bytes, bytes]:
    """``bastion ARGUMENTS`` in a process started in ``root``: exit code, stdout, stderr."""
    environment = {**os.environ, "NO_COLOR": "1"}
    environment.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "bastion", *arguments],
        cwd=root,
        capture_output=True,
        env=environment,
        timeout=300,  # a hang guard only
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def _check_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root: Path, *extra: str
) -> tuple[int, dict[str, object], str]:
    monkeypatch.chdir(root)
    capsys.readouterr()
    code = main(["check", "--no-config", "--jobs", "1", "--format", "json", *extra, "."])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _findings(document: dict[str, object], rule: str) -> list[tuple[str, int, int, str]]:
    found = document["findings"]
    assert isinstance(found, list)
    return [(f["path"], f["line"], f["column"], f["message"]) for f in found if f["rule"] == rule]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- numbers too long to convert ----------------------------------------------------------


def test_dependabot_number_of_5000_digits_is_a_syntax_error_at_the_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / ".github" / "dependabot.yml",
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n"
        f"    cooldown:\n      default-days: {'9' * 5000}\n",
    )
    code, document, err = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert (code, err, document["errors"]) == (1, "", [])
    assert _findings(document, "syntax-error") == [
        (
            ".github/dependabot.yml",
            6,
            21,
            "a number of 5,000 digits; bastion reads numbers of at most 1,000 digits "
            "(quote it if it is meant as text)",
        )
    ]


@pytest.mark.parametrize(
    ("text", "column", "digits"),
    [
        ('{"minimumReleaseAge": "7 days", "x": ' + "9" * 5000 + "}", 38, "5,000"),
        ("{stabilityDays: 0x" + "f" * 4400 + "}", 17, "4,400"),
        ('{"x": -' + "1" * 1001 + "}", 7, "1,001"),
    ],
)
def test_renovate_number_too_long_is_a_syntax_error_at_the_number(
    *,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    column: int,
    digits: str,
) -> None:
    _write(tmp_path / "renovate.json5", text)
    code, document, err = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert (code, err, document["errors"]) == (1, "", [])
    assert _findings(document, "syntax-error") == [
        (
            "renovate.json5",
            1,
            column,
            f"a number of {digits} digits; bastion reads numbers of at most 1,000 digits",
        )
    ]


def test_renovate_integers_past_a_double_are_read_as_javascript_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 400 digits is past the largest double: Renovate reads Infinity, not a number of days.
    _write(tmp_path / "renovate.json", '{"stabilityDays": ' + "9" * 400 + "}")
    code, document, err = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert (code, err, document["errors"]) == (1, "", [])
    assert _findings(document, "syntax-error") == [
        ("renovate.json", 1, 19, "`stabilityDays` must be a number")
    ]


def test_huge_numbers_in_expressions_are_no_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / ".github" / "workflows" / "x.yml",
        PULL_REQUEST_TARGET + "    steps:\n"
        f"      - run: echo ${{{{ github.event.issue.title[0x{'f' * 5000}] }}}}\n"
        f"      - run: echo ${{{{ fromJSON('[1]')[{'9' * 5000}] }}}} ${{{{ {'9' * 5000} }}}}\n",
    )
    code, document, err = _check_json(monkeypatch, capsys, tmp_path)
    assert (code, document["errors"]) == (1, [])
    assert "internal error" not in err
    assert _findings(document, "syntax-error") == []


# --- configuration that is not UTF-8 ------------------------------------------------------


def test_dedicated_configuration_not_utf8_names_the_file_and_the_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "bastion.toml").write_bytes(b'ignore = []\nselect = ["x\xff"]\n')
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["check", "."]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"bastion: error: {(tmp_path / '.github' / 'bastion.toml').resolve()} is not UTF-8: "
        "byte 0xff at line 2, byte 13 of the line (offset 24); TOML files must be UTF-8\n"
    )


def test_pyproject_not_utf8_is_an_error_when_it_configures_bastion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.bastion]\n# caf\xe9\n")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["check", "."]) == 2
    assert capsys.readouterr().err == (
        f"bastion: error: {(tmp_path / 'pyproject.toml').resolve()} is not UTF-8: "
        "byte 0xe9 at line 2, byte 6 of the line (offset 20); TOML files must be UTF-8\n"
    )
    # A broken pyproject.toml of other tools only is passed over, as before.
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.black]\n# caf\xe9\n")
    assert main(["check", "--format", "json", "."]) == 0


# --- file names that are not UTF-8 --------------------------------------------------------


@pytest.fixture
def bad_name_repository(tmp_path: Path) -> Path:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    with open(os.fsencode(workflows) + b"/" + BAD_NAME, "w", encoding="utf-8") as handle:
        handle.write(PULL_REQUEST_TARGET + "    steps:\n      - run: echo\n")
    return tmp_path


SHOWN = ".github/workflows/\\xff.yml"


@pytest.mark.parametrize("fmt", ["human", "json", "sarif", "github"])
def test_file_name_not_utf8_is_escaped_in_every_format(bad_name_repository: Path, fmt: str) -> None:
    code, out, err = _run(
        bad_name_repository,
        *("check", "--no-config", "--select", "dangerous-trigger", "--format", fmt, "."),
    )
    assert (code, err) == (1, b"")
    text = out.decode("utf-8")  # strict: the output is valid UTF-8
    if fmt == "json":
        [finding] = json.loads(text)["findings"]
        assert finding["path"] == SHOWN
    elif fmt == "sarif":
        [result] = json.loads(text)["runs"][0]["results"]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": ".github/workflows/%FF.yml", "uriBaseId": "%SRCROOT%"}
    elif fmt == "github":
        assert text.startswith("::error file=.github/workflows/\\xff.yml,line=1,col=5,")
    else:
        assert text.startswith(f"{SHOWN}:1:5: high[dangerous-trigger] ")


def test_file_name_not_utf8_in_a_baseline(bad_name_repository: Path) -> None:
    select = ("--no-config", "--select", "dangerous-trigger")
    code, out, err = _run(bad_name_repository, "check", *select, "--write-baseline", "b.json", ".")
    assert (code, out, err) == (0, b"", b"bastion: wrote 1 finding to b.json\n")
    written = (bad_name_repository / "b.json").read_bytes().decode("utf-8")
    assert [entry["path"] for entry in json.loads(written)["findings"]] == [SHOWN]
    code, out, err = _run(bad_name_repository, "check", *select, "--baseline", "b.json", ".")
    assert (code, out) == (0, b"No findings in 1 file\n")
    assert err == b"bastion: 1 finding held by the baseline b.json not shown\n"


def test_lone_surrogates_from_json5_escapes_never_reach_the_output(tmp_path: Path) -> None:
    _write(tmp_path / "renovate.json", '{"extends": ["github>a/\\ud800", "github>b/\\udcff"]}')
    _write(tmp_path / ".github" / "workflows" / "x.yml", "on: push\npermissions: {}\njobs: {}\n")
    for fmt in ("human", "json", "sarif", "github"):
        code, out, err = _run(tmp_path, "check", "--no-config", "--format", fmt, ".")
        assert (code, err) == (1, b"")
        text = out.decode("utf-8")
        assert "`github>a/\\ud800`, `github>b/\\xff`" in (
            json.dumps(json.loads(text), ensure_ascii=False) if fmt in ("json", "sarif") else text
        ).replace("\\\\", "\\")


def test_escape_text() -> None:
    assert escape_text(os.fsdecode(b"a\xff\x80.yml")) == "a\\xff\\x80.yml"
    assert escape_text("x\ud800y") == "x\\ud800y"
    assert escape_text("café ✓") == "café ✓"


# --- expressions GitHub refuses -----------------------------------------------------------


def test_unclosed_expression_is_a_syntax_error_at_its_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / ".github" / "workflows" / "x.yml",
        PULL_REQUEST_TARGET + "    steps:\n      - run: echo ${{ github.event.issue.title\n",
    )
    code, document, err = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert (code, err) == (1, "")
    assert _findings(document, "syntax-error") == [
        (
            ".github/workflows/x.yml",
            7,
            19,
            "an expression opened with `${{` is never closed with `}}`",
        )
    ]


@pytest.mark.parametrize(
    ("value", "column", "message"),
    [
        # Not written verbatim (an escape): the place is the ${{.
        ('"${{ a == \\"b\\" }}"', 15, "strings must be single-quoted, found '\"'"),
        ("${{ github.event.issue.title == }}", 46, "expected a literal, a context, a function"),
        ("${{ }}", 17, "expected an expression, found end of expression"),
        ("ok ${{ a }} then ${{ (b }}", 38, "expected ')' to close the '(' opened at offset 1"),
        ("${{ a = b }}", 20, "unexpected '=' (did you mean '=='?)"),
        ("${{ 'it''s' }} ${{ 'x }}", 29, None),
    ],
)
def test_expression_syntax_errors_are_found_at_their_place(
    *,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
    column: int,
    message: str | None,
) -> None:
    _write(
        tmp_path / ".github" / "workflows" / "x.yml",
        PULL_REQUEST_TARGET + f"    steps:\n      - run: {value}\n",
    )
    code, document, _ = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    [(path, line, found_column, found_message)] = _findings(document, "syntax-error")
    assert (code, path, line, found_column) == (1, ".github/workflows/x.yml", 7, column)
    if message is None:
        assert found_message == "an expression opened with `${{` is never closed with `}}`"
    else:
        assert found_message.startswith(f"invalid expression: {message}")


def test_valid_expressions_and_unevaluated_text_are_not_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / ".github" / "workflows" / "x.yml",
        "# a comment may hold ${{ anything\n"
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ${{ matrix.os }}\n"
        "    if: ${{ !cancelled() && (github.event_name == 'push' || 1 < 2.5e3) }}\n"
        "    steps:\n"
        "      - run: echo ${{ '}}' }} ${{ format('{0}}}', a.b[*].c) }} ${{ a['x'].y }}\n"
        "      - run: echo $ { { not an expression } } and $${ { }}\n",
    )
    code, document, err = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert (code, err, _findings(document, "syntax-error")) == (0, "", [])


def test_expression_in_an_action_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "action.yml",
        "runs:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.x\n      shell: bash\n",
    )
    code, document, _ = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert code == 1
    assert _findings(document, "syntax-error") == [
        ("action.yml", 4, 17, "an expression opened with `${{` is never closed with `}}`")
    ]


# --- adversarial structure ----------------------------------------------------------------

ADVERSARIAL = {
    "non-string keys": "? [a, b]\n: c\non: push\njobs:\n  ? [x]\n  : {runs-on: x}\n",
    "integer events": "on: [1, 2]\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n",
    "jobs is a number": "on: 5\njobs: 5\n",
    "steps is a string": 'on: push\njobs:\n  a:\n    runs-on: x\n    steps: "x"\n',
    "nulls everywhere": "name:\non:\n  push:\njobs:\n  a:\n    runs-on:\n    steps:\n      -\n"
    "      - run:\n        with:\n      - uses:\n",
    "uses is a number": "on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    steps:\n"
    "      - uses: 5\n        with: 5\n  b:\n    uses: 5\n    secrets: 5\n",
    "odd tags": "!!map\n!!str on: !!seq [!!str push, !custom x]\njobs: !!map\n  a:\n"
    "    runs-on: !!int 5\n    steps:\n      - uses: !foo actions/checkout@v4\n",
    "anchors and merges": "x: &a\n  runs-on: x\n  steps:\n    - run: echo ${{ github.head_ref }}\n"
    "on: &on [pull_request_target]\njobs:\n  a: *a\n  b:\n    <<: [*a, 1, [2]]\n  c:\n"
    "    <<: 5\n    runs-on: x\n    steps: *on\n",
    "flow nesting": "on: push\njobs: " + "[" * 990 + "]" * 990 + "\n",
    "huge key": "on: push\njobs:\n  " + "k" * 200_000 + ":\n    runs-on: x\n",
    "many unclosed strings": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
    "      - run: echo " + "${{ '" * 20_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_workflows_end_in_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    _write(tmp_path / ".github" / "workflows" / "x.yml", ADVERSARIAL[name])
    code, document, err = _check_json(monkeypatch, capsys, tmp_path)
    assert (code, document["errors"]) == (1, [])
    assert "internal error" not in err


def test_many_findings_on_one_long_line_show_a_window_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "echo " + "${{ github.event.issue.title }} " * 3000
    _write(
        tmp_path / ".github" / "workflows" / "x.yml",
        PULL_REQUEST_TARGET + f"    steps:\n      - run: {line}\n",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    assert main(["check", "--no-config", "--select", "template-injection", "."]) == 1
    out = capsys.readouterr().out
    assert out.count("[template-injection]") == 3000
    assert max(len(text) for text in out.splitlines() if text.startswith("7 |")) < 260
    assert "7 | …github.event.issue.title }} ${{ github.event.issue.title }}" in out


# --- exit codes and usage -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope"], "(see `bastion --help`)"),
        (["check", "--format", "xml"], "(see `bastion check --help`)"),
        (["explain"], "(see `bastion explain --help`)"),
        (["check", "--bogus", "."], "--bogus (see `bastion check --help`)"),
        (["pin", ".", "-x"], "-x (see `bastion pin --help`)"),
    ],
)
def test_usage_errors_name_the_command_and_exit_2(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("bastion: error: ")
    assert captured.err.endswith(f"{message}\n")
    assert "bastion bastion" not in captured.err


def test_a_crash_while_building_a_model_loses_the_file_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / ".github" / "workflows" / "x.yml", PULL_REQUEST_TARGET)

    def broken(*_: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(engine, "build_model", broken)
    code, document, err = _check_json(monkeypatch, capsys, tmp_path)
    assert code == 2
    errors = document["errors"]
    assert isinstance(errors, list)
    assert len(errors) == 1
    assert errors[0].startswith("internal error while reading .github/workflows/x.yml (")
    assert f"bastion: {errors[0]}\n" in err


def test_a_crash_anywhere_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bastion.cli import check

    def broken(*_: object, **__: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(check, "Check", broken)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-config", "."]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bastion: internal error: KeyError: 'boom' (test_hostile_input.py:")
    assert err.endswith("); please report this\n")
    assert "Traceback" not in err


def test_a_bare_if_that_is_not_an_expression_is_a_syntax_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / ".github" / "workflows" / "x.yml",
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n"
        '    if: github.event_name == "push"\n'
        "    steps:\n      - run: echo\n        if: success() &&\n"
        "      - run: echo\n        if: ${{ a }} && b\n"
        "      - run: echo\n        if: always() || false\n",
    )
    code, document, _ = _check_json(monkeypatch, capsys, tmp_path, "--select", "syntax-error")
    assert code == 1
    path = ".github/workflows/x.yml"
    assert _findings(document, "syntax-error") == [
        (path, 6, 30, "invalid expression in `if`: strings must be single-quoted, found '\"'"),
        (
            path,
            9,
            25,
            "invalid expression in `if`: expected a literal, a context, a function call, "
            "'!' or '(', found end of expression",
        ),
    ]


@pytest.mark.parametrize("command", [("pin", "--offline", "."), ("fix", "--unsafe", ".")])
def test_file_name_not_utf8_in_the_messages_of_pin_and_fix(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    with open(os.fsencode(workflows) + b"/" + BAD_NAME, "w", encoding="utf-8") as handle:
        handle.write("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@v1\n")
    code, out, err = _run(tmp_path, *command)
    assert code == 1
    printed = (out + err).decode("utf-8")  # strict: every stream is valid UTF-8
    assert f"{SHOWN}:" in printed
