"""``Label`` and ``Printable``: names are printable text; device labels lose the rest."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from tradeguard.access.invite_schemas import InviteCreate
from tradeguard.core.labels import Label, printable_only, unprintable
from tradeguard.identity.devices import label_of
from tradeguard.identity.origin import Origin


class Named(BaseModel):
    label: Label


@pytest.mark.parametrize(
    "text",
    [
        "a\x00b",
        "a\r\nb",
        "a\tb",
        "\u202eexe.txt",
        "a\u2066b\u2069",
        "a\u200db",
        "a\ufeffb",
        "a\x9bb",
        "a\ud800b",
        "a\ue000b",
        "a\u2028b",
    ],
)
def test_label_when_a_character_is_not_printable_then_refused(text: str) -> None:
    assert unprintable(text)
    with pytest.raises(ValidationError):
        Named(label=text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [(" rebalancer ", "rebalancer"), ("株式 bot ✓", "株式 bot ✓"), ("é-ü_ß.1", "é-ü_ß.1")],
)
def test_label_when_printable_then_kept_trimmed(text: str, kept: str) -> None:
    assert Named(label=text).label == kept


@pytest.mark.parametrize("text", ["", "   ", "x" * 65])
def test_label_when_empty_or_long_then_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Named(label=text)


def test_invitation_when_address_holds_an_override_then_refused() -> None:
    with pytest.raises(ValidationError, match="not allowed"):
        InviteCreate(email="moc.elpmaxe@\u202eevil", role="support")  # type: ignore[arg-type]


def test_device_label_when_user_agent_holds_controls_then_stored_without_them() -> None:
    origin = Origin(
        ip=None, user_agent="Evil\xe2\x80\xae/1.0\x1b[2J", accept_language="", request_id=None
    )
    assert label_of(origin) == "Evilâ®/1.0[2J"
    assert not unprintable(label_of(origin))
    assert printable_only("\u202e\x00") == ""
    assert label_of(Origin(None, "\u202e\x00", "", None)) == label_of(Origin(None, "", "", None))
