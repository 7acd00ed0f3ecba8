"""The generated configuration reference: up to date in docs/configuration.md, true to Settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradeguard.cli.main import main
from tradeguard.config import Settings
from tradeguard.config_reference import (
    REGENERATE,
    SECTIONS,
    default_text,
    env_name,
    render_configuration,
    section_of,
    type_text,
)

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_document_is_up_to_date() -> None:
    written = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""

    assert written == render_configuration(), (
        f"docs/configuration.md is stale: regenerate it with `{REGENERATE}` "
        "(run from the repository root with the project's virtualenv)"
    )


def test_every_setting_when_rendered_then_listed_once_with_a_description() -> None:
    rows = [line for line in render_configuration().splitlines() if line.startswith("| `")]

    listed = [row.split("`")[1] for row in rows]
    assert listed == [env_name(name) for _, names in _grouped() for name in names]
    assert sorted(listed) == sorted(env_name(name) for name in Settings.model_fields)
    assert all(field.description for field in Settings.model_fields.values())


def test_section_of_when_a_name_matches_no_section_then_refused() -> None:
    with pytest.raises(ValueError, match="matches sections"):
        section_of("frobnicate_seconds")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("port", "integer, 1 to 65535"),
        ("env", "one of `development`, `production`"),
        ("database_url", "secret"),
        ("rate_limit_ip_auth", "rate limit"),
        ("redis_key_prefix", "text, 1 to 64 characters"),
        ("feed_allowed_origins", "JSON list of text"),
        ("hsts_max_age", "integer, at least 0"),
    ],
)
def test_type_text_when_field_is_described_then_kind_and_range(name: str, expected: str) -> None:
    assert type_text(Settings.model_fields[name]) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("var_dir", "`var`"),
        ("database_url", "unset"),
        ("rate_limit_enabled", "`true`"),
        ("env", "`development`"),
        ("session_idle_seconds_by_role", "`{}`"),
    ],
)
def test_default_text_when_field_has_default_then_spelled_as_the_variable(
    name: str, expected: str
) -> None:
    assert default_text(Settings.model_fields[name]) == expected


def test_config_docs_command_when_run_then_prints_the_reference(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["tradeguard", "config", "docs"])

    with pytest.raises(SystemExit) as exited:
        main()

    assert exited.value.code in (0, None)
    assert capsys.readouterr().out == render_configuration()


def _grouped() -> list[tuple[str, list[str]]]:
    return [
        (title, [name for name in Settings.model_fields if section_of(name) == title])
        for title, _ in SECTIONS
    ]
