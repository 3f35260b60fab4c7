"""The REST client against the local GitHub API: pages, ETags, limits, errors, concurrency."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from bastion.github.host import Host, Token
from bastion.github.rest import ApiError, RateLimitError, RestClient
from tests.settings.server import ALL_PERMISSIONS, GitHub

SECRET = "ghp_do_not_print_me_0123456789"


@pytest.fixture
def server() -> object:
    with GitHub() as github:
        github.add_token(SECRET, ALL_PERMISSIONS)
        org = github.add_org("acme")
        for number in range(250):
            github.add_repo(org, f"r{number:03}")
        yield github


def client(
    github: GitHub, cache: Path, token: str | None = SECRET, **options: object
) -> tuple[RestClient, list[float]]:
    slept: list[float] = []
    rest = RestClient(
        Host.from_web_url(github.web_url),
        Token(token, "test") if token is not None else None,
        cache_dir=cache,
        sleep=slept.append,
        write_interval=0.0,
        **options,  # type: ignore[arg-type]
    )
    return rest, slept


def test_get_sends_the_api_headers_and_parses_json(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path)
    response = rest.get("/orgs/acme")
    assert response.status == 200
    assert response.data["login"] == "acme"
    assert response.header("ETag") is not None
    sent = server.seen_headers[-1]
    assert sent["accept"] == "application/vnd.github+json"
    assert sent["x-github-api-version"] == "2022-11-28"
    assert sent["authorization"] == f"Bearer {SECRET}"
    assert sent["user-agent"].startswith("bastion/")


def test_paginate_follows_link_headers(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path)
    names = [repo["name"] for repo in rest.paginate("/orgs/acme/repos")]
    assert names == [f"r{number:03}" for number in range(250)]
    assert server.counters.requests == 3  # 100 + 100 + 50
    secrets = list(rest.paginate("/repos/acme/r000/actions/secrets"))
    assert secrets == []


def test_second_read_is_a_304_from_the_cache(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path)
    first = list(rest.paginate("/orgs/acme/repos"))
    again, _ = client(server, tmp_path)
    second = list(again.paginate("/orgs/acme/repos"))
    assert first == second
    assert (server.counters.requests, server.counters.not_modified) == (6, 3)
    assert (again.stats.requests, again.stats.not_modified, again.stats.counted) == (3, 3, 0)
    # A change is seen: the ETag differs, so GitHub answers 200 again.
    server.add_repo(server.orgs["acme"], "zzz")
    third, _ = client(server, tmp_path)
    assert len(list(third.paginate("/orgs/acme/repos"))) == 251
    assert third.stats.not_modified == 2  # the first two pages did not change


def test_cache_is_per_token_and_never_holds_it(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path)
    rest.get("/orgs/acme")
    other_token = server.add_token("other-token", ALL_PERMISSIONS)
    other, _ = client(server, tmp_path, token=other_token)
    other.get("/orgs/acme")
    assert other.stats.not_modified == 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8")


def test_missing_permission_is_named(server: GitHub, tmp_path: Path) -> None:
    limited = server.add_token("limited", {"metadata": "read"})
    rest, _ = client(server, tmp_path, token=limited)
    with pytest.raises(ApiError) as caught:
        rest.get("/repos/acme/r001/actions/permissions")
    error = caught.value
    assert (error.status, error.permission) == (403, "administration=read")
    assert str(error) == (
        "GET /api/v3/repos/acme/r001/actions/permissions: 403 Resource not accessible by "
        "personal access token (the endpoint needs permission administration=read)"
    )
    with pytest.raises(ApiError) as caught:
        rest.get("/orgs/acme/actions/permissions")
    assert (caught.value.status, caught.value.permission) == (
        404,
        "organization_administration=read",
    )


def test_token_never_appears_in_errors_or_reprs(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path, token="not-a-known-token")
    with pytest.raises(ApiError) as caught:
        rest.get("/orgs/acme")
    assert caught.value.status == 401
    assert "not-a-known-token" not in str(caught.value)
    assert "not-a-known-token" not in repr(rest)


def test_retry_after_is_honoured(server: GitHub, tmp_path: Path) -> None:
    rest, slept = client(server, tmp_path)
    server.fail(r"^/orgs/acme$", 429, retry_after="3")
    server.fail(r"^/orgs/acme$", 403, retry_after="2")
    assert rest.get("/orgs/acme").data["login"] == "acme"
    assert [round(s) for s in slept] == [3, 2]
    assert rest.stats.retries == 2


def test_too_long_a_wait_is_an_error_not_a_hang(server: GitHub, tmp_path: Path) -> None:
    rest, slept = client(server, tmp_path, max_wait=60.0)
    server.fail(r"^/orgs/acme$", 403, retry_after="3600")
    with pytest.raises(RateLimitError) as caught:
        rest.get("/orgs/acme")
    assert slept == []
    assert "GitHub asks to wait 3600 s" in str(caught.value)


def test_exhausted_primary_limit_waits_for_the_reset(server: GitHub, tmp_path: Path) -> None:
    import time

    rest, slept = client(server, tmp_path)
    reset = str(int(time.time()) + 30)
    server.fail(r"^/orgs/acme$", 403, x_ratelimit_remaining="0", x_ratelimit_reset=reset)
    assert rest.get("/orgs/acme").status == 200
    assert len(slept) == 1
    assert 25 <= slept[0] <= 31


def test_writes_send_json_and_return_the_answer(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path)
    created = rest.request(
        "POST",
        "/repos/acme/r001/rulesets",
        {"name": "x", "enforcement": "active", "target": "branch", "rules": []},
    )
    assert created.status == 201
    assert created.data["name"] == "x"
    done = rest.request("PUT", "/repos/acme/r001/immutable-releases")
    assert (done.status, done.data) == (204, None)
    with pytest.raises(ApiError) as caught:
        rest.request("POST", "/repos/acme/r001/rulesets", {"enforcement": "active"})
    assert caught.value.status == 422


def test_writes_are_spaced(server: GitHub, tmp_path: Path) -> None:
    rest, slept = client(server, tmp_path)
    rest.write_interval = 5.0
    rest.request("PUT", "/repos/acme/r001/immutable-releases")
    rest.request("PUT", "/repos/acme/r002/immutable-releases")
    assert len(slept) == 1
    assert 4.0 < slept[0] <= 5.0


def test_concurrency_is_bounded(server: GitHub, tmp_path: Path) -> None:
    server.latency = 0.05
    rest, _ = client(server, tmp_path, concurrency=3)
    threads = [threading.Thread(target=rest.get, args=(f"/repos/acme/r{n:03}",)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.counters.requests == 24
    assert server.max_active == 3


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rest = RestClient(
        Host.from_web_url(f"http://127.0.0.1:{port}"),
        Token(SECRET, "test"),
        cache_dir=tmp_path,
        sleep=lambda _: None,
    )
    with pytest.raises(ApiError) as caught:
        rest.get("/orgs/acme")
    assert caught.value.status == 0
    assert str(caught.value).startswith(
        f"GET /api/v3/orgs/acme: cannot reach http://127.0.0.1:{port}/api/v3:"
    )
    assert rest.stats.requests == 3  # two retries


def test_urls_outside_the_api_are_refused(server: GitHub, tmp_path: Path) -> None:
    rest, _ = client(server, tmp_path)
    with pytest.raises(ApiError, match="outside the API host"):
        rest.get("https://elsewhere.example/orgs/acme")
