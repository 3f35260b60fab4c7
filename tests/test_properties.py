"""Whatever bytes come in, a check ends with findings, never with a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.config import Config
from bastion.engine import Checker
from bastion.inputs import Input, Kind

CHECKER = Checker(Config())
KINDS = st.sampled_from([Kind.WORKFLOW, Kind.ACTION, None])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "${{ github.event.pull_request.title }}",
            "${{ secrets.TOKEN }}",
            "actions/checkout@v4",
            "docker://alpine:3",
            "./local",
            "write-all",
            "inherit",
            "refs/pull/${{ github.event.number }}/merge",
            "${{ ",
            "}}",
        ]
    ),
)
keys = st.sampled_from(
    [
        "on", "jobs", "steps", "uses", "run", "with", "env", "permissions", "ref",
        "container", "services", "image", "secrets", "environment", "runs", "using",
        "runs-on", "parallel", "persist-credentials", "script", "inputs", "<<", "x",
    ]
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=40,
)


def _check(data: bytes, kind: Kind | None) -> None:
    result = CHECKER.check(Input("fuzz.yml", kind, data=data))
    assert result.errors == []
    for finding in result.findings:
        assert finding.span.start.line >= 1
        assert finding.span.start.column >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), KINDS)
def test_random_bytes(data: bytes, kind: Kind | None) -> None:
    _check(data, kind)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.sampled_from(list("on:jbs-[]{}&*!|>'\"#\n\t ,?%@`${}.ux")), max_size=200),
    KINDS,
)
def test_random_yaml_like_text(text: str, kind: Kind | None) -> None:
    _check(text.encode("utf-8"), kind)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, KINDS)
def test_random_documents_in_workflow_shapes(document: object, kind: Kind | None) -> None:
    _check(yaml.safe_dump(document, allow_unicode=True).encode("utf-8"), kind)
