"""The case workflow: open, assign, comment, attach, decide; every step audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow, CaseNoteRow
from tradeguard.cases.service import Cases, Decision
from tradeguard.cases.store import AlertStore
from tradeguard.core.errors import ProblemError
from tradeguard.db.session import transaction
from unit.audit.audit_kit import AuditKit

OFFICER = Actor("user", "officer-1")


def raise_alerts(kit: AuditKit, store: AlertStore, count: int) -> list[str]:
    ids = []
    with transaction(kit.sessions) as db:
        for number in range(count):
            draft = AlertDraft(
                "spoofing", 0.5 + number / 10, Subject(accounts=("a",)), 0, 1, "r", f"e{number}"
            )
            row = store.raise_alert(db, draft, "surveillance")
            assert row is not None
            ids.append(row.id)
    return ids


@pytest.fixture
def cases(kit: AuditKit) -> Cases:
    return Cases(kit.trail, kit.clock)


def test_case_when_worked_through_then_history_lists_each_step(
    kit: AuditKit, store: AlertStore, cases: Cases
) -> None:
    first, second = raise_alerts(kit, store, 2)
    with transaction(kit.sessions) as db:
        case = cases.open_case(db, OFFICER, [first], "ACME spoofing")
        cases.assign(db, OFFICER, case.id, "officer-2")
        cases.comment(db, OFFICER, case.id, "customer Jane Roe called twice")
        cases.attach(db, OFFICER, case.id, [second])
        cases.decide(db, OFFICER, case.id, Decision.FALSE_POSITIVE, "market maker")
    with kit.sessions() as db:
        history = [event.event_type for event in cases.history(db, case.id)]
        assert history == [
            "case.opened",
            "case.assigned",
            "case.commented",
            "case.alerts.attached",
            "case.decided",
        ]
        assert {alert.status for alert in cases.alerts(db, case.id)} == {"closed"}
        assert cases.get(db, case.id).score == pytest.approx(0.6)
        assert cases.notes(db, case.id)[0].body == "customer Jane Roe called twice"


def test_comment_when_stored_then_text_is_not_in_clear(
    kit: AuditKit, store: AlertStore, cases: Cases
) -> None:
    (alert,) = raise_alerts(kit, store, 1)
    with transaction(kit.sessions) as db:
        case = cases.open_case(db, OFFICER, [alert], "t")
        cases.comment(db, OFFICER, case.id, "Jane Roe, 12 Elm Street")
    with kit.engine.connect() as connection:
        raw = connection.execute(text("SELECT body FROM case_notes")).scalar_one()
    assert b"Jane Roe" not in bytes(raw)


def test_open_case_when_alert_already_in_a_case_then_409_and_nothing_changed(
    kit: AuditKit, store: AlertStore, cases: Cases
) -> None:
    (alert,) = raise_alerts(kit, store, 1)
    with transaction(kit.sessions) as db:
        first = cases.open_case(db, OFFICER, [alert], "first")
    with pytest.raises(ProblemError) as refused, transaction(kit.sessions) as db:
        cases.open_case(db, OFFICER, [alert], "second")
    assert (refused.value.status, refused.value.reason_code) == (409, "ALERT_TAKEN")
    with kit.sessions() as db:
        assert db.get_one(AlertRow, alert).case_id == first.id


def test_open_case_when_alert_unknown_then_422(kit: AuditKit, cases: Cases) -> None:
    with pytest.raises(ProblemError) as refused, transaction(kit.sessions) as db:
        cases.open_case(db, OFFICER, ["no-such-alert"], "t")
    assert (refused.value.status, refused.value.reason_code) == (422, "ALERT_NOT_FOUND")


def test_decide_when_case_closed_then_409(kit: AuditKit, store: AlertStore, cases: Cases) -> None:
    (alert,) = raise_alerts(kit, store, 1)
    with transaction(kit.sessions) as db:
        case = cases.open_case(db, OFFICER, [alert], "t")
        cases.decide(db, OFFICER, case.id, Decision.REPORT, "referred")
    with pytest.raises(ProblemError) as refused, transaction(kit.sessions) as db:
        cases.comment(db, OFFICER, case.id, "late note")
    assert refused.value.reason_code == "CASE_CLOSED"
    with kit.sessions() as db:
        assert db.scalars(select(CaseNoteRow)).all() == []


def test_decide_when_escalated_then_case_stays_open_for_review(
    kit: AuditKit, store: AlertStore, cases: Cases
) -> None:
    (alert,) = raise_alerts(kit, store, 1)
    with transaction(kit.sessions) as db:
        case = cases.open_case(db, OFFICER, [alert], "t")
        cases.decide(db, OFFICER, case.id, Decision.ESCALATE, "needs a second look")
    with kit.sessions() as db:
        assert [row.id for row in cases.queue(db, ["escalated"], 10)] == [case.id]
        assert db.get_one(AlertRow, alert).status == "in_case"
