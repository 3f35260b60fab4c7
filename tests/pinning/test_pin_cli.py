"""`bastion pin` and `bastion update` end to end, against the loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.cli import main
from tests.pinning.conftest import World

WORKFLOW = """\
on: push
jobs:
  call:
    uses: acme/tool/.github/workflows/build.yml@v2
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tool@v1
      - uses: "acme/tool@v1.0.0"
      - uses: 'acme/other@v3.0.0'   # keep this note
      - uses: acme/tool@v1.1.0 # v1.0.9
      - uses: acme/tool@main
      - uses: ./local
      - uses: docker://alpine:3
      - run: 'echo "uses: acme/tool@v1"'
      - {uses: acme/other@v3.0.0, with: {a: b}}
      - uses: acme/tool@v404
"""


def expected_pinned(world: World) -> str:
    c = world.commits
    return f"""\
on: push
jobs:
  call:
    uses: acme/tool/.github/workflows/build.yml@{c.c4} # v2.0.0
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tool@{c.c3} # v1.2.0
      - uses: "acme/tool@{c.c1}" # v1.0.0
      - uses: 'acme/other@{c.other}' # v3.0.0   # keep this note
      - uses: acme/tool@{c.c2b} # v1.1.0
      - uses: acme/tool@main
      - uses: ./local
      - uses: docker://alpine:3
      - run: 'echo "uses: acme/tool@v1"'
      - {{uses: acme/other@{c.other}, with: {{a: b}}}}
      - uses: acme/tool@v404
"""


def write_workflow(root: Path, text: str, name: str = "ci.yml") -> Path:
    path = root / ".github" / "workflows" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def test_pin_rewrites_only_the_refs_and_comments(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workflow(tmp_path, WORKFLOW)
    assert main(["pin", str(tmp_path)]) == 1  # main and v404 are left as they were
    assert path.read_text() == expected_pinned(fresh)
    err = capsys.readouterr().err
    assert "ci.yml:12: acme/tool@main: `main` is a branch" in err
    assert "ci.yml:17: acme/tool@v404: acme/tool has no branch or tag named `v404`" in err
    assert "pinned 6 uses in 1 file; 2 left as they were" in err
    # One listing per distinct repository, nothing else.
    assert sorted(e.path for e in fresh.state.git_requests()) == [
        "/acme/other.git/git-upload-pack",
        "/acme/tool.git/git-upload-pack",
    ]
    assert fresh.state.rest_requests() == []


def test_second_run_changes_nothing_and_sends_nothing(fresh: World, tmp_path: Path) -> None:
    path = write_workflow(tmp_path, WORKFLOW)
    main(["pin", str(tmp_path)])
    first = path.read_bytes()
    before = len(fresh.state.log)
    main(["pin", str(tmp_path)])
    assert path.read_bytes() == first
    assert len(fresh.state.log) == before  # warm cache: zero requests


def test_branches_are_pinned_only_when_asked(fresh: World, tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "on: push\njobs:\n  a:\n    uses: acme/tool/x.yml@main\n")
    assert main(["pin", "--branches", str(path)]) == 0
    assert path.read_text() == (
        f"on: push\njobs:\n  a:\n    uses: acme/tool/x.yml@{fresh.commits.c5} # main\n"
    )


def test_diff_shows_and_writes_nothing(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workflow(tmp_path, "on: push\njobs:\n  a:\n    uses: acme/other/x.yml@v3.0.0\n")
    assert main(["pin", "--diff", str(tmp_path)]) == 0
    assert path.read_text().endswith("@v3.0.0\n")
    out = capsys.readouterr().out
    assert f"+    uses: acme/other/x.yml@{fresh.commits.other} # v3.0.0\n" in out
    assert "-    uses: acme/other/x.yml@v3.0.0\n" in out
    assert out.startswith("--- a/")


def test_composite_action_crlf_and_bom_are_kept(fresh: World, tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_bytes(
        b"\xef\xbb\xbfruns:\r\n  using: composite\r\n  steps:\r\n"
        b"    - uses: acme/tool@v2 # v2\r\n      with: {x: 1}\r\n"
    )
    assert main(["pin", str(action)]) == 0
    assert action.read_bytes() == (
        b"\xef\xbb\xbfruns:\r\n  using: composite\r\n  steps:\r\n"
        + f"    - uses: acme/tool@{fresh.commits.c4} # v2.0.0\r\n".encode()
        + b"      with: {x: 1}\r\n"
    )


def test_sha_pin_without_comment_gets_one(fresh: World, tmp_path: Path) -> None:
    c1 = fresh.commits.c1
    path = write_workflow(tmp_path, f"on: push\njobs:\n  a:\n    uses: acme/tool/x.yml@{c1}\n")
    assert main(["pin", str(path)]) == 0
    assert path.read_text().endswith(f"@{c1} # v1.0.0\n")


def test_offline_with_an_empty_cache_says_what_it_could_not_resolve(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workflow(tmp_path, "on: push\njobs:\n  a:\n    uses: acme/other/x.yml@v3.0.0\n")
    assert main(["pin", "--offline", str(path)]) == 1
    assert "acme/other is not in the cache (run once without --offline)" in capsys.readouterr().err
    assert fresh.state.log == []
    main(["pin", "--diff", str(path)])  # fills the cache
    assert main(["pin", "--offline", str(path)]) == 0
    assert path.read_text().endswith(f"@{fresh.commits.other} # v3.0.0\n")


def test_missing_repository_is_reported_with_the_private_hint(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workflow(tmp_path, "on: push\njobs:\n  a:\n    uses: acme/private/x.yml@v1.0.0\n")
    assert main(["pin", str(path)]) == 1
    assert "does not exist, or is private: set GH_TOKEN" in capsys.readouterr().err


def test_token_from_the_environment_reaches_private_repositories(
    fresh: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GH_TOKEN", "sesame")
    path = write_workflow(tmp_path, "on: push\njobs:\n  a:\n    uses: acme/private/x.yml@v1.0.0\n")
    assert main(["pin", str(path)]) == 0
    assert path.read_text().endswith(f"@{fresh.commits.private} # v1.0.0\n")
    captured = capsys.readouterr()
    assert "sesame" not in captured.out + captured.err


def pinned_at(world: World, tmp_path: Path, commit: str, comment: str) -> Path:
    return write_workflow(
        tmp_path, f"on: push\njobs:\n  a:\n    uses: acme/tool/x.yml@{commit} # {comment}\n"
    )


def test_update_respects_the_cooldown_and_the_major_version(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pinned_at(fresh, tmp_path, fresh.commits.c1, "v1.0.0")
    assert main(["update", str(path)]) == 0
    assert path.read_text().endswith(f"@{fresh.commits.c3} # v1.2.0\n")
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["file", "line", "action", "from", "to"]
    assert out[1].split()[1:] == ["4", "acme/tool/x.yml", "v1.0.0", "v1.2.0"]
    assert len(fresh.state.rest_requests()) == 1  # the releases, for the cooldown


def test_update_without_cooldown_skips_a_tag_on_a_fork_commit(fresh: World, tmp_path: Path) -> None:
    """v1.3.0 (release/v1) is newest; v1.2.1 sits on a pull request commit."""
    path = pinned_at(fresh, tmp_path, fresh.commits.c1, "v1.0.0")
    assert main(["update", "--cooldown", "0", str(path)]) == 0
    assert path.read_text().endswith(f"@{fresh.commits.r1} # v1.3.0\n")
    assert fresh.state.rest_requests() == []


def test_update_across_majors_only_when_asked(fresh: World, tmp_path: Path) -> None:
    path = pinned_at(fresh, tmp_path, fresh.commits.c2b, "v1.1.0")
    assert main(["update", "--major", "--cooldown", "7d", str(path)]) == 0
    assert path.read_text().endswith(f"@{fresh.commits.c4} # v2.0.0\n")


def test_update_with_nothing_old_enough_leaves_the_pin(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pinned_at(fresh, tmp_path, fresh.commits.c3, "v1.2.0")
    before = path.read_text()
    assert main(["update", "--cooldown", "1w", str(path)]) == 0
    assert path.read_text() == before
    assert "moved 0 pins" in capsys.readouterr().err


def test_update_refuses_a_bad_duration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["update", "--cooldown", "soon"]) == 2
    assert "not a duration" in capsys.readouterr().err


def test_pin_finding_gives_the_fix_for_an_unpinned_action_finding(
    fresh: World, tmp_path: Path
) -> None:
    from bastion.config import Config
    from bastion.engine import Checker
    from bastion.inputs import Input, Kind
    from bastion.pinning.plan import pin_finding
    from bastion.pinning.resolver import default_resolver
    from bastion.pinning.rewrite import apply_edits

    text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/tool@v1\n"
    path = write_workflow(tmp_path, text)
    result = Checker(Config(select=frozenset({"unpinned-action"}))).check(
        Input(path.name, Kind.WORKFLOW, path)
    )
    [finding] = result.findings
    plan = pin_finding(finding, text, Kind.WORKFLOW, default_resolver())
    assert plan is not None
    assert plan.problem == ""
    assert apply_edits(text, plan.edits) == text.replace(
        "acme/tool@v1", f"acme/tool@{fresh.commits.c3} # v1.2.0"
    )


def test_a_sha_pin_whose_repository_cannot_be_listed_is_still_pinned(
    fresh: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sha = fresh.commits.c1
    path = write_workflow(tmp_path, f"on: push\njobs:\n  a:\n    uses: acme/gone/x.yml@{sha}\n")
    assert main(["pin", str(path)]) == 0
    assert path.read_text().endswith(f"@{sha}\n")
    assert "no version comment added: repository acme/gone does not exist" in (
        capsys.readouterr().err
    )
