"""The git protocol v2 client against git's own http-backend on loopback."""

from __future__ import annotations

import hashlib
import subprocess
import zlib
from pathlib import Path

import pytest

from bastion.github import git
from bastion.github.host import Host, Token
from tests.pinning.conftest import TOKEN, World
from tests.pinning.gitserver import GIT_ENV


def client(world: World, token: Token | None = None, timeout: float = 10.0) -> git.GitClient:
    return git.GitClient(Host.from_web_url(world.url), token, timeout)


def test_pkt_lines_round_trip() -> None:
    stream = git.pkt_line("command=ls-refs\n") + git.DELIM + git.pkt_line(b"peel\n") + git.FLUSH
    assert stream == b"0014command=ls-refs\n00010009peel\n0000"
    packets = list(git.read_packets(stream))
    assert [(p.kind, p.text) for p in packets] == [
        ("data", "command=ls-refs"),
        ("delim", ""),
        ("data", "peel"),
        ("flush", ""),
    ]


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"zzzzhello", "malformed pkt-line length"),
        (b"0010abc", "truncated"),
        (b"0003", "malformed"),
    ],
)
def test_malformed_pkt_lines_are_clear_errors(stream: bytes, message: str) -> None:
    with pytest.raises(git.GitError, match=message):
        list(git.read_packets(stream))


def test_ls_refs_is_one_request_with_peeled_tags_and_default_branch(fresh: World) -> None:
    commits = fresh.commits
    listing = git.list_refs(client(fresh), "acme", "tool")
    assert listing.default_branch == "main"
    assert listing.heads == {"main": commits.c5, "release/v1": commits.r2}
    assert listing.tags == {
        "v1": commits.c3,
        "v1.0.0": commits.c1,  # annotated: peeled to the commit
        "v1.1.0": commits.c2b,  # moved
        "v1.2.0": commits.c3,
        "v1.2.1": commits.p1,
        "v1.3.0": commits.r1,
        "v2": commits.c4,
        "v2.0.0": commits.c4,
    }
    requests = fresh.state.git_requests()
    assert len(requests) == 1
    assert requests[0].method == "POST"
    assert requests[0].path == "/acme/tool.git/git-upload-pack"
    assert requests[0].headers["git-protocol"] == "version=2"
    assert "authorization" not in requests[0].headers
    assert b"ref-prefix refs/heads/" in requests[0].body


def test_missing_repository_says_it_may_be_private(fresh: World) -> None:
    with pytest.raises(git.GitError) as caught:
        git.list_refs(client(fresh), "acme", "nope")
    assert caught.value.not_found
    assert "does not exist, or is private" in str(caught.value)
    assert "GH_TOKEN" in str(caught.value)


def test_private_repository_needs_the_token_and_never_shows_it(fresh: World) -> None:
    with pytest.raises(git.GitError) as anonymous:
        git.list_refs(client(fresh), "acme", "private")
    assert anonymous.value.status == 401
    wrong = Token("wrong-secret", "GH_TOKEN")
    with pytest.raises(git.GitError) as refused:
        git.list_refs(client(fresh, wrong), "acme", "private")
    assert refused.value.status == 404
    assert "token from GH_TOKEN cannot read it" in str(refused.value)
    assert "wrong-secret" not in str(refused.value)
    assert "wrong-secret" not in repr(client(fresh, wrong))
    listing = git.list_refs(client(fresh, Token(TOKEN, "GH_TOKEN")), "acme", "private")
    assert listing.tags == {"v1.0.0": fresh.commits.private}


def test_timeout_is_a_clear_error(fresh: World) -> None:
    fresh.state.latency = 1.0
    with pytest.raises(git.GitError, match="did not answer within"):
        git.list_refs(client(fresh, timeout=0.2), "acme", "tool")


def test_a_server_that_is_not_git_is_named(fresh: World) -> None:
    fresh.state.rest["/api/v3/acme/tool.git/git-upload-pack"] = {"message": "hello"}
    host = Host.from_web_url(fresh.url + "/api/v3")
    with pytest.raises(git.GitError, match="did not answer as a git server"):
        git.list_refs(git.GitClient(host), "acme", "tool")


def test_malformed_ref_list() -> None:
    with pytest.raises(git.GitError, match="malformed"):
        git.parse_ls_refs(git.pkt_line("not a ref line\n") + git.FLUSH)
    with pytest.raises(git.GitError, match="cut short"):
        git.parse_ls_refs(git.pkt_line(f"{'a' * 40} refs/heads/main\n"))
    with pytest.raises(git.GitError, match="refused the request for x: no such thing"):
        git.parse_ls_refs(git.pkt_line("ERR no such thing\n") + git.FLUSH, "x")


def test_fetch_sends_only_the_commits_between_have_and_want(fresh: World) -> None:
    commits = fresh.commits
    found = git.fetch_commits(client(fresh), "acme", "tool", [commits.c5], [commits.c3])
    assert {c.oid: c.parents for c in found} == {
        commits.c5: (commits.c4,),
        commits.c4: (commits.c3,),
    }
    assert len(fresh.state.git_requests()) == 1
    assert b"filter tree:0" in fresh.state.git_requests()[0].body


def test_negotiation_acknowledges_only_objects_the_server_holds(fresh: World) -> None:
    commits = fresh.commits
    held = git.has_commits(client(fresh), "acme", "tool", commits.c5, [commits.p1, "1" * 40])
    assert held == {commits.p1}


def test_read_pack_resolves_deltas(tmp_path: Path) -> None:
    """A pack made by git pack-objects, with deltas, decodes to the objects git stored."""
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin"}

    def run(*args: str, data: bytes | None = None) -> bytes:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, env=env, input=data, capture_output=True, check=True
        ).stdout

    run("init", "-q")
    base = "".join(f"line {n} of a file long enough to be worth a delta\n" for n in range(200))
    oids = []
    for version in range(4):
        (tmp_path / "f.txt").write_text(base + f"version {version}\n")
        oids.append(run("hash-object", "-w", "f.txt").decode().strip())
    pack = run("pack-objects", "--stdout", "--window=10", data="\n".join(oids).encode())
    listing = run("verify-pack", "-v", _write(tmp_path / "p.pack", pack)).decode()
    deltified = [line for line in listing.splitlines() if len(line.split()) == 7]
    assert len(deltified) >= 2  # the test is only worth something if git made deltas
    objects = git.read_pack(pack)
    assert sorted(o.oid for o in objects) == sorted(oids)
    texts = {o.data.decode().rsplit("\n", 2)[-2] for o in objects}
    assert texts == {f"version {n}" for n in range(4)}


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    subprocess.run(["git", "index-pack", str(path)], check=True, capture_output=True)
    return str(path.with_suffix(".idx"))


def test_corrupt_pack_is_refused() -> None:
    body = b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big")
    body += bytes([0x35]) + zlib.compress(b"hello")
    assert git.read_pack(body + hashlib.sha1(body).digest())[0].kind == "blob"
    with pytest.raises(git.GitError, match="checksum"):
        git.read_pack(body + b"\0" * 20)
    with pytest.raises(git.GitError, match="no PACK header"):
        git.read_pack(b"JUNK" + body[4:] + hashlib.sha1(b"JUNK" + body[4:]).digest())
