"""Reachability from branches, its request bound, and the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.errors import BastionError
from bastion.github.git import GitClient
from bastion.github.host import Host
from bastion.pinning.cache import Cache
from bastion.pinning.resolver import NotCached, Reach, Reachability, Resolver
from tests.pinning.conftest import World


def resolver(world: World, cache_dir: Path, *, offline: bool = False) -> Resolver:
    host = Host.from_web_url(world.url)
    return Resolver(host, None, Cache(host, cache_dir), offline=offline, client=GitClient(host))


def git_requests(world: World) -> int:
    return len(world.state.git_requests())


def test_commit_on_the_default_branch_costs_one_fetch(fresh: World, tmp_path: Path) -> None:
    answer = resolver(fresh, tmp_path).reachability("acme", "tool", fresh.commits.c3)
    assert answer == Reachability(Reach.BRANCH, "main")
    assert git_requests(fresh) == 2  # the listing and one fetch


def test_commit_on_another_branch_costs_two_fetches(fresh: World, tmp_path: Path) -> None:
    answer = resolver(fresh, tmp_path).reachability("acme", "tool", fresh.commits.r1)
    assert answer == Reachability(Reach.BRANCH, "release/v1")
    assert git_requests(fresh) == 3


def test_branch_tip_needs_no_fetch(fresh: World, tmp_path: Path) -> None:
    answer = resolver(fresh, tmp_path).reachability("acme", "tool", fresh.commits.c5)
    assert answer == Reachability(Reach.BRANCH, "main")
    assert git_requests(fresh) == 1


def test_pull_request_commit_with_a_tag_is_an_impostor_within_the_bound(
    fresh: World, tmp_path: Path
) -> None:
    """Only refs/pull/1/head and the tag v1.2.1 reach p1: a tag is not enough."""
    answer = resolver(fresh, tmp_path).reachability("acme", "tool", fresh.commits.p1)
    assert answer == Reachability(Reach.UNREACHABLE)
    assert git_requests(fresh) == 1 + 3  # listing, default branch, other branches, negotiation


def test_unknown_commit_is_missing(fresh: World, tmp_path: Path) -> None:
    answer = resolver(fresh, tmp_path).reachability("acme", "tool", "0123456789" * 4)
    assert answer == Reachability(Reach.MISSING)


def test_proven_answers_are_cached_forever_and_listings_once_per_run(
    fresh: World, tmp_path: Path
) -> None:
    first = resolver(fresh, tmp_path)
    first.reachability("acme", "tool", fresh.commits.c3)
    first.reachability("acme", "tool", fresh.commits.c3)
    first.listing("ACME", "Tool")  # GitHub names are case-insensitive: same repository
    assert git_requests(fresh) == 2
    second = resolver(fresh, tmp_path, offline=True)
    assert second.reachability("acme", "tool", fresh.commits.c3).reach is Reach.BRANCH
    assert git_requests(fresh) == 2
    with pytest.raises(NotCached, match="not in the cache"):
        second.reachability("acme", "tool", fresh.commits.c1)
    with pytest.raises(NotCached, match="acme/other is not in the cache"):
        second.listing("acme", "other")
    assert git_requests(fresh) == 2


def test_concurrent_prefetch_lists_each_repository_once(fresh: World, tmp_path: Path) -> None:
    fresh.state.latency = 0.05
    pins = [("acme", "tool"), ("acme", "other"), ("acme", "tool"), ("Acme", "Other")] * 5
    resolve = resolver(fresh, tmp_path)
    resolve.prefetch(pins)
    assert sorted(entry.path for entry in fresh.state.git_requests()) == [
        "/acme/other.git/git-upload-pack",
        "/acme/tool.git/git-upload-pack",
    ]


def test_releases_come_from_rest_once(fresh: World, tmp_path: Path) -> None:
    resolve = resolver(fresh, tmp_path)
    released = resolve.releases("acme", "tool")
    assert set(released) == {"v2.0.0", "v1.3.0", "v1.2.0", "v1.1.0", "v1.0.0"}  # no draft
    resolve.releases("acme", "tool")
    assert len(fresh.state.rest_requests()) == 1
    assert resolve.releases("acme", "other") == {}  # 404: no releases


def test_names_that_cannot_be_repositories_send_nothing(fresh: World, tmp_path: Path) -> None:
    with pytest.raises(BastionError, match="is not a GitHub repository name"):
        resolver(fresh, tmp_path).listing("acme", "../../etc")
    assert fresh.state.log == []
