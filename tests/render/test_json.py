"""The JSON report is what ``json.dumps(indent=2, ensure_ascii=False)`` makes of its
document, however a finding is written (in one step, or field by field with ``via``)."""

from __future__ import annotations

import io
import json

from bastion.engine import Report
from bastion.findings import Confidence, Finding, Location, Severity, Span
from bastion.render import json as json_render


def test_findings_written_in_one_step_match_the_generic_writer() -> None:
    plain = Finding(
        "template-injection",
        Severity.MEDIUM,
        Confidence.LOW,
        'a "quoted" \\ message\twith \u00e9, \u2028 and \udc80',
        'w/\u00e9 "x".yml',
        Span.at(3, 4),
        "jobs/a/steps/0/run",
    )
    called = Finding(
        "nested-mutable-uses",
        Severity.HIGH,
        Confidence.HIGH,
        "m",
        "w.yml",
        Span.at(1, 1),
        via=(Location("o/r/a.yml@c", Span.at(2, 1), "o/r@v1", "https://x/a.yml"),),
    )
    out = io.StringIO()
    json_render.render(Report([plain, called], 2, ["e"]), out)
    document = json.loads(out.getvalue())
    assert out.getvalue() == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    expected = {**json_render.finding_object(plain), "message": plain.message[:-1] + "\\x80"}
    assert document["findings"] == [expected, json_render.finding_object(called)]
    assert document["errors"] == ["e"]
