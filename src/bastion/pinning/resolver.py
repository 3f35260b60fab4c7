"""Online answers about action repositories, each fetched at most once per run and cached.

* ``listing``: branches and tags from one git ``ls-refs`` request per repository.
* ``reachability``: whether a commit is reachable from a branch (see :meth:`reachability`
  for the request bound).
* ``releases``: publication dates of GitHub releases, the one REST call (for the cooldown).
* ``snapshots`` and ``blobs``: the file lists of commits and the files' content, for the
  action graph (one request per repository for each batch; cached forever, since they are
  keyed by an object id).

With ``offline`` nothing is sent: answers come from the cache whatever their age, and a
missing one raises :class:`NotCached`.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import re
import threading
import time
from collections.abc import Callable, Container, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from bastion.errors import BastionError
from bastion.github.git import (
    Commit,
    GitClient,
    GitError,
    RefListing,
    Snapshot,
    fetch_blobs,
    fetch_commits,
    fetch_objects,
    has_commits,
    list_refs,
)
from bastion.github.host import Host, Token, find_token, resolve_host
from bastion.github.rest import ApiError, RestClient
from bastion.pinning.cache import REFS_TTL, Cache

CONCURRENCY = 8
"""Requests in flight at once."""
MAX_RELEASES = 300
"""Releases read per repository for the cooldown (three pages)."""

T = TypeVar("T")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class NotCached(BastionError):
    """``--offline`` was given and the cache does not hold the answer."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """Snapshots by the commit asked for (or why there is none), and blobs by id."""

    snapshots: dict[str, Snapshot | BastionError]
    blobs: dict[str, bytes]
    blob_error: BastionError | None = None
    """Why blobs asked for are missing from ``blobs`` (None when every one is there)."""


class Reach(enum.Enum):
    BRANCH = "branch"
    """Reachable from a branch of the repository: a genuine commit."""
    UNREACHABLE = "unreachable"
    """The server holds the commit, but no branch reaches it (a fork's commit, a PR head)."""
    MISSING = "missing"
    """The server does not hold the commit at all."""


@dataclass(frozen=True, slots=True)
class Reachability:
    reach: Reach
    branch: str = ""
    """The branch that reaches the commit, when known."""


def _key(owner: str, repo: str) -> tuple[str, str]:
    return owner.lower(), repo.lower()


class Resolver:
    def __init__(
        self,
        host: Host,
        token: Token | None,
        cache: Cache,
        *,
        offline: bool = False,
        refresh: bool = False,
        client: GitClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.token = token
        self.cache = cache
        self.offline = offline
        self.refresh = refresh
        self.git = client or GitClient(host, token)
        self.clock = clock
        self._lock = threading.Lock()
        self._listings: dict[tuple[str, str], RefListing | BastionError] = {}
        self._reach: dict[tuple[str, str, str], Reachability | BastionError] = {}
        self._releases: dict[tuple[str, str], dict[str, float] | BastionError] = {}
        self._key_locks: dict[object, threading.Lock] = {}

    def __repr__(self) -> str:
        return f"Resolver({self.host.web_url!r}, token={self.token}, offline={self.offline})"

    # Memoisation: each answer is computed once, even when threads ask for it together.

    def _once(self, memo: dict[Any, Any], key: object, compute: Callable[[], object]) -> object:
        with self._lock:
            if key in memo:
                return memo[key]
            lock = self._key_locks.setdefault(("memo", id(memo), key), threading.Lock())
        with lock:
            with self._lock:
                if key in memo:
                    return memo[key]
            try:
                value = compute()
            except BastionError as error:
                value = error
            with self._lock:
                memo[key] = value
            return value

    # Listings --------------------------------------------------------------------------

    def listing(self, owner: str, repo: str) -> RefListing:
        """Branches and tags of ``owner/repo``; raises GitError or NotCached."""
        found = self._once(self._listings, _key(owner, repo), lambda: self._list(owner, repo))
        if isinstance(found, BastionError):
            raise found
        assert isinstance(found, RefListing)
        return found

    def _list(self, owner: str, repo: str) -> RefListing:
        if not _NAME.fullmatch(owner) or not _NAME.fullmatch(repo) or repo.endswith(".git"):
            raise BastionError(f"`{owner}/{repo}` is not a GitHub repository name")
        max_age = None if self.offline else (0.0 if self.refresh else REFS_TTL)
        stored = self.cache.read(owner, repo, "refs", max_age)
        if stored is not None:
            try:
                return RefListing.from_json(stored)
            except (ValueError, KeyError, TypeError):
                pass
        if self.offline:
            raise NotCached(f"{owner}/{repo} is not in the cache (run once without --offline)")
        listing = list_refs(self.git, owner, repo)
        self.cache.write(owner, repo, "refs", listing.to_json())
        return listing

    def prefetch(self, repos: Iterable[tuple[str, str]]) -> None:
        """List many repositories concurrently (errors are kept for ``listing`` to raise)."""
        distinct = list(dict.fromkeys((owner, repo) for owner, repo in repos))
        self._parallel(lambda pair: self._listing_or_error(*pair), distinct)

    def _listing_or_error(self, owner: str, repo: str) -> None:
        with contextlib.suppress(BastionError):
            self.listing(owner, repo)

    def _parallel(self, work: Callable[[T], None], items: list[T]) -> None:
        if len(items) <= 1 or self.offline:
            for item in items:
                work(item)
            return
        with ThreadPoolExecutor(min(CONCURRENCY, len(items))) as pool:
            list(pool.map(work, items))

    # Reachability ----------------------------------------------------------------------

    def reachability(self, owner: str, repo: str, commit: str) -> Reachability:
        """Whether ``commit`` is reachable from a branch of ``owner/repo``.

        Bound: at most three git requests per distinct (repository, commit) besides the
        repository's one listing, and usually one; none when the commit is a branch tip or
        the answer is cached (a proven answer is cached forever).

        1. ``fetch`` the commits of the default branch that the commit does not reach
           (``want`` the branch tip, ``have`` the commit, commits only). The commit is
           reachable exactly when it is a parent of one of them.
        2. If not, the same against every other branch at once.
        3. If still not, one negotiation round: the server acknowledges the ``have`` only
           if it holds the object, which separates an impostor from a missing commit.

        Tags are never consulted: a tag can be pushed onto any commit the server holds.
        """
        key = (*_key(owner, repo), commit)
        found = self._once(self._reach, key, lambda: self._reachability(owner, repo, commit))
        if isinstance(found, BastionError):
            raise found
        assert isinstance(found, Reachability)
        return found

    def prefetch_reachability(self, pins: Iterable[tuple[str, str, str]]) -> None:
        distinct = list(dict.fromkeys(pins))
        self._parallel(lambda pin: self._reachability_or_error(*pin), distinct)

    def _reachability_or_error(self, owner: str, repo: str, commit: str) -> None:
        with contextlib.suppress(BastionError):
            self.reachability(owner, repo, commit)

    def _reachability(self, owner: str, repo: str, commit: str) -> Reachability:
        name = f"commit-{commit}"
        stored = self.cache.read(owner, repo, name, None)
        if isinstance(stored, dict) and stored.get("reach") == Reach.BRANCH.value:
            return Reachability(Reach.BRANCH, str(stored.get("branch", "")))
        listing = self.listing(owner, repo)
        for branch, tip in sorted(listing.heads.items()):
            if tip == commit:
                return self._proven(owner, repo, commit, branch)
        if self.offline:
            raise NotCached(
                f"whether {owner}/{repo}@{commit[:12]} is on a branch is not in the cache"
            )
        default = listing.default_branch if listing.default_branch in listing.heads else None
        stages: list[tuple[str, list[str]]] = []
        if default is not None:
            stages.append((default, [listing.heads[default]]))
        others = [tip for branch, tip in sorted(listing.heads.items()) if branch != default]
        if others:
            stages.append(("", others))
        for stage_branch, tips in stages:
            commits = self._fetch(owner, repo, tips, commit)
            child = next((c for c in commits if commit in c.parents), None)
            if child is not None:
                branch = stage_branch or _branch_of(listing, child.oid, commits) or ""
                return self._proven(owner, repo, commit, branch)
        if not listing.heads:
            return Reachability(Reach.MISSING)
        held = has_commits(self.git, owner, repo, next(iter(listing.heads.values())), [commit])
        return Reachability(Reach.UNREACHABLE if commit in held else Reach.MISSING)

    def is_ancestor(self, owner: str, repo: str, ancestor: str, commit: str) -> bool:
        """Whether ``ancestor`` is ``commit`` or in its history: one ``fetch`` of the commits
        reachable from ``commit`` and not from ``ancestor`` (commits only), one of which has
        ``ancestor`` as a parent exactly when it is. Cached forever (both ids are commits)."""
        if ancestor == commit:
            return True
        name = f"ancestor-{ancestor}-{commit}"
        stored = self.cache.read(owner, repo, name, None)
        if isinstance(stored, bool):
            return stored
        if self.offline:
            raise NotCached(f"the history of {owner}/{repo}@{commit[:12]} is not in the cache")
        commits = self._fetch(owner, repo, [commit], ancestor)
        found = any(ancestor in c.parents for c in commits)
        self.cache.write(owner, repo, name, found)
        return found

    def _fetch(self, owner: str, repo: str, tips: list[str], commit: str) -> list[Commit]:
        return fetch_commits(self.git, owner, repo, tips, [commit])

    def _proven(self, owner: str, repo: str, commit: str, branch: str) -> Reachability:
        self.cache.write(
            owner, repo, f"commit-{commit}", {"reach": Reach.BRANCH.value, "branch": branch}
        )
        return Reachability(Reach.BRANCH, branch)

    # Snapshots and blobs (the action graph) --------------------------------------------

    def snapshots(
        self, owner: str, repo: str, commits: Iterable[str]
    ) -> dict[str, Snapshot | BastionError]:
        """The file list of each commit (see :meth:`objects`)."""
        return self.objects(owner, repo, commits).snapshots

    def blobs(self, owner: str, repo: str, oids: Iterable[str]) -> dict[str, bytes]:
        """The content of blobs (see :meth:`objects`); raises GitError or NotCached."""
        fetched = self.objects(owner, repo, (), oids)
        if fetched.blob_error is not None:
            raise fetched.blob_error
        return fetched.blobs

    def objects(
        self,
        owner: str,
        repo: str,
        commits: Iterable[str],
        blobs: Iterable[str] = (),
        *,
        listed: Container[str] = (),
    ) -> Fetched:
        """The file lists of ``commits`` and the content of ``blobs``: from the cache, else in
        one request for all the rest (both kinds together), cached forever.

        A commit the server lacks fails a request; git names it, so it is dropped. If at most
        one of the rest is uncertain (not in ``listed``, the commits the ref listing named),
        the rest is asked for again; otherwise one negotiation round first (the server
        acknowledges the commits it holds, ``want``-ing a listed commit, else a branch tip),
        so that the last request asks only for what is there.
        """
        found: dict[str, Snapshot | BastionError] = {}
        wanted: list[str] = []
        for commit in dict.fromkeys(commits):
            name = f"tree-{commit}"
            stored = self.cache.read(owner, repo, name, None)
            if isinstance(stored, dict) and isinstance(stored.get("missing"), str):
                age = self.cache.age(owner, repo, name)
                if self.offline or (not self.refresh and age is not None and age <= REFS_TTL):
                    found[commit] = GitError(stored["missing"], int(stored.get("status") or 0))
                    continue
            try:
                found[commit] = Snapshot.from_json(stored)
            except ValueError:
                wanted.append(commit)
        contents: dict[str, bytes] = {}
        wanted_blobs: list[str] = []
        for oid in dict.fromkeys(blobs):
            stored = self.cache.read(owner, repo, f"blob-{oid}", None)
            if isinstance(stored, str):
                with contextlib.suppress(ValueError):
                    contents[oid] = base64.b64decode(stored, validate=True)
                    continue
            wanted_blobs.append(oid)
        if self.offline:
            for commit in wanted:
                found[commit] = NotCached(
                    f"the files of {owner}/{repo}@{commit[:12]} are not in the cache"
                )
            error = NotCached(f"files of {owner}/{repo} are not in the cache")
            return Fetched(found, contents, error if wanted_blobs else None)
        snapshots, fetched, blob_error = self._fetch_objects(
            owner, repo, wanted, wanted_blobs, listed
        )
        for commit, snapshot in snapshots.items():
            if isinstance(snapshot, Snapshot):
                self.cache.write(owner, repo, f"tree-{commit}", snapshot.to_json())
            elif isinstance(snapshot, GitError) and _absent(snapshot):
                # Remembered as long as a ref listing: the commit may yet be pushed.
                value = {"missing": str(snapshot), "status": snapshot.status}
                self.cache.write(owner, repo, f"tree-{commit}", value)
        left_out = [oid for oid in wanted_blobs if oid not in fetched]
        if left_out and blob_error is None:
            # A server that filters named blobs too: ask for them alone.
            try:
                fetched.update(fetch_blobs(self.git, owner, repo, left_out))
            except BastionError as error:
                blob_error = error
        for oid, data in fetched.items():
            self.cache.write(owner, repo, f"blob-{oid}", base64.b64encode(data).decode("ascii"))
        found.update(snapshots)
        contents.update(fetched)
        return Fetched(found, contents, blob_error)

    def _fetch_objects(
        self, owner: str, repo: str, commits: list[str], blobs: list[str], listed: Container[str]
    ) -> tuple[dict[str, Snapshot | BastionError], dict[str, bytes], BastionError | None]:
        answer: dict[str, Snapshot | BastionError] = {}
        remaining = list(commits)
        blob_error: BastionError | None = None
        negotiated = False
        while remaining or blobs:
            try:
                objects = fetch_objects(self.git, owner, repo, remaining, blobs)
            except GitError as error:
                missing = error.missing_object
                if missing is not None and missing in remaining:
                    answer[missing] = _no_commit(owner, repo, missing)
                    remaining.remove(missing)
                    uncertain = [commit for commit in remaining if commit not in listed]
                    if negotiated or len(uncertain) <= 1:
                        continue
                elif missing is not None and missing in blobs:
                    blob_error, blobs = error, []
                    continue
                elif (
                    missing or not _absent(error) or error.not_found or negotiated or not remaining
                ):
                    answer.update(dict.fromkeys(remaining, error))
                    return answer, {}, blob_error or (error if blobs else None)
                negotiated = True
                sure = next((commit for commit in remaining if commit in listed), None)
                held = self._held(owner, repo, remaining, sure)
                answer.update((c, _no_commit(owner, repo, c)) for c in remaining if c not in held)
                remaining = [commit for commit in remaining if commit in held]
                continue
            answer.update(objects.snapshots)
            return answer, objects.blobs, blob_error
        return answer, {}, blob_error

    def _held(self, owner: str, repo: str, commits: list[str], sure: str | None) -> set[str]:
        """Of ``commits``, those the server holds, in one negotiation round ``want``-ing
        ``sure`` (a commit it holds), else a branch tip (none when there is no branch)."""
        try:
            tip = sure or self._branch_tip(owner, repo)
            return set() if tip is None else has_commits(self.git, owner, repo, tip, commits)
        except BastionError:
            return set()

    def _branch_tip(self, owner: str, repo: str) -> str | None:
        """A commit the server surely holds, to ``want`` in a negotiation."""
        heads = self.listing(owner, repo).heads
        return next(iter(heads.values()), None)

    def known_missing(self, owner: str, repo: str) -> GitError | None:
        """The error of a repository found missing within ``REFS_TTL`` (see
        :meth:`remember_missing`), so that a warm run does not ask again."""
        stored = self.cache.read(owner, repo, "missing", None if self.offline else REFS_TTL)
        if self.refresh or not isinstance(stored, dict):
            return None
        message = stored.get("message")
        return (
            GitError(message, int(stored.get("status") or 404))
            if isinstance(message, str)
            else None
        )

    def remember_missing(self, owner: str, repo: str, error: GitError) -> None:
        if error.not_found:
            self.cache.write(
                owner, repo, "missing", {"message": str(error), "status": error.status}
            )

    # Releases (REST) -------------------------------------------------------------------

    def releases(self, owner: str, repo: str) -> dict[str, float]:
        """Tag name -> publication time of its published, non-draft GitHub release."""
        key = _key(owner, repo)
        found = self._once(self._releases, key, lambda: self._fetch_releases(owner, repo))
        if isinstance(found, BastionError):
            raise found
        assert isinstance(found, dict)
        return found

    def _fetch_releases(self, owner: str, repo: str) -> dict[str, float]:
        max_age = None if self.offline else (0.0 if self.refresh else REFS_TTL)
        stored = self.cache.read(owner, repo, "releases", max_age)
        if isinstance(stored, dict):
            return {str(k): float(v) for k, v in stored.items() if isinstance(v, int | float)}
        if self.offline:
            raise NotCached(f"the releases of {owner}/{repo} are not in the cache")
        client = RestClient(self.host, self.token, cache_dir=None, use_cache=False)
        published: dict[str, float] = {}
        try:
            for count, release in enumerate(client.paginate(f"/repos/{owner}/{repo}/releases")):
                if count >= MAX_RELEASES:
                    break
                if not isinstance(release, dict) or release.get("draft"):
                    continue
                tag, when = release.get("tag_name"), release.get("published_at")
                if isinstance(tag, str) and isinstance(when, str):
                    published[tag] = _timestamp(when)
        except ApiError as error:
            if error.status == 404:
                published = {}
            else:
                raise BastionError(f"cannot read the releases of {owner}/{repo}: {error}") from None
        except ValueError as error:
            raise BastionError(
                f"GitHub sent a malformed release date for {owner}/{repo}: {error}"
            ) from None
        self.cache.write(owner, repo, "releases", published)
        return published


def default_resolver(
    github_url: str | None = None, *, offline: bool = False, refresh: bool = False
) -> Resolver:
    """A resolver for the configured GitHub (flag, else BASTION_GITHUB_URL), its token and
    the user's cache."""
    host = resolve_host(github_url)
    token = None if offline else find_token(host)
    return Resolver(host, token, Cache(host), offline=offline, refresh=refresh)


def _no_commit(owner: str, repo: str, commit: str) -> GitError:
    return GitError(f"{owner}/{repo} has no commit {commit} (not our ref)")


def _absent(error: GitError) -> bool:
    """The server said it lacks the object, or the repository."""
    return error.not_found or "not our ref" in str(error)


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _branch_of(listing: RefListing, oid: str, commits: list[Commit]) -> str | None:
    """Which branch reaches ``oid``, walking the fetched commits from each tip."""
    parents = {c.oid: c.parents for c in commits}
    for branch, tip in sorted(listing.heads.items()):
        stack, seen = [tip], set()
        while stack:
            current = stack.pop()
            if current == oid:
                return branch
            if current in seen or current not in parents:
                continue
            seen.add(current)
            stack.extend(parents[current])
    return None
