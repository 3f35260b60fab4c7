"""The report writer: json.dumps's indented text, chunked writes, short writes completed."""

from __future__ import annotations

import io
import json

import pytest

from bastion import render
from bastion.render import Writer, write_json

DOCUMENTS: list[object] = [
    {},
    [],
    [[[]], {}],
    {"a": [], "b": {}, "c": [1, -2.5, None, True, False, 10**30, 'x\u2028"\\\n\t']},
    {"nested": {"list": [{"f": 1, "g": True, "h": None, "é": "ü"}]}},
    "text",
    3,
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_text_is_json_dumps_indented(document: object) -> None:
    out = io.StringIO()
    writer = Writer(out)
    write_json(document, writer)
    writer.flush()
    assert out.getvalue() == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_an_iterator_is_a_list_and_strings_are_escaped() -> None:
    out = io.StringIO()
    writer = Writer(out)
    write_json({"items": iter(["a", "w/\udcff.yml"]), "none": iter([])}, writer)
    writer.flush()
    assert json.loads(out.getvalue()) == {"items": ["a", "w/\\xff.yml"], "none": []}


class _Short(io.RawIOBase):
    """A raw stream that takes at most 7 bytes per write, like a pipe interrupted."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.calls = 0

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        assert isinstance(data, memoryview)
        self.calls += 1
        self.data += data[:7]
        return min(7, len(data))


def test_short_writes_are_completed_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "CHUNK_PIECES", 10)
    raw = _Short()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # type: ignore[type-var]
    writer = Writer(out)
    document = {"findings": [{"rule": "r", "line": n} for n in range(50)]}
    write_json(document, writer)
    writer.flush()
    assert raw.data.decode() == json.dumps(document, indent=2) + "\n"
