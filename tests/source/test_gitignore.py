""".gitignore matching: git's own answers (``git check-ignore``) on a table of patterns and
paths, malformed patterns, and patterns that would make a backtracking matcher hang."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from bastion.source.gitignore import Gitignore, Glob, ignored

PATTERNS: list[list[str]] = [
    ["*.log"],
    ["/build"],
    ["build/"],
    ["docs/**/gen"],
    ["**/tmp"],
    ["*.yml", "!keep.yml"],
    ["a/*.yml"],
    ["\\#x"],
    ["# comment", ""],
    ["[ab].txt"],
    ["[z-a]"],
    ["[!z-a]"],
    ["[]"],
    ["[!]"],
    ["["],
    ["un[term"],
    ["[]]"],
    ["[]a]"],
    ["[!]a]"],
    ["[a-]"],
    ["[-a]"],
    ["[\\]]"],
    ["[a-c-e]"],
    ["[]-a]"],
    ["[[:alpha:]]"],
    ["[[:digit:][:upper:]]"],
    ["[[:bogus:]]"],
    ["[[:alpha:]"],
    ["[[:ab]"],
    ["[[:]"],
    ["[^a]"],
    ["*" * 30 + "x"],
    ["a/**"],
    ["**"],
    ["a/**/b"],
    ["a**b"],
    ["**a"],
    ["a/**b"],
    ["*/b"],
    ["a/*"],
    ["/a/b"],
    ["a/b/"],
    ["**/a/**"],
    ["ab\\*"],
    ["?.txt"],
    ["a?c"],
    ["x*y*z"],
    ["foo\\ "],
    ["foo  "],
    ["\\!x"],
    ["!x"],
    ["bar\\"],
    ["a", "!a/"],
    ["a/", "!a/b"],
    ["*", "!*/", "!*.txt"],
    ["**/b/**"],
    ["a/**/"],
    ["a\\/b"],
    ["?"],
    ["??"],
    ["[[:space:]]x"],
    ["***"],
    ["a/***/b"],
    ["\\"],
    ["[\\"],
    ["[a\\]"],
    ["*/**/b"],
    ["/**/b"],
]

PATHS = [
    "x.log",
    "a/x.log",
    "build/",
    "src/build/",
    "docs/gen/",
    "docs/a/b/gen/",
    "tmp/",
    "x/tmp/",
    "keep.yml",
    "drop.yml",
    "a/b.yml",
    "a/b/c.yml",
    "#x",
    "comment",
    "a.txt",
    "b.txt",
    "z",
    "]",
    "-",
    "\\",
    "A",
    "1",
    "[",
    ":",
    "^",
    "d",
    "aabb",
    "ab",
    "b/",
    "a/b",
    "a/x/b",
    "a/xb",
    "ab*",
    "x.txt",
    "abc",
    "axyzz",
    "foo ",
    "foo",
    "!x",
    "x",
    "bar\\",
    "q/a/w",
    "a" * 40,
    "\u00e9",
    " x",
]


def _decide(stack: list[Gitignore], base: Path, path: str) -> bool:
    """The walk's answer: a path is ignored if it, or a directory above it, is."""
    parts = path.rstrip("/").split("/")
    for depth in range(1, len(parts) + 1):
        here = base.joinpath(*parts[:depth])
        if ignored(stack, here, is_dir=here.is_dir()):
            return True
    return False


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_matcher_agrees_with_git_check_ignore(tmp_path: Path) -> None:
    repository = tmp_path / "repository"
    repository.mkdir()
    environment = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": os.environ["PATH"],
    }
    subprocess.run(["git", "init", "-q", str(repository)], check=True, env=environment)
    queries: list[str] = []
    ours: dict[str, bool] = {}
    for number, patterns in enumerate(PATTERNS):
        case = repository / f"case{number}"
        case.mkdir()
        (case / ".gitignore").write_bytes(("\n".join(patterns) + "\n").encode())
        stack = [Gitignore(case, patterns)]
        for path in PATHS:
            target = case / path.rstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.endswith("/"):
                target.mkdir(exist_ok=True)
                (target / "inside").touch()
            else:
                target.touch()
        for path in PATHS:
            query = f"case{number}/{path.rstrip('/')}"
            queries.append(query)
            ours[query] = _decide(stack, case, path)
    answer = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n"],
        cwd=repository,
        input="\0".join(queries).encode() + b"\0",
        capture_output=True,
        env=environment,
        check=False,
    )
    assert answer.returncode in (0, 1), answer.stderr
    fields = answer.stdout.split(b"\0")
    theirs: dict[str, bool] = {}
    for index in range(0, len(fields) - 1, 4):
        _, _, pattern, name = fields[index : index + 4]
        theirs[name.decode()] = bool(pattern) and not pattern.startswith(b"!")
    assert len(theirs) == len(queries)
    disagreements = [
        (PATTERNS[int(query.split("/")[0][4:])], query.split("/", 1)[1], ours[query])
        for query in queries
        if ours[query] != theirs[query]
    ]
    assert disagreements == [], disagreements


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (b"*" * 30 + b"x", b"a" * 60, False),
        (b"*a" * 20 + b"b", b"a" * 80, False),
        (b"**/" * 20 + b"x", b"a/" * 40 + b"b", False),
        (b"[!a]*" * 15 + b"b", b"c" * 100, False),
        (b"*" * 30 + b"x", b"a" * 60 + b"x", True),
    ],
)
def test_pathological_patterns_match_at_once(pattern: bytes, text: bytes, matches: bool) -> None:
    assert Glob(pattern).matches(text) is matches


def test_a_deeper_file_decides_before_the_ones_above(tmp_path: Path) -> None:
    top = Gitignore(tmp_path, ["*.yml"])
    below = Gitignore(tmp_path / "keep", ["!action.yml"])
    assert ignored([top], tmp_path / "keep" / "action.yml", is_dir=False)
    assert not ignored([top, below], tmp_path / "keep" / "action.yml", is_dir=False)
    assert ignored([top, below], tmp_path / "keep" / "other.yml", is_dir=False)


def test_a_crlf_file_and_a_byte_order_mark_are_read_as_git_reads_them(tmp_path: Path) -> None:
    path = tmp_path / ".gitignore"
    path.write_bytes(b"\xef\xbb\xbfbuild\r\n*.tmp\r\n")
    patterns = Gitignore.read(path, tmp_path)
    assert patterns.ignores(tmp_path / "build", is_dir=True)
    assert patterns.ignores(tmp_path / "x.tmp", is_dir=False)


def test_a_symlinked_or_special_gitignore_has_no_patterns(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("*\n")
    (tmp_path / ".gitignore").symlink_to(tmp_path / "real")
    assert Gitignore.read(tmp_path / ".gitignore", tmp_path).patterns == []
    fifo = tmp_path / "sub" / ".gitignore"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    assert Gitignore.read(fifo, tmp_path).patterns == []


def test_the_literal_shortcuts_agree_with_the_automaton() -> None:
    chooser = random.Random(7)
    pieces = [b"a", b"b", b"/", b"*", b"**", b"?", b"[ab]", b"[!a]", b"**/", b"/**"]
    texts = [
        bytes(chooser.choice(b"ab/") for _ in range(chooser.randint(0, 7))) for _ in range(200)
    ]
    for _ in range(1500):
        pattern = b"".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 6)))
        fast = Glob(pattern)
        slow = Glob(pattern)
        slow._prefix = slow._suffix = slow._longest = b""
        slow._exact = False
        assert [fast.matches(t) for t in texts] == [slow.matches(t) for t in texts], pattern
