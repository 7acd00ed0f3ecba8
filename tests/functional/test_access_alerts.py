"""Access anomalies raise alerts: stored, listed, acknowledged, emailed and audited, no flood."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    build_app,
    client_at,
    sign_in_with_security_key,
    sign_up,
    signed_up_with_totp,
    staff_signed_in,
)
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from support import registry_of
from tradeguard.access.alerts import AnomalyLimits
from tradeguard.audit.search import AuditQuery, search
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock, datetime_to_ns
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender

COMPLIANCE = "compliance@tradeguard.localhost"
AUDIT_SEARCH = "/v1/audit/events"


@pytest.fixture
def build_client(
    settings_for: Callable[..., Settings], clean_database, clock: FixedClock, mailbox: MemorySender
) -> Iterator[Callable[..., TestClient]]:
    """Start a client of an app built with setting overrides."""
    clients: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        app = build_app(settings_for(**overrides), clean_database.engine, clock, mailbox)
        clients.append(client_at(app).__enter__())
        return clients[-1]

    yield build
    for started in clients:
        started.__exit__(None, None, None)


def app_of(client: TestClient) -> FastAPI:
    app: FastAPI = client.app  # type: ignore[assignment]
    return app


def flush_checks(client: TestClient) -> None:
    """Write the buffered permission checks and review them for anomalies now."""
    registry_of(app_of(client)).access_checks.flush()


def audit_events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        page = search(session, AuditQuery(event_type=event_type, limit=1000))
    return [event.to_json() for event in page.events]


def stored_alerts(engine: Engine) -> list[tuple[str, str]]:
    """Every stored alert as (kind, user id), oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT kind, staff_user_id FROM access_alerts ORDER BY raised_at_ns, id")
        )
        return [(kind, user_id) for kind, user_id in rows]


def user_id(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT id FROM users WHERE username = :name"), {"name": username}
        )
    assert isinstance(found, str), found
    return found


def customers(client: TestClient, mailbox: MemorySender, engine: Engine, count: int) -> list[str]:
    """Sign up ``count`` customers; their user ids."""
    names = [f"customer{number}" for number in range(count)]
    for name in names:
        sign_up(client, mailbox, Person(username=name, email=f"{name}@example.com"))
    return [user_id(engine, name) for name in names]


def staff(client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine) -> Person:
    return staff_signed_in(
        client, mailbox, clock, engine, role="SUPPORT", level="operator", username="agent"
    )


def officer(client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine) -> Person:
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="read-only", username="officer"
    )


def view(client: TestClient, agent: Person, customer_id: str) -> None:
    shown = client.get(f"/v1/support/users/{customer_id}", headers=agent.headers)
    assert shown.status_code == 200, shown.text


def alert_emails(mailbox: MemorySender) -> list[str]:
    return [email.kind for email in mailbox.emails if email.to == COMPLIANCE]


# Mass access


def test_mass_access_when_more_customers_viewed_than_allowed_then_one_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    engine = clean_database.engine
    client = build_client(anomaly_distinct_records=2)
    agent = staff(client, mailbox, clock, engine)
    ids = customers(client, mailbox, engine, 4)
    for customer_id in ids[:2]:
        view(client, agent, customer_id)
    assert stored_alerts(engine) == []
    view(client, agent, ids[2])
    agent_id = user_id(engine, "agent")
    assert stored_alerts(engine) == [("mass_access", agent_id)]
    view(client, agent, ids[3])  # still the same window: no second alert
    assert stored_alerts(engine) == [("mass_access", agent_id)]
    assert alert_emails(mailbox) == ["access.alert.mass_access"]
    (raised,) = audit_events(engine, "access.alert.raised")
    assert raised["subject"] == agent_id
    assert raised["data"]["kind"] == "mass_access"
    assert raised["data"]["distinct_records"] == 3


def test_mass_access_when_one_customer_viewed_often_then_no_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(anomaly_distinct_records=1)
    agent = staff(client, mailbox, clock, clean_database.engine)
    (only,) = customers(client, mailbox, clean_database.engine, 1)
    for _ in range(5):
        view(client, agent, only)
    assert stored_alerts(clean_database.engine) == []


def test_mass_access_when_the_window_has_passed_then_a_new_alert_may_be_raised(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    engine = clean_database.engine
    client = build_client(anomaly_distinct_records=1, anomaly_window_seconds=600)
    agent = staff(client, mailbox, clock, engine)
    ids = customers(client, mailbox, engine, 4)
    view(client, agent, ids[0])
    view(client, agent, ids[1])
    assert len(stored_alerts(engine)) == 1
    clock.advance(seconds=601)
    sign_in_with_security_key(client, agent)  # the session timed out meanwhile
    view(client, agent, ids[2])
    assert len(stored_alerts(engine)) == 1  # one customer in the new window
    view(client, agent, ids[3])
    assert [kind for kind, _ in stored_alerts(engine)] == ["mass_access", "mass_access"]


def test_mass_access_when_limit_changed_at_run_time_then_the_new_limit_applies(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    engine = clean_database.engine
    client = build_client(anomaly_distinct_records=50)
    agent = staff(client, mailbox, clock, engine)
    ids = customers(client, mailbox, engine, 2)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO runtime_settings (key, value, updated_at_ns, updated_by)"
                " VALUES ('anomaly_distinct_records', '1', 0, 'test')"
            )
        )
    view(client, agent, ids[0])
    view(client, agent, ids[1])
    assert [kind for kind, _ in stored_alerts(engine)] == ["mass_access"]


# Repeated denials


def test_repeated_denials_when_limit_reached_then_one_alert_emailed(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    engine = clean_database.engine
    client = build_client(anomaly_denials=3)
    agent = staff(client, mailbox, clock, engine)
    for _ in range(2):
        assert_refused(client.get(AUDIT_SEARCH, headers=agent.headers), 403, "ACCESS_DENIED")
    flush_checks(client)
    assert stored_alerts(engine) == []
    for _ in range(3):
        assert_refused(client.get(AUDIT_SEARCH, headers=agent.headers), 403, "ACCESS_DENIED")
    flush_checks(client)
    assert stored_alerts(engine) == [("repeated_denials", user_id(engine, "agent"))]
    assert alert_emails(mailbox) == ["access.alert.repeated_denials"]
    (raised,) = audit_events(engine, "access.alert.raised")
    assert raised["data"]["permission"] == "compliance:audit"
    assert raised["data"]["route"] == AUDIT_SEARCH


def test_repeated_denials_when_spread_beyond_the_window_then_no_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(anomaly_denials=2, anomaly_window_seconds=60)
    trader = signed_up_with_totp(client, mailbox, clock, Person(username="tina"))
    for _ in range(3):
        assert_refused(client.get(AUDIT_SEARCH, headers=trader.headers), 403, "ACCESS_DENIED")
        clock.advance(seconds=61)
    flush_checks(client)
    assert stored_alerts(clean_database.engine) == []


def test_repeated_denials_when_a_trader_probes_staff_routes_then_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(anomaly_denials=2)
    trader = signed_up_with_totp(client, mailbox, clock, Person(username="tina"))
    for path in (AUDIT_SEARCH, "/v1/admin/alerts"):
        assert_refused(client.get(path, headers=trader.headers), 403, "ACCESS_DENIED")
    flush_checks(client)
    tina = user_id(clean_database.engine, "tina")
    assert stored_alerts(clean_database.engine) == [("repeated_denials", tina)]


def test_repeated_denials_when_not_flushed_by_hand_then_the_background_writer_raises_it(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(anomaly_denials=1)
    trader = signed_up_with_totp(client, mailbox, clock, Person(username="tina"))
    assert_refused(client.get(AUDIT_SEARCH, headers=trader.headers), 403, "ACCESS_DENIED")
    deadline = time.monotonic() + 10
    while not stored_alerts(clean_database.engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [kind for kind, _ in stored_alerts(clean_database.engine)] == ["repeated_denials"]


# Off hours


def test_off_hours_when_staff_works_before_staff_hours_then_one_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    engine = clean_database.engine
    client = build_client(staff_hours_start=10, staff_hours_end=18)  # the clock says 09:30
    agent = staff(client, mailbox, clock, engine)
    (customer_id,) = customers(client, mailbox, engine, 1)
    view(client, agent, customer_id)
    view(client, agent, customer_id)
    flush_checks(client)
    assert stored_alerts(engine) == [("off_hours", user_id(engine, "agent"))]
    (raised,) = audit_events(engine, "access.alert.raised")
    assert raised["data"]["staff_hours"] == "10:00-18:00 UTC"
    assert alert_emails(mailbox) == ["access.alert.off_hours"]


def test_off_hours_when_a_trader_trades_at_night_then_no_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(staff_hours_start=10, staff_hours_end=18)
    trader = signed_up_with_totp(client, mailbox, clock, Person(username="tina"))
    assert client.get("/v1/sessions", headers=trader.headers).status_code == 200
    flush_checks(client)
    assert stored_alerts(clean_database.engine) == []


def test_off_hours_when_staff_works_within_staff_hours_then_no_alert(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    clock.set(datetime(2026, 11, 23, 10, 30, tzinfo=UTC))
    client = build_client(staff_hours_start=10, staff_hours_end=18)
    agent = staff(client, mailbox, clock, clean_database.engine)
    (customer_id,) = customers(client, mailbox, clean_database.engine, 1)
    view(client, agent, customer_id)
    flush_checks(client)
    assert stored_alerts(clean_database.engine) == []


@pytest.mark.parametrize(
    ("hours", "within"),
    [
        ((0, 24), list(range(24))),
        ((8, 18), list(range(8, 18))),
        ((22, 6), [0, 1, 2, 3, 4, 5, 22, 23]),
        ((9, 9), list(range(24))),
    ],
)
def test_staff_hours_when_hour_given_then_within_as_configured(
    hours: tuple[int, int], within: list[int]
) -> None:
    start, end = hours
    limits = AnomalyLimits(
        distinct_records=50, denials=10, window_seconds=3600, hours_start=start, hours_end=end
    )
    found = [
        hour
        for hour in range(24)
        if limits.within_hours(datetime_to_ns(datetime(2026, 11, 21, hour, 59, 59, tzinfo=UTC)))
    ]
    assert found == within


# Listing and acknowledging


def raise_alerts(client: TestClient, *alerts: tuple[str, str]) -> None:
    """Raise alerts of (kind, user id) through the alert service, as the monitor would."""
    app = app_of(client)
    service = registry_of(app).access_alerts
    with transaction(registry_of(app).services.sessions) as db:
        for kind, staff_user_id in alerts:
            service.raise_alert(db, kind, staff_user_id, {"source": "test"}, 1)


@pytest.fixture
def alerting(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> tuple[Person, Person]:
    """The compliance officer and an agent with three alerts: mass, off-hours, mass."""
    watcher = officer(client, mailbox, clock, clean_database.engine)
    agent = staff(client, mailbox, clock, clean_database.engine)
    agent_id = user_id(clean_database.engine, "agent")
    other = user_id(clean_database.engine, "officer")
    raise_alerts(client, ("mass_access", agent_id), ("off_hours", agent_id))
    clock.advance(seconds=1)
    raise_alerts(client, ("mass_access", other))
    return watcher, agent


def listed(client: TestClient, person: Person, **params: Any) -> dict[str, Any]:
    found = client.get("/v1/admin/alerts", params=params, headers=person.headers)
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def test_alert_list_when_filtered_then_only_matching_alerts_newest_first(
    client: TestClient, clean_database, alerting: tuple[Person, Person]
) -> None:
    watcher, _ = alerting
    agent_id = user_id(clean_database.engine, "agent")
    everything = listed(client, watcher)["alerts"]
    assert [alert["kind"] for alert in everything] == ["mass_access", "off_hours", "mass_access"]
    assert everything[1]["detail"] == {"source": "test"}
    assert everything[1]["acknowledged_at"] is None
    by_kind = listed(client, watcher, kind="mass_access")["alerts"]
    assert [alert["kind"] for alert in by_kind] == ["mass_access", "mass_access"]
    by_person = listed(client, watcher, staff_user_id=agent_id)["alerts"]
    assert {alert["staff_user_id"] for alert in by_person} == {agent_id}
    assert len(by_person) == 2


def test_alert_list_when_paged_then_every_alert_once(
    client: TestClient, alerting: tuple[Person, Person]
) -> None:
    watcher, _ = alerting
    seen: list[str] = []
    page = listed(client, watcher, limit=2)
    seen += [alert["id"] for alert in page["alerts"]]
    page = listed(client, watcher, limit=2, after=page["next_after"])
    seen += [alert["id"] for alert in page["alerts"]]
    assert page["next_after"] is None
    assert seen == [alert["id"] for alert in listed(client, watcher)["alerts"]]
    assert len(set(seen)) == 3


@pytest.mark.parametrize(
    "params",
    [{"kind": "coffee"}, {"limit": 0}, {"colour": "red"}, {"after": "garbage"}, {"after": ""}],
)
def test_alert_list_when_query_invalid_then_refused(
    client: TestClient, alerting: tuple[Person, Person], params: dict[str, Any]
) -> None:
    watcher, _ = alerting
    found = client.get("/v1/admin/alerts", params=params, headers=watcher.headers)
    assert_refused(found, 422, "VALIDATION_FAILED")
    assert [error["location"] for error in found.json()["errors"]] == [["query", *params]]


def test_acknowledge_when_compliance_closes_an_alert_then_stored_audited_and_filtered_out(
    client: TestClient, clean_database, alerting: tuple[Person, Person]
) -> None:
    watcher, _ = alerting
    off_hours = listed(client, watcher, kind="off_hours")["alerts"][0]
    done = client.post(
        f"/v1/admin/alerts/{off_hours['id']}/acknowledge",
        json={"note": "agent covered the night shift"},
        headers=watcher.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["acknowledged_by"] == user_id(clean_database.engine, "officer")
    assert done.json()["acknowledged_at"] is not None
    open_ones = listed(client, watcher, unacknowledged=True)["alerts"]
    assert off_hours["id"] not in [alert["id"] for alert in open_ones]
    assert len(open_ones) == 2
    (acknowledged,) = audit_events(clean_database.engine, "access.alert.acknowledged")
    assert acknowledged["data"]["note"] == "agent covered the night shift"
    again = client.post(f"/v1/admin/alerts/{off_hours['id']}/acknowledge", headers=watcher.headers)
    assert_refused(again, 409, "ALERT_ACKNOWLEDGED")


def test_acknowledge_when_alert_unknown_then_not_found(
    client: TestClient, alerting: tuple[Person, Person]
) -> None:
    watcher, _ = alerting
    unknown = client.post(
        "/v1/admin/alerts/01a1fd70-0000-7000-8000-000000000000/acknowledge",
        headers=watcher.headers,
    )
    assert_refused(unknown, 404, "NOT_FOUND")
