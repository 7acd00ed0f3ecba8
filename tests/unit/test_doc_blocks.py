"""The fenced blocks of README.md and docs/: each runs, or says why it is only shown.

``tests/functional/test_doc_examples.py`` runs them; the convention is in
``tests/doc_examples.py``.
"""

from __future__ import annotations

import pytest

from doc_examples import (
    Block,
    blocks_of,
    convention_problems,
    documentation_pages,
    expected_outputs,
    failed_block,
    page_name,
    session_script,
)

PAGE = """# A page

```sh
echo one
```

```text output
one
```

  ```python
  print("indented in a list")
  ```

```http 422 RISK_PRICE_COLLAR
POST /v1/orders
Authorization: Bearer $TOKEN

{"symbol": "AAPL"}
```
"""


def test_every_block_when_pages_are_read_then_runs_or_is_marked() -> None:
    problems = [
        problem
        for path in documentation_pages()
        for problem in convention_problems(blocks_of(page_name(path), path.read_text("utf-8")))
    ]

    assert not problems, "\n".join(problems)


def test_readme_when_read_then_starts_with_the_two_commands() -> None:
    readme = documentation_pages()[0]
    first = blocks_of("README.md", readme.read_text("utf-8"))[0]

    assert [line.split("#")[0].strip() for line in first.text.splitlines()] == [
        "make run",
        "make test",
    ]


def test_blocks_of_when_page_has_fences_then_language_flags_and_text() -> None:
    blocks = blocks_of("page.md", PAGE)

    assert [(block.line, block.language, block.flags) for block in blocks] == [
        (3, "sh", ()),
        (7, "text", ("output",)),
        (11, "python", ()),
        (15, "http", ("422", "RISK_PRICE_COLLAR")),
    ]
    assert blocks[2].text == 'print("indented in a list")'
    assert convention_problems(blocks) == []


def test_blocks_of_when_a_fence_is_never_closed_then_refused() -> None:
    with pytest.raises(ValueError, match="never closed"):
        blocks_of("page.md", "```sh\necho one\n")


@pytest.mark.parametrize(
    ("language", "flags", "problem"),
    [
        ("console", (), "neither run nor are marked"),
        ("", (), "no language"),
        ("sh", ("norun",), "needs a reason"),
        ("json", (), "does not parse"),
        ("http", ("teapot",), "takes a status"),
        ("sh", ("quietly",), "unknown flags"),
    ],
)
def test_convention_problems_when_block_is_unmarked_or_malformed_then_named(
    language: str, flags: tuple[str, ...], problem: str
) -> None:
    block = Block("page.md", 3, language, flags, "{not json")

    assert problem in convention_problems([block])[0]


def test_convention_problems_when_output_follows_a_shown_block_then_refused() -> None:
    shown = Block("page.md", 1, "text", (), "a diagram")
    output = Block("page.md", 5, "text", ("output",), "one")

    assert convention_problems([shown, output]) == [
        "page.md:5: `text output` must follow a block that runs"
    ]


def test_session_script_when_page_runs_then_blocks_in_order_on_the_server_port() -> None:
    blocks = blocks_of("page.md", PAGE.replace("echo one", "curl https://localhost:8443/healthz"))

    script = session_script(blocks, 40123)

    assert script.index("@@doc-block 0") < script.index("@@doc-block 2")
    assert "curl https://localhost:40123/healthz" in script
    assert ".venv/bin/python - <<'_DOC_PYTHON'" in script
    assert "_doc_http POST \"/v1/orders\" '422' 'RISK_PRICE_COLLAR' " in script
    assert '-H "Authorization: Bearer $TOKEN"' in script
    assert "@@doc-block 1" not in script  # the expected output is compared, not run


def test_failed_block_when_session_stopped_then_the_last_block_started() -> None:
    blocks = blocks_of("page.md", PAGE)

    assert failed_block(blocks, "\n@@doc-block 0\none\n\n@@doc-block 2\n") == blocks[2]
    assert failed_block(blocks, "\n@@doc-block 0\none\n\n@@doc-block end\n") is None
    assert list(expected_outputs(blocks)) == [(0, blocks[1])]
