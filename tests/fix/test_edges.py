"""Layouts a fix must keep: line endings, odd indentation, comments, quoted keys, flow
mappings, anchors, a byte-order mark, non-ASCII text and a missing final line break."""

from __future__ import annotations

import pytest

from bastion.fix.edits import Edit, apply_edits
from tests.fix.harness import fix

CHECKOUT = "persisted-credentials"


def test_crlf_file_stays_crlf() -> None:
    text = (
        "on: push\r\npermissions: {}\r\njobs:\r\n  build:\r\n    runs-on: ubuntu-latest\r\n"
        "    steps:\r\n      - uses: actions/checkout@v4\r\n      - run: make\r\n"
    )
    result = fix(text, select=CHECKOUT)
    assert result.text == text.replace(
        "checkout@v4\r\n",
        "checkout@v4\r\n        with:\r\n          persist-credentials: false\r\n",
    )
    assert "\n" not in result.text.replace("\r\n", "")


def test_odd_indentation_is_followed() -> None:
    text = (
        "on: push\n"
        "jobs:\n"
        "   build:\n"
        "      runs-on: ubuntu-latest\n"
        "      steps:\n"
        "      -  uses: actions/checkout@v4\n"
    )
    result = fix(text, select=f"{CHECKOUT},excessive-permissions")
    assert result.text == (
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "   build:\n"
        "      runs-on: ubuntu-latest\n"
        "      permissions:\n"
        "         contents: read\n"
        "      steps:\n"
        "      -  uses: actions/checkout@v4\n"
        "         with:\n"
        "            persist-credentials: false\n"
    )


def test_comments_at_the_insertion_point_stay_with_their_keys() -> None:
    text = (
        "on: push  # every push\n"
        "\n"
        "# The jobs.\n"
        "# Two lines about them.\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    # The steps.\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4  # pinned later\n"
        "        # about the next step\n"
        "      - run: make\n"
    )
    result = fix(text, select=f"{CHECKOUT},excessive-permissions")
    assert result.text == (
        "on: push  # every push\n"
        "\n"
        "permissions: {}\n"
        "\n"
        "# The jobs.\n"
        "# Two lines about them.\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    permissions:\n"
        "      contents: read\n"
        "    # The steps.\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4  # pinned later\n"
        "        with:\n"
        "          persist-credentials: false\n"
        "        # about the next step\n"
        "      - run: make\n"
    )


def test_quoted_keys() -> None:
    text = (
        '"on": push\n'
        "'permissions':\n"
        "  contents: write\n"
        '"jobs":\n'
        '  "build":\n'
        "    'runs-on': ubuntu-latest\n"
        '    "steps":\n'
        '      - "uses": actions/checkout@v4\n'
        "        'with':\n"
        '          "fetch-depth": 0\n'
    )
    result = fix(text, select=f"{CHECKOUT},excessive-permissions")
    assert result.text == (
        '"on": push\n'
        "'permissions': {}\n"
        '"jobs":\n'
        '  "build":\n'
        "    'runs-on': ubuntu-latest\n"
        "    permissions:\n"
        "      contents: read\n"
        '    "steps":\n'
        '      - "uses": actions/checkout@v4\n'
        "        'with':\n"
        '          "fetch-depth": 0\n'
        "          persist-credentials: false\n"
    )
    assert result.remaining == []


def test_flow_mappings_get_flow_entries() -> None:
    text = (
        "on: push\njobs: {build: {runs-on: ubuntu-latest, steps: [{uses: actions/checkout@v4}]}}\n"
    )
    result = fix(text, select=f"{CHECKOUT},excessive-permissions")
    assert result.text == (
        "on: push\n"
        "permissions: {}\n"
        "jobs: {build: {runs-on: ubuntu-latest, steps: [{uses: actions/checkout@v4, "
        "with: {persist-credentials: false}}], permissions: {contents: read}}}\n"
    )
    assert result.remaining == []


def test_anchors_in_on_survive() -> None:
    text = (
        "on:\n"
        "  push:\n"
        "    paths: &paths\n"
        "      - src/**\n"
        "  pull_request:\n"
        "    paths: *paths\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
    )
    result = fix(text, select=f"{CHECKOUT},excessive-permissions")
    assert result.text.startswith(text[: text.index("jobs:")] + "permissions: {}\njobs:\n")
    assert result.remaining == []


def test_shared_anchor_with_is_not_edited() -> None:
    text = (
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - &checkout\n"
        "        uses: actions/checkout@v4\n"
        "        with: &inputs\n"
        "          fetch-depth: 0\n"
        "      - uses: actions/checkout@v4\n"
        "        <<: {with: *inputs}\n"
    )
    result = fix(text, select=CHECKOUT)
    # The first checkout owns its `with:`; the second merges it from the anchor, so after the
    # first is fixed the second has `persist-credentials: false` through the merge.
    assert result.text == text.replace(
        "fetch-depth: 0\n", "fetch-depth: 0\n          persist-credentials: false\n"
    )
    assert result.remaining == []


def test_non_ascii_text_before_the_edit() -> None:
    text = (
        "name: Ünïcødé ✓ 😀\n"
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  build:\n"
        "    name: Bâtir 🚀\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - name: Récupérer\n"
        "        uses: actions/checkout@v4\n"
    )
    result = fix(text, select=CHECKOUT)
    assert result.text == text + "        with:\n          persist-credentials: false\n"


def test_no_final_line_break() -> None:
    text = (
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4"
    )
    result = fix(text, select=CHECKOUT)
    assert result.text == text + "\n        with:\n          persist-credentials: false"


def test_block_scalar_keeps_its_value() -> None:
    text = (
        "on: issues\n"
        "permissions: {}\n"
        "jobs:\n"
        "  triage:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: |\n"
        '          echo "${{ github.event.issue.title }}"\n'
        "\n"
        "      - run: |+\n"
        '          echo "${{ github.event.issue.body }}"\n'
        "\n"
        "      - run: make\n"
    )
    result = fix(text, select="template-injection")
    assert result.text == (
        "on: issues\n"
        "permissions: {}\n"
        "jobs:\n"
        "  triage:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: |\n"
        '          echo "${ISSUE_TITLE}"\n'
        "        env:\n"
        "          ISSUE_TITLE: ${{ github.event.issue.title }}\n"
        "\n"
        "      - run: |+\n"
        '          echo "${ISSUE_BODY}"\n'
        "\n"
        "        env:\n"
        "          ISSUE_BODY: ${{ github.event.issue.body }}\n"
        "      - run: make\n"
    )


def test_expression_with_colon_is_quoted_in_env() -> None:
    text = (
        "on: issues\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n          echo ${{ format('a: {0}', github.event.issue.title) }}\n"
    )
    result = fix(text, select="template-injection")
    assert result.text.endswith(
        '          echo "${ISSUE_TITLE}"\n'
        "        env:\n"
        "          ISSUE_TITLE: \"${{ format('a: {0}', github.event.issue.title) }}\"\n"
    )
    assert result.remaining == []


def test_windows_matrix_is_not_guessed() -> None:
    text = (
        "on: issues\npermissions: {}\njobs:\n  t:\n"
        "    strategy:\n      matrix:\n        os: [ubuntu-latest, windows-latest]\n"
        "    runs-on: ${{ matrix.os }}\n    steps:\n"
        '      - run: echo "${{ github.event.issue.title }}"\n'
    )
    result = fix(text, select="template-injection")
    assert not result.changed
    assert list(result.reasons.values()) == [
        "the job may run on Windows, where the default shell differs; set `shell:`"
    ]


def test_edits_apply_in_any_order_and_refuse_overlap() -> None:
    text = "abcdef"
    edits = [Edit(4, 5, "E"), Edit.insert(0, ">"), Edit(1, 3, "")]
    assert apply_edits(text, edits) == ">adEf"
    assert Edit(1, 3, "").touches(Edit(2, 4, ""))
    assert not Edit(1, 3, "").touches(Edit(3, 4, ""))
    assert Edit.insert(3, "x").touches(Edit.insert(3, "y"))
    assert Edit.insert(3, "x").touches(Edit(1, 3, ""))
    with pytest.raises(ValueError, match="overlap"):
        apply_edits(text, [Edit(1, 3, ""), Edit(2, 4, "")])
