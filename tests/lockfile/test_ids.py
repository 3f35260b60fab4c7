"""The ids client against the loopback REST API of tests/settings (GitHub's repository
object: ``id`` and ``owner.id``), its cache, and its errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.errors import BastionError
from bastion.github.host import Host
from bastion.pinning.cache import Cache
from bastion.pinning.ids import RepositoryIds
from bastion.pinning.resolver import Resolver
from tests.settings.server import GitHub


@pytest.fixture
def server() -> Iterator[GitHub]:
    with GitHub() as github:
        yield github


def _ids(github: GitHub, tmp_path: Path, *, offline: bool = False) -> RepositoryIds:
    host = Host.from_web_url(github.web_url)
    resolver = Resolver(host, None, Cache(host, tmp_path / "cache"), offline=offline)
    return RepositoryIds(resolver)


def test_ids_are_read_once_and_cached_for_good(server: GitHub, tmp_path: Path) -> None:
    org = server.add_org("acme")
    repo = server.add_repo(org, "tool")
    ids = _ids(server, tmp_path)
    assert ids.get("acme", "tool") == (org.id, repo.id)
    assert ids.get("Acme", "Tool") == (org.id, repo.id)  # names are case-insensitive
    assert ids.requests == 1
    again = _ids(server, tmp_path, offline=True)
    assert again.get("acme", "tool") == (org.id, repo.id)
    assert again.requests == 0


def test_a_missing_repository_is_a_clear_error(server: GitHub, tmp_path: Path) -> None:
    server.add_org("acme")
    with pytest.raises(BastionError, match="acme/gone does not exist, or is private"):
        _ids(server, tmp_path).get("acme", "gone")


def test_a_spent_rate_limit_says_to_set_a_token(server: GitHub, tmp_path: Path) -> None:
    org = server.add_org("acme")
    server.add_repo(org, "tool")
    server.fail(
        r"/repos/acme/tool$", 403, x_ratelimit_remaining="0", x_ratelimit_reset="9999999999"
    )
    with pytest.raises(BastionError, match="set GH_TOKEN"):
        _ids(server, tmp_path).get("acme", "tool")
