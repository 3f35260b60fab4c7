"""Scripts that download code and run or install it without checking it.

One reader for the `unverified-download` rule (scripts of the user's own `run:` steps) and
for the immutability gaps of the action graph (the `run:` steps, scripts and Dockerfile
`RUN` lines of the actions a workflow calls). Each :class:`Download` has a :class:`Kind`;
the file rule reports the kinds its documentation lists, the graph rules all of them.

The patterns are kept as text and compiled by ``re`` when first used (it caches them): most
scripts download nothing, and a run should not pay to compile what it never matches.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import NamedTuple

from bastion.model.shell import ScriptLine, command_start, commands, script_lines


class Kind(enum.Enum):
    PIPE = "pipe"
    """A download piped or substituted straight into an interpreter."""
    EXECUTABLE = "executable"
    """A downloaded file later made executable."""
    LATEST = "latest"
    """A `releases/latest` URL."""
    GO_LATEST = "go-latest"
    PIP_URL = "pip-url"
    """`pip install` of a URL or an unpinned `git+` requirement."""
    BRANCH = "branch"
    """A file fetched from a branch (`raw.githubusercontent.com/o/r/main/...`), or a build
    installed from a git branch (`cargo install --git ... --branch`)."""
    UNPACKED = "unpacked"
    """A downloaded archive unpacked (`curl ... | tar x`, `tar xf` or `unzip` of it)."""
    UNPACKED_RUN = "unpacked-run"
    """A downloaded archive unpacked, and a program from it run or installed on the PATH."""
    NPM_LATEST = "npm-latest"
    """`npm install -g tool@latest` and the like."""


FILE_RULE_KINDS = frozenset(
    {Kind.PIPE, Kind.EXECUTABLE, Kind.LATEST, Kind.GO_LATEST, Kind.PIP_URL, Kind.UNPACKED_RUN}
)
"""What `unverified-download` reports in the user's own scripts."""


class Download(NamedTuple):
    line: ScriptLine
    kind: Kind
    what: str
    """What the script does, completing "this script ...": "pipes a download ..."."""
    offset: int
    """Where the offending command starts in ``line.masked``."""


_DOWNLOADERS = frozenset({"curl", "wget"})
_SUBSTITUTED = r"\b(?:sh|bash|zsh|python3?)\b[^|;&]*(?:<\(\s*|\$\(\s*)(?:curl|wget)\b"
"""`bash <(curl ...)`, `sh -c "$(curl ...)"`."""
_PIPE_TO_INTERPRETER = (
    r"(?:^\s*|[;&(]\s*|\b(?:then|do|else|sudo|exec)\s+)(?:\S*/)?(?:curl|wget)\b"
    r"[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?"
    r"(?:\S*/)?(?:sh|bash|zsh|dash|ksh|python3?|perl|ruby|node|pwsh)\b(?!\S*\.)"
)
_PIPE_TO_TAR = (
    r"(?:^\s*|[;&(]\s*|\b(?:then|do|else|sudo|exec)\s+)(?:\S*/)?(?:curl|wget)\b"
    r"[^|;&]*\|\s*(?:sudo\s+)?(?:tar|unzip|bsdtar)\b"
)
_LATEST = "releases/latest/download/"
_CHECKERS = r"\b(?:sha(?:1|224|256|384|512)sum|shasum)\b"
_HASH_GREPPED = (
    r"\b(?:sha(?:1|224|256|384|512)sum|shasum)\b[^|;&\n]*\|(?:[^|;&\n]*\|)*\s*grep\s+-\w*q"
)
"""A computed checksum compared with an expected one by `grep -q`."""
_VERIFIERS = (
    ("gpg", r"\bgpg2?\b[^\n|;&]*\s--verify\b"),
    ("cosign", r"\bcosign\s+verify"),
    ("minisign", r"\bminisign\b[^\n|;&]*\s-V\b"),
    ("attestation", r"\bgh\s+attestation\s+verify\b"),
    ("slsa-verifier", r"\bslsa-verifier\b"),
)
"""Commands that check a download against a signature, each with a word it needs (a plain
search for it is much cheaper than the pattern's)."""
_PIP = r"^(?:(?:\S*/)?python3?\s+-m\s+pip|(?:\S*/)?pip3?|uv\s+pip)\s+install\b"
_REMOTE_REQUIREMENT = r"(?:^|\s)['\"]?(?:https?://|git\+)(?!\S*@[0-9a-f]{40}\b)"
_BRANCHES = r"(?:main|master|develop|dev|trunk|stable|nightly|HEAD|refs/heads/[^/\s]+)"
_BRANCH_URL = (
    r"https?://(?:raw\.githubusercontent\.com/[^/\s]+/[^/\s]+/"
    rf"|github\.com/[^/\s]+/[^/\s]+/(?:raw|blob)/){_BRANCHES}/\S+"
    rf"|https?://github\.com/[^/\s]+/[^/\s]+/archive/(?:refs/heads/)?{_BRANCHES}\.(?:tar\.gz|zip)"
)
"""A URL of a file at a branch (the whole word of a download command)."""
_DOWNLOADER_WORD = r"\b(?:curl|wget)\b"
_COMMIT_URL = (
    r"['\"]?https://(?:raw\.githubusercontent\.com/[^/\s]+/[^/\s]+/[0-9a-f]{40}/\S+"
    r"|github\.com/[^/\s]+/[^/\s]+/(?:raw|blob)/[0-9a-f]{40}/\S+"
    r"|github\.com/[^/\s]+/[^/\s]+/archive/[0-9a-f]{40}\.(?:tar\.gz|zip))['\"]?"
)
"""A URL of a file at one commit: what it serves cannot change (like a commit-pinned action)."""
_BIN_DIRS = ("/usr/local/bin", "/usr/bin", "/bin/", ".local/bin", "/opt/")
_NPM_GLOBAL = frozenset({"npm", "pnpm", "yarn", "bun"})


def _checked_files(script: str) -> list[str] | None:
    """The files `sha*sum -c` checks against (their basenames; `-` for standard input),
    or None when the script runs a signature verifier (which counts for everything)."""
    if any(word in script and re.search(pattern, script) for word, pattern in _VERIFIERS):
        return None
    found: list[str] = []
    if "sum" not in script:
        return found  # no `sha*sum` or `shasum` to check with
    for line in script_lines(script):
        if re.search(_HASH_GREPPED, line.masked):
            found.append("-")  # `sha256sum f | grep -q "$EXPECTED"`: a recorded checksum
        for words in commands(line.masked):
            tool = words[0].rsplit("/", 1)[-1]
            if not re.fullmatch(_CHECKERS, tool) or not ({"-c", "--check"} & set(words)):
                continue
            names = [w for w in words[1:] if not w.startswith("-") and w not in ("256", "512")]
            found.extend(_base(name) for name in names or ["-"])
    return found


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _output_file(words: list[str]) -> str | None:
    """The file a curl or wget command saves to, if it names one."""
    tool = words[0].rsplit("/", 1)[-1]
    for index, word in enumerate(words[1:], start=1):
        if word in ("-o", "--output", "-O", "--output-document") and index + 1 < len(words):
            if tool == "curl" and word == "-O":
                continue
            return words[index + 1]
        if word.startswith(("--output=", "--output-document=")):
            return word.split("=", 1)[1]
    urls = [w for w in words[1:] if "://" in w]
    if urls and (tool == "wget" or "-O" in words or "--remote-name" in words):
        return urls[-1].rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    return None


def _chmods(words: list[str], name: str) -> bool:
    if words[:1] != ["chmod"] or not any(w in ("+x", "u+x", "a+x", "755", "0755") for w in words):
        return False
    base = _base(name)
    return any(_base(w) == base for w in words[1:] if base)


def _unpacks(words: list[str], name: str) -> bool:
    tool = words[0].rsplit("/", 1)[-1]
    base = _base(name)
    if not base or tool not in ("tar", "unzip", "bsdtar", "7z"):
        return False
    if tool == "tar" and not any(
        (w.startswith("-") and "x" in w) or w.startswith("x") for w in words
    ):
        return False
    return any(_base(w) == base for w in words[1:])


def _commit_pinned(words: list[str]) -> bool:
    """Whether every URL a download command fetches is a file at a full commit SHA."""
    urls = [w for w in words[1:] if "://" in w]
    return bool(urls) and all(re.fullmatch(_COMMIT_URL, url) for url in urls)


def _unpacked_into(words: list[str]) -> str:
    """The directory `tar -C DIR` or `unzip -d DIR` unpacks into ('' when not named)."""
    for index, word in enumerate(words[1:-1], start=1):
        if word in ("-C", "--directory", "-d"):
            return words[index + 1].strip("'\"").rstrip("/").removeprefix("./")
    return ""


def _runs_unpacked(words: list[str], folder: str = "") -> bool:
    """Whether a command runs a program by a relative path (what an archive unpacked into
    the working directory holds: `./tool/bin/x`, `tool-1.2/x`) or installs one on the PATH
    (`mv`, `cp`, `install` into a bin directory; a directory appended to `$GITHUB_PATH`)."""
    tool = words[0].strip("'\"")
    if folder:
        # Unpacked elsewhere: only what runs from that folder (or puts it on the PATH).
        inside = tool.startswith((f"{folder}/", f"./{folder}/"))
        return inside or (tool == "echo" and any("GITHUB_PATH" in w for w in words))
    if tool.startswith("./") or (
        "/" in tool and not tool.startswith(("/", "~", "$", "-")) and "=" not in tool
    ):
        return True
    if tool.rsplit("/", 1)[-1] in ("mv", "cp", "install", "ln") and len(words) > 2:
        return any(d in words[-1] for d in _BIN_DIRS)
    return tool == "echo" and any("GITHUB_PATH" in w for w in words)


def _npm_latest(words: list[str]) -> bool:
    tool = words[0].rsplit("/", 1)[-1]
    if tool == "npx":
        return any(w.endswith("@latest") for w in words[1:2] + words[2:3])
    if tool not in _NPM_GLOBAL or len(words) < 3 or words[1] not in ("install", "i", "add"):
        return False
    return any(w.endswith("@latest") and not w.startswith("-") for w in words[2:])


def _through_latest(words: list[str]) -> str:
    """The command up to its first ``...@latest`` word."""
    end = next((n for n, word in enumerate(words) if word.endswith("@latest")), len(words) - 1)
    return " ".join(words[: end + 1])


def _branch_install(words: list[str]) -> bool:
    """`cargo install --git URL --branch B` (or with no `--rev`/`--tag`: the default
    branch). Not `go install pkg@main`: installers offer it when asked for `main` by name
    (sigstore/cosign-installer), which is the caller's choice."""
    if words[:2] != ["cargo", "install"] or "--git" not in words:
        return False
    return not ({"--rev", "--tag"} & set(words))


def unverified_downloads(script: str) -> Iterator[Download]:
    """Each line of ``script`` that runs or installs something it does not verify."""
    if not any(word in script for word in ("curl", "wget", "install", "http")):
        return
    lines = script_lines(script)
    masked_script = "\n".join(line.masked for line in lines)
    checked = _checked_files(masked_script)
    downloaded = {
        _base(name)
        for line in lines
        for words in commands(line.masked)
        if words[0].rsplit("/", 1)[-1] in _DOWNLOADERS and (name := _output_file(words))
    }
    # A checksum fetched next to the file it checks verifies nothing.
    verified = checked is None or any(name not in downloaded for name in checked)
    uses_downloader = any(tool in masked_script for tool in _DOWNLOADERS)
    for position, line in enumerate(lines):
        masked = line.masked
        if masked.lstrip().startswith("#"):
            continue
        fetches = "curl" in masked or "wget" in masked  # every pattern below needs one
        pipe = fetches and (
            re.search(_PIPE_TO_INTERPRETER, masked) or re.search(_SUBSTITUTED, masked)
        )
        if pipe and _pinned_download(masked):
            continue
        if pipe:
            yield Download(
                line,
                Kind.PIPE,
                "pipes a download straight into an interpreter, unverified",
                _downloader_at(masked, pipe.start()),
            )
            continue
        found = _line_problem(line, lines[position + 1 :], verified)
        if found is not None:
            yield found
            continue
        if not verified and uses_downloader:
            latest = next((w for w in masked.split() if _LATEST in w), None)
            if latest is not None:
                yield Download(
                    line,
                    Kind.LATEST,
                    "downloads from `releases/latest`, a moving target, unverified",
                    masked.find(latest),
                )
                continue
        unpacked = fetches and re.search(_PIPE_TO_TAR, masked)
        if not verified and unpacked and not _pinned_download(masked):
            yield Download(
                line,
                Kind.UNPACKED,
                "unpacks a download it never verifies",
                _downloader_at(masked, unpacked.start()),
            )


def _pinned_download(masked: str) -> bool:
    """Whether the downloads of a line all fetch files at a full commit SHA."""
    fetches = [w for w in commands(masked) if w[0].rsplit("/", 1)[-1] in _DOWNLOADERS]
    return bool(fetches) and all(_commit_pinned(words) for words in fetches)


def _downloader_at(masked: str, start: int) -> int:
    found = re.compile(_DOWNLOADER_WORD).search(masked, start)
    return found.start() if found else start


def _command_at(masked: str, words: list[str]) -> int:
    """Where the command of ``words`` starts in the line (found by its first two words)."""
    return command_start(masked, words)  # no pattern compiled per command


def _line_problem(
    line: ScriptLine, rest: tuple[ScriptLine, ...], verified: bool
) -> Download | None:
    here = commands(line.masked)
    for position, words in enumerate(here):
        tool = words[0].rsplit("/", 1)[-1]
        needle = _command_at(line.masked, words)
        if words[:2] == ["go", "install"] and any(w.endswith("@latest") for w in words):
            return Download(
                line,
                Kind.GO_LATEST,
                "installs whatever version is latest (`go install ...@latest`)",
                needle,
            )
        if (
            re.match(_PIP, " ".join(words))
            and "--require-hashes" not in words
            and re.search(_REMOTE_REQUIREMENT, " ".join(words[2:])) is not None
        ):
            return Download(
                line,
                Kind.PIP_URL,
                "installs a package from a URL or git without `--require-hashes`",
                needle,
            )
        if _npm_latest(words):
            return Download(
                line,
                Kind.NPM_LATEST,
                f"installs whatever version is latest (`{_through_latest(words)}`)",
                needle,
            )
        if _branch_install(words):
            return Download(
                line,
                Kind.BRANCH,
                "builds and installs a git branch (`cargo install --git`), which changes with "
                "every push",
                needle,
            )
        if tool not in _DOWNLOADERS or verified or _commit_pinned(words):
            continue
        branch = next((w for w in words[1:] if re.fullmatch(_BRANCH_URL, w)), None)
        if branch is not None:
            return Download(
                line,
                Kind.BRANCH,
                f"downloads `{branch}` from a branch, which changes with every push, unverified",
                needle,
            )
        if any(_LATEST in word for word in words):
            return Download(
                line,
                Kind.LATEST,
                "downloads from `releases/latest`, a moving target, unverified",
                needle,
            )
        name = _output_file(words)
        if not name:
            continue
        later = here[position + 1 :] + [w for other in rest for w in commands(other.masked)]
        if any(_chmods(words, name) for words in later):
            return Download(
                line,
                Kind.EXECUTABLE,
                f"downloads `{name}` and makes it executable, unverified",
                needle,
            )
        unpacked_at = next((n for n, w in enumerate(later) if _unpacks(w, name)), None)
        if unpacked_at is not None:
            folder = _unpacked_into(later[unpacked_at])
            if any(_runs_unpacked(words, folder) for words in later[unpacked_at + 1 :]):
                return Download(
                    line,
                    Kind.UNPACKED_RUN,
                    f"downloads `{name}`, unpacks it and runs what it holds, unverified",
                    needle,
                )
            return Download(
                line, Kind.UNPACKED, f"downloads `{name}` and unpacks it, unverified", needle
            )
    return None


def physical_offset(script: str, line: ScriptLine, offset: int) -> int:
    """The offset in ``script`` of the physical line that holds ``offset`` of ``line``."""
    start = line.start
    for physical in script[line.start : line.end].split("\n"):
        text = physical.rstrip("\r")
        length = len(text) - 1 if text.endswith("\\") else len(text)
        if offset <= length:
            return start
        offset -= length + 1
        start += len(physical) + 1
    return line.start
