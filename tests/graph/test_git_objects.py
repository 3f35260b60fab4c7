"""Snapshots (trees without blobs) and blobs by id, from git's own http-backend."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bastion.github import git
from bastion.github.host import Host
from tests.graph.conftest import World
from tests.graph.corpus import ACTIONS, Translation

CHECKOUT_V4 = "11d5960a326750d5838078e36cf38b85af677262"
CODECOV = "18283e04ce6e62d37312384ff67231eb8fd56d24"
LOCK_THREADS_TAG_OBJECT = "f5f995c727ac99a91dec92781a8e34e7c839a65e"
LOCK_THREADS_V6 = "7266a7ce5c1df01b1c6db85bf8cd86c737dadbe7"


def client(world: World) -> git.GitClient:
    return git.GitClient(Host.from_web_url(world.url), None, 10.0)


def built(translation: Translation, *real: str) -> list[str]:
    return [translation.built(oid) for oid in real]


def test_trees_of_two_commits_in_one_request_without_blobs(fresh: World) -> None:
    wanted = built(fresh.translation, CODECOV, "671740ac38dd9b0130fbe1cec585b89eea48d3de")
    snapshots = git.fetch_trees(client(fresh), "codecov", "codecov-action", wanted)
    requests = fresh.state.git_requests()
    assert len(requests) == 1
    assert b"filter blob:none" in requests[0].body
    assert b"deepen 1" in requests[0].body
    folder = ACTIONS / "codecov__codecov-action" / CODECOV
    expected = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert sorted(snapshots[wanted[0]].files) == expected
    assert snapshots[wanted[0]].files["action.yml"] == (
        git.MODE_FILE,
        _blob_id((folder / "action.yml").read_bytes()),
    )
    assert set(snapshots) == set(wanted)


def test_blobs_by_id_are_exactly_those_asked_for(fresh: World) -> None:
    folder = ACTIONS / "actions__checkout" / CHECKOUT_V4
    data = (folder / "action.yml").read_bytes()
    blobs = git.fetch_blobs(client(fresh), "actions", "checkout", [_blob_id(data)])
    assert blobs == {_blob_id(data): data}
    assert len(fresh.state.git_requests()) == 1


def test_an_annotated_tag_id_gives_the_snapshot_of_its_commit(fresh: World) -> None:
    [tag] = built(fresh.translation, LOCK_THREADS_TAG_OBJECT)
    [commit] = built(fresh.translation, LOCK_THREADS_V6)
    snapshot = git.fetch_trees(client(fresh), "dessant", "lock-threads", [tag])[tag]
    assert snapshot.commit == commit
    assert "action.yml" in snapshot.files


def test_a_missing_object_is_a_clear_error(fresh: World) -> None:
    with pytest.raises(git.GitError, match=r"not our ref 0{40}"):
        git.fetch_trees(client(fresh), "actions", "checkout", ["0" * 40])
    with pytest.raises(git.GitError, match=r"not our ref 1{40}"):
        git.fetch_blobs(client(fresh), "actions", "checkout", ["1" * 40])


def test_nothing_asked_sends_nothing(fresh: World) -> None:
    assert git.fetch_trees(client(fresh), "actions", "checkout", []) == {}
    assert git.fetch_blobs(client(fresh), "actions", "checkout", []) == {}
    assert fresh.state.git_requests() == []


def test_tree_entries_and_malformed_trees() -> None:
    entry = b"100644 a.yml\0" + bytes(range(20)) + b"40000 sub\0" + bytes(20)
    assert git.parse_tree(entry) == [
        ("100644", "a.yml", bytes(range(20)).hex()),
        ("40000", "sub", "00" * 20),
    ]
    with pytest.raises(git.GitError, match="malformed"):
        git.parse_tree(b"100644 a.yml\0short")


def test_snapshots_round_trip_through_json() -> None:
    snapshot = git.Snapshot("c" * 40, {"action.yml": (git.MODE_FILE, "b" * 40)})
    assert git.Snapshot.from_json(snapshot.to_json()) == snapshot
    with pytest.raises(ValueError, match="snapshot"):
        git.Snapshot.from_json({"files": {"x": "y"}})


def test_the_resolver_caches_snapshots_and_blobs_forever(fresh: World, tmp_path: Path) -> None:
    resolver = fresh.resolver(tmp_path / "cache")
    first = resolver.snapshots("actions", "checkout", [CHECKOUT_V4, "0" * 40])
    snapshot = first[CHECKOUT_V4]
    assert isinstance(snapshot, git.Snapshot)
    assert snapshot.commit == CHECKOUT_V4
    assert isinstance(first["0" * 40], git.GitError)
    blob = snapshot.files["action.yml"][1]
    assert resolver.blobs("actions", "checkout", [blob])[blob].startswith(b"name:")
    sent = len(fresh.state.git_requests())
    # The batch fails on the missing commit; the listing gives a branch tip to want, one
    # negotiation round tells which commits the server holds, one fetch brings those; then
    # the blob.
    assert sent == 5
    again = fresh.resolver(tmp_path / "cache")
    assert again.snapshots("actions", "checkout", [CHECKOUT_V4, "0" * 40]).keys() == first.keys()
    assert again.blobs("actions", "checkout", [blob])[blob].startswith(b"name:")
    assert len(fresh.state.git_requests()) == sent


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
