"""Duplicate JSON members found at any depth; which bodies are read as JSON."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from tradeguard.gateway.json_bodies import duplicate_member, parsed_as_json


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (b'{"scope": "data", "scope": "trading"}', "scope"),
        (b'{"a": {"b": 1, "b": 2}}', "b"),
        (b'[1, {"c": 1, "c": 1}]', "c"),
        (b'{"\\u0064": 1, "d": 2}', "d"),
        (b'{"a": 1, "b": 2}', None),
        (b'{"a": {"x": 1}, "b": {"x": 1}}', None),
        (b"not json", None),
        (b"", None),
    ],
)
def test_duplicate_member_when_body_is_parsed_then_the_repeated_name(
    body: bytes, name: str | None
) -> None:
    assert duplicate_member(body) == name


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        (None, True),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
    ],
)
def test_parsed_as_json_when_content_type_given_then_as_fastapi_reads_it(
    content_type: str | None,
    json: bool,  # noqa: FBT001 - a parameter of the test
) -> None:
    raw = [] if content_type is None else [(b"content-type", content_type.encode())]
    assert parsed_as_json(Headers(raw=raw)) is json
