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
    # The batch fails on the missing commit, which the server names; one fetch without it;
    # then the blob.
    assert sent == 3
    assert [_wants(entry.body) for entry in fresh.state.git_requests()] == [
        [fresh.translation.built(CHECKOUT_V4), "0" * 40],
        [fresh.translation.built(CHECKOUT_V4)],
        [blob],
    ]
    assert str(first["0" * 40]) == f"actions/checkout has no commit {'0' * 40} (not our ref)"
    again = fresh.resolver(tmp_path / "cache")
    assert again.snapshots("actions", "checkout", [CHECKOUT_V4, "0" * 40]).keys() == first.keys()
    assert again.blobs("actions", "checkout", [blob])[blob].startswith(b"name:")
    assert len(fresh.state.git_requests()) == sent


def test_commits_and_blobs_in_one_request(fresh: World) -> None:
    """A fetch can carry the trees of new commits and blobs named by id: the filter leaves
    out only the blobs nobody named."""
    folder = ACTIONS / "actions__checkout" / CHECKOUT_V4
    named = _blob_id((folder / "action.yml").read_bytes())
    [codecov] = built(fresh.translation, CODECOV)
    objects = git.fetch_objects(client(fresh), "codecov", "codecov-action", [codecov], [])
    unnamed = objects.snapshots[codecov].blob("action.yml")
    both = git.fetch_objects(
        client(fresh), "actions", "checkout", built(fresh.translation, CHECKOUT_V4), [named]
    )
    assert both.blobs == {named: (folder / "action.yml").read_bytes()}
    assert sorted(both.snapshots[fresh.translation.built(CHECKOUT_V4)].files) == sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )
    assert unnamed is not None
    assert objects.blobs == {}
    assert len(fresh.state.git_requests()) == 2


def test_a_refused_want_names_the_missing_object(fresh: World) -> None:
    [checkout] = built(fresh.translation, CHECKOUT_V4)
    with pytest.raises(git.GitError) as raised:
        git.fetch_objects(client(fresh), "actions", "checkout", [checkout, "0" * 40])
    assert raised.value.missing_object == "0" * 40
    assert "not our ref" in str(raised.value)
    assert git.GitError("the server answered HTTP 500").missing_object is None


def test_missing_commits_among_uncertain_ones_cost_one_negotiation(
    fresh: World, tmp_path: Path
) -> None:
    """The refused commit is dropped; with two or more uncertain commits left, one
    negotiation round (wanting a branch tip from the listing) sorts them all."""
    resolver = fresh.resolver(tmp_path / "cache")
    commits = [CHECKOUT_V4, "1" * 40, "2" * 40, "3" * 40]
    found = resolver.snapshots("actions", "checkout", commits)
    kinds = ["Snapshot", "GitError", "GitError", "GitError"]
    assert [type(found[c]).__name__ for c in commits] == kinds
    sent = [_kind(entry.body) for entry in fresh.state.git_requests()]
    assert sent == ["trees", "ls-refs", "negotiation", "trees"]


def test_a_listed_commit_is_wanted_in_the_negotiation(fresh: World, tmp_path: Path) -> None:
    """A commit the ref listing named surely exists: the negotiation wants it (no listing
    needed), and a lone uncertain commit left is simply asked for again."""
    resolver = fresh.resolver(tmp_path / "cache")
    commits = ["1" * 40, CHECKOUT_V4, "2" * 40, "3" * 40]
    fetched = resolver.objects("actions", "checkout", commits, listed={CHECKOUT_V4})
    assert isinstance(fetched.snapshots[CHECKOUT_V4], git.Snapshot)
    sent = fresh.state.git_requests()
    assert [_kind(entry.body) for entry in sent] == ["trees", "negotiation", "trees"]
    assert _wants(sent[1].body) == [fresh.translation.built(CHECKOUT_V4)]
    fresh.reset()
    other = fresh.resolver(tmp_path / "other")
    other.objects("actions", "checkout", ["4" * 40, CHECKOUT_V4, "5" * 40], listed={CHECKOUT_V4})
    assert [_kind(entry.body) for entry in fresh.state.git_requests()] == ["trees"] * 3


def _kind(body: bytes) -> str:
    if b"command=ls-refs" in body:
        return "ls-refs"
    return "trees" if b"done" in body else "negotiation"


def _wants(body: bytes) -> list[str]:
    return [
        p.text.removeprefix("want ") for p in git.read_packets(body) if p.text.startswith("want ")
    ]


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
