"""The alert store: one row per episode, changes audited, replays write nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tradeguard.audit.models import AuditEventRow
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.db.session import transaction
from unit.audit.audit_kit import AuditKit


def draft(score: float = 0.8, end_ns: int = 2_000, episode: str = "e1") -> AlertDraft:
    return AlertDraft(
        typology="wash_trading",
        score=score,
        subject=Subject(customer="owner-1", accounts=("b", "a", "a"), symbol="ACME"),
        start_ns=1_000,
        end_ns=end_ns,
        rule="wash.same_owner",
        episode=episode,
        evidence={"trades": ["t1"], "ratio": 0.5},
        parameters={"min_trades": 2},
    )


def audit_types(kit: AuditKit) -> list[str]:
    with kit.sessions() as db:
        return list(db.scalars(select(AuditEventRow.event_type).order_by(AuditEventRow.seq)))


def test_raise_alert_when_new_then_stored_with_sorted_accounts_and_audited(
    kit: AuditKit, store: AlertStore
) -> None:
    with transaction(kit.sessions) as db:
        row = store.raise_alert(db, draft(), "surveillance")
    assert row is not None
    with kit.sessions() as db:
        stored = db.get_one(AlertRow, row.id)
        assert json.loads(stored.accounts) == ["a", "b"]
        assert json.loads(stored.evidence)["ratio"] == 0.5
        assert stored.status == "open"
    assert audit_types(kit) == ["alert.raised"]


def test_raise_alert_when_same_episode_again_then_nothing_written(
    kit: AuditKit, store: AlertStore
) -> None:
    for _ in range(3):
        with transaction(kit.sessions) as db:
            store.raise_alert(db, draft(), "surveillance")
    with kit.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AlertRow)) == 1
    assert audit_types(kit) == ["alert.raised"]


def test_raise_alert_when_episode_grows_then_one_row_extended_and_update_audited(
    kit: AuditKit, store: AlertStore
) -> None:
    with transaction(kit.sessions) as db:
        store.raise_alert(db, draft(score=0.6), "surveillance")
    with transaction(kit.sessions) as db:
        updated = store.raise_alert(db, draft(score=0.9, end_ns=9_000), "surveillance")
    assert updated is not None
    assert (updated.score, updated.start_ns, updated.end_ns) == (0.9, 1_000, 9_000)
    assert audit_types(kit) == ["alert.raised", "alert.updated"]


def test_raise_alert_when_other_episode_or_source_then_separate_alerts(
    kit: AuditKit, store: AlertStore
) -> None:
    with transaction(kit.sessions) as db:
        store.raise_alert(db, draft(), "surveillance")
        store.raise_alert(db, draft(episode="e2"), "surveillance")
        store.raise_alert(db, draft(), "aml")
    with kit.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AlertRow)) == 3


def test_raise_alert_when_listener_fails_then_alert_rolled_back(
    kit: AuditKit, store: AlertStore
) -> None:
    def failing(_db: object, _row: AlertRow, _event: str) -> None:
        raise RuntimeError("mail relay down")

    store.listen(failing)
    with pytest.raises(RuntimeError), transaction(kit.sessions) as db:
        store.raise_alert(db, draft(), "surveillance")
    with kit.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AlertRow)) == 0


@pytest.mark.parametrize(
    ("score", "start", "end"), [(1.5, 0, 1), (-0.1, 0, 1), (0.5, 5, 1)], ids=str
)
def test_alert_draft_when_out_of_range_then_refused(score: float, start: int, end: int) -> None:
    with pytest.raises(ValueError, match=r"score|window"):
        AlertDraft("spoofing", score, Subject(), start, end, "rule", "e")
