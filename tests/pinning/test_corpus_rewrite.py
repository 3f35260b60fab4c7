"""Every uses: of the real-world corpus, pinned offline to a made-up commit, stays valid YAML.

After the rewrite each file parses again, every site reads back as ``owner/repo@SHA`` at
the same route, its comment names the version when one could be written, and a second
rewrite changes nothing.
"""

from __future__ import annotations

from bastion.pinning.rewrite import YamlError, apply_edits, pin_edits, read_sites
from tests.shared import CORPUS, require

SHA = "0" * 39 + "1"


def test_corpus_round_trip() -> None:
    corpus = require(CORPUS)
    files = sites = commented = 0
    for path in sorted(corpus.rglob("*.y*ml")):
        try:
            text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
            parsed = read_sites(text, None)  # the content tells a workflow from an action
        except (UnicodeDecodeError, YamlError):
            continue
        files += 1
        edits = [e for site in parsed.sites for e in pin_edits(site, SHA, "v9.8.7")]
        pinned = apply_edits(text, edits)
        again = read_sites(pinned, None)
        editable = {s.route: s for s in parsed.sites if not s.editable}
        for site in again.sites:
            if site.route not in editable:
                continue
            sites += 1
            assert site.uses.ref == SHA, f"{path}:{site.line}"
            assert site.uses.slug == editable[site.route].uses.slug, f"{path}:{site.line}"
            if editable[site.route].comment_start >= 0:
                commented += 1
                assert site.comment == "v9.8.7", f"{path}:{site.line}"
        assert [e for s in again.sites for e in pin_edits(s, SHA, "v9.8.7")] == [], path
    assert files > 1000
    assert sites > 5000
    assert commented / sites > 0.99
