"""Owner and repository ids of GitHub repositories, as GitHub's lockfile records them."""

from __future__ import annotations

from bastion.errors import BastionError
from bastion.github.rest import ApiError, RateLimitError, RestClient
from bastion.model.lockfile import Lockfile
from bastion.pinning.resolver import NotCached, Resolver


class RepositoryIds:
    """Owner and repository ids from ``GET /repos/{owner}/{repo}``, cached on disk for good
    (ids never change; a renamed or re-registered repository gets other ones)."""

    def __init__(self, resolver: Resolver, client: RestClient | None = None) -> None:
        self.resolver = resolver
        self.client = client or RestClient(
            resolver.host, resolver.token, use_cache=False, max_wait=0.0, max_retries=0
        )
        self.known: dict[tuple[str, str], tuple[int, int]] = {}
        self.asked: set[tuple[str, str]] = set()
        """Repositories GitHub was asked about in this run."""
        self.requests = 0

    def seed(self, lock: Lockfile) -> None:
        """Take the ids an existing lockfile records (GitHub's writer does the same)."""
        for entry in lock.dependencies.values():
            ids = (entry.owner_id, entry.repo_id)
            self.known.setdefault((entry.pin.owner, entry.pin.repo), ids)

    def get(self, owner: str, repo: str, *, fresh: bool = False) -> tuple[int, int]:
        """The ids, from memory, the cache, else GitHub; ``fresh`` asks GitHub (once a run)."""
        key = (owner.lower(), repo.lower())
        if key in self.known and (not fresh or key in self.asked):
            return self.known[key]
        stored = None if fresh else self.resolver.cache.read(owner, repo, "ids", None)
        if (
            isinstance(stored, list)
            and len(stored) == 2
            and all(isinstance(i, int) for i in stored)
        ):
            self.known[key] = (stored[0], stored[1])
            return self.known[key]
        if self.resolver.offline:
            raise NotCached(f"the ids of {owner}/{repo} are not in the cache")
        ids = self._fetch(owner, repo)
        self.resolver.cache.write(owner, repo, "ids", list(ids))
        self.known[key] = ids
        self.asked.add(key)
        return ids

    def _fetch(self, owner: str, repo: str) -> tuple[int, int]:
        self.requests += 1
        try:
            data = self.client.get(f"/repos/{owner}/{repo}").data
        except RateLimitError:
            raise BastionError(RATE_LIMITED) from None
        except ApiError as error:
            if error.status in (403, 429) and "rate limit" in error.message.lower():
                raise BastionError(RATE_LIMITED) from None
            if error.status == 404:
                raise RepositoryGone(
                    f"{owner}/{repo} does not exist, or is private and the token (if any) "
                    "cannot read it"
                ) from None
            raise BastionError(f"cannot read the ids of {owner}/{repo}: {error}") from None
        owner_data = data.get("owner") if isinstance(data, dict) else None
        repo_id = data.get("id") if isinstance(data, dict) else None
        owner_id = owner_data.get("id") if isinstance(owner_data, dict) else None
        if not isinstance(repo_id, int) or not isinstance(owner_id, int):
            raise BastionError(f"GitHub's answer for {owner}/{repo} has no id or owner id")
        return owner_id, repo_id


class RepositoryGone(BastionError):
    """``GET /repos/{owner}/{repo}`` answered 404."""


RATE_LIMITED = (
    "GitHub's API rate limit is spent (60 requests an hour without a token); set GH_TOKEN "
    "(any token that can read public repositories) and run again: the ids read so far are "
    "cached"
)
