"""The byte-level column check used by verification workers: exact, even with hostile data."""

from __future__ import annotations

import pytest

from tradeguard.audit.parallel_verify import columns_match
from tradeguard.audit.records import Actor, EventRecord

HOSTILE = {
    "note": '},"data":{"x":1},"event_id":"forged","personal":null,"request_id":null',
    "event_id": "forged",
    "personal": {"ciphertext": "x"},
    "nested": {"id": "mallory", "kind": "staff", "type": "x.y"},
}


def _row(personal: dict[str, str] | None = None, subject: str | None = "order:1") -> tuple:
    actor = Actor("user", 'alice "the" trader', ip="203.0.113.7", session_id=None, device_id="é")
    draft = EventRecord(
        "evt-1",
        1_795_243_040_177_919_000,
        "order.placed",
        actor,
        subject,
        "req-\n1",
        HOSTILE,
        personal,
    )
    return (
        7,
        draft.canonical(7),
        b"",
        "evt-1",
        draft.ts_ns,
        "order.placed",
        "user",
        actor.id,
        subject,
        "req-\n1",
    )


@pytest.mark.parametrize("personal", [None, {"subject": "user:1", "ciphertext": "AAAA"}])
def test_columns_match_when_columns_true_then_accepted(personal) -> None:
    assert columns_match(_row(personal))
    assert columns_match(_row(personal, subject=None))


@pytest.mark.parametrize(
    ("index", "forged"),
    [
        (0, 8),
        (3, "forged"),
        (4, 1),
        (5, "x.y"),
        (6, "staff"),
        (7, "mallory"),
        (8, "order:2"),
        (8, None),
        (9, None),
    ],
)
@pytest.mark.parametrize("personal", [None, {"subject": "user:1", "ciphertext": "AAAA"}])
def test_columns_match_when_any_column_forged_then_refused(
    index: int, forged: object, personal
) -> None:
    row = list(_row(personal))
    row[index] = forged
    assert not columns_match(tuple(row))


def test_columns_match_when_record_not_canonical_then_refused() -> None:
    row = list(_row())
    row[1] = b'{"v":1}'
    assert not columns_match(tuple(row))
