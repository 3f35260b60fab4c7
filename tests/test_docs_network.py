"""A new user without a network: each network command ends with a message that says what
happened and what to do, the exit code the documents give, and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.cli import main

NOWHERE = "http://127.0.0.1:1"  # nothing listens on port 1: the connection is refused at once
HINT = "check the network connection, and the proxy if one is needed (HTTPS_PROXY)"


@pytest.fixture
def offline_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one workflow that uses an action by tag, and no token."""
    for variable in ("GH_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `gh` to ask for a token
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BASTION_GITHUB_URL", NOWHERE)
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (workflows / "ci.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: acme/tool@v1\n"
    )
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (["pin", "--diff"], 1),  # docs/pinning.md: 1 when some `uses:` was left as it was
        (["lock", "--diff"], 1),  # docs/lockfile.md: a pin that cannot be resolved: exit 1
        (["graph"], 1),  # docs/graph.md: 1 when some `uses:` has a problem
        (["check", "--online", "--no-config"], 2),
    ],
)
def test_git_commands_say_the_host_is_unreachable_and_what_to_do(
    offline_user: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    code: int,
) -> None:
    assert main(command) == code
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert f"cannot reach {NOWHERE} for acme/tool: " in output
    assert HINT in output
    assert "Traceback" not in output


def test_rest_commands_say_the_api_is_unreachable_and_what_to_do(
    offline_user: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["repo", "acme/tool", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert f"GET /api/v3/repos/acme/tool: cannot reach {NOWHERE}/api/v3: " in err
    assert err.rstrip().endswith(HINT)
    assert "Traceback" not in err


def test_release_says_the_api_is_unreachable_not_that_the_name_may_be_wrong(
    offline_user: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sigstore")
    pytest.importorskip("pypi_attestations")
    assert main(["release", "acme/tool", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert f"bastion: error: cannot read repository acme/tool on {NOWHERE}: " in err
    assert err.rstrip().endswith(HINT)  # not "(is the name right, ...)": nothing answered
    assert "Traceback" not in err
