"""Account takeover through the HTTP API: a stolen session is challenged, staff recover.

The customer signs in and trades from home; the same access token then comes from
another network (a stolen session): its order is refused until the session steps up.
A trader cannot read fraud decisions; a compliance officer can, and recovers the account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    build_app,
    client_at,
    login,
    reason_of,
    staff_signed_in,
    step_up_with_totp,
)
from sqlalchemy import Engine, select
from trading_flows import add_instrument, funded_trader, place

from support import registry_of
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.service import AlertFilter, Decision, alert_queue
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock, ns_to_rfc3339
from tradeguard.db.session import transaction
from tradeguard.fraud.artifact import CHAMPION, ModelRegistry, model_document
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.decisions import Outcome
from tradeguard.fraud.drift import profile
from tradeguard.fraud.events import FraudEvent, Kind
from tradeguard.fraud.labels import labelled_history
from tradeguard.fraud.models import ReverificationRow
from tradeguard.fraud.synthetic import generate
from tradeguard.fraud.training import TrainingConfig, train
from tradeguard.fraud.wiring import model_directory, model_key
from tradeguard.identity.models import AuthSession, User
from tradeguard.notify.notifier import MemorySender

HOME, ELSEWHERE = "198.51.100.7", "203.0.113.9"
STEP_UP_SECONDS = 300


@pytest.fixture
def fraud_app(
    settings: Settings, clean_database, clock: FixedClock, mailbox: MemorySender
) -> FastAPI:
    app = build_app(settings, clean_database.engine, clock, mailbox)
    add_instrument(app, "ACME", "100.00")
    return app


@pytest.fixture
def home(fraud_app: FastAPI) -> Iterator[TestClient]:
    with client_at(fraud_app, HOME) as client:
        yield client


@pytest.fixture
def attacker(fraud_app: FastAPI) -> TestClient:
    return client_at(fraud_app, ELSEWHERE)


def caught_up(app: FastAPI) -> None:
    watchers = registry_of(app).watchers  # type: ignore[arg-type]
    while watchers.run_once().events:
        pass


def user_id(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(select(User.id).where(User.username == username)).scalar_one()
        )


@pytest.fixture
def alice(home: TestClient, mailbox: MemorySender, clock: FixedClock, fraud_app: FastAPI) -> Person:
    person = funded_trader(home, mailbox, clock, fraud_app, "alice")
    add_instrument(fraud_app, "ACME", "100.00")
    caught_up(fraud_app)
    clock.advance(seconds=STEP_UP_SECONDS + 1)  # the sign-in's own step-up has lapsed
    add_instrument(fraud_app, "ACME", "100.00")
    return person


def test_order_when_session_used_from_its_own_network_then_placed(
    home: TestClient, alice: Person
) -> None:
    placed = place(home, alice, quantity=1, limit_price="99.00")
    assert placed.status_code == 201, placed.text


def test_order_when_stolen_session_used_from_another_network_then_step_up_required(
    attacker: TestClient, alice: Person, clean_database
) -> None:
    refused = place(attacker, alice, side="buy", quantity=1, limit_price="99.00")
    assert reason_of(refused) == (403, "FRAUD_STEP_UP_REQUIRED")
    assert "score" not in refused.text
    assert refused.json()["why"] == "session_moved"
    assert refused.json()["verify_at"] == "/account/verify?action=order&why=session_moved"
    decisions = _decision_events(clean_database.engine)
    assert decisions
    assert decisions[-1]["outcome"] == "step_up"
    assert "session_moved" in decisions[-1]["rules"]


def test_fraud_routes_when_trader_asks_then_forbidden(
    home: TestClient, alice: Person, clean_database
) -> None:
    own = user_id(clean_database.engine, "alice")
    for path in (f"/v1/fraud/users/{own}/decisions", f"/v1/fraud/users/{own}/activity"):
        assert home.get(path, headers=alice.headers).status_code == 403
    recovered = home.post(
        f"/v1/fraud/users/{own}/recover", json={"reason": "mine"}, headers=alice.headers
    )
    assert recovered.status_code == 403


def test_recovery_when_officer_recovers_then_stolen_session_ends(  # noqa: PLR0913, PLR0917 - the scene
    home: TestClient,
    attacker: TestClient,
    alice: Person,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    place(attacker, alice, quantity=1, limit_price="99.00")
    officer = staff_signed_in(
        home,
        mailbox,
        clock,
        clean_database.engine,
        role="COMPLIANCE",
        level="operator",
        username="officer",
    )
    victim = user_id(clean_database.engine, "alice")
    decisions = home.get(f"/v1/fraud/users/{victim}/decisions", headers=officer.headers)
    assert decisions.status_code == 200, decisions.text
    assert decisions.json()[-1]["data"]["rules"] == ["session_moved"]
    recovered = home.post(
        f"/v1/fraud/users/{victim}/recover", json={"reason": "takeover"}, headers=officer.headers
    )
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["sessions_ended"] >= 1
    assert attacker.get("/v1/account", headers=alice.headers).status_code == 401
    assert login(home, alice).status_code == 401  # the password must be reset first
    with clean_database.engine.connect() as connection:
        row = connection.execute(
            select(ReverificationRow).where(ReverificationRow.user_id == victim)
        ).one()
    assert row.verified_at_ns is None  # withdrawals and credential changes stay closed


def test_login_when_customer_locked_then_blocked_and_audited(
    home: TestClient, alice: Person, fraud_app: FastAPI, clean_database
) -> None:
    guard = registry_of(fraud_app).fraud_guard  # type: ignore[arg-type]
    until = guard.lock(user_id(clean_database.engine, "alice"), 60 * 10**9)
    refused = login(home, alice)
    assert reason_of(refused) == (403, "FRAUD_BLOCKED")
    assert refused.json()["locked_until"] == ns_to_rfc3339(until)
    assert refused.json()["recover_at"] == "/reset-password"
    assert _decision_events(clean_database.engine)[-1]["rules"] == ["locked"]


def _decision_events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        query = select(AuditEventRow.record).order_by(AuditEventRow.seq)
        rows = connection.execute(query).scalars().all()
    events = [AuditEvent.from_record(bytes(row)) for row in rows]
    return [event.data for event in events if event.event_type == "fraud.decision"]


def test_order_when_roaming_owner_steps_up_then_placed(
    attacker: TestClient, alice: Person, clock: FixedClock
) -> None:
    """The owner on another network answers the challenge with the second factor."""
    assert place(attacker, alice, quantity=1, limit_price="99.00").status_code == 403
    step_up_with_totp(attacker, alice, clock)
    placed = place(attacker, alice, quantity=1, limit_price="99.00")
    assert placed.status_code == 201, placed.text


def test_password_change_when_customer_locked_then_blocked_and_unchanged(
    home: TestClient, alice: Person, fraud_app: FastAPI, clock: FixedClock, clean_database
) -> None:
    step_up_with_totp(home, alice, clock)
    guard = registry_of(fraud_app).fraud_guard  # type: ignore[arg-type]
    guard.lock(user_id(clean_database.engine, "alice"), 60 * 10**9)
    changed = home.post(
        "/v1/auth/password",
        json={"new_password": "amber-Canyon-violin-82-moss"},
        headers=alice.headers,
    )
    assert reason_of(changed) == (403, "FRAUD_BLOCKED")
    assert _decision_events(clean_database.engine)[-1]["action"] == "credential_change"
    assert home.get("/v1/account", headers=alice.headers).status_code == 200  # sessions kept


def test_model_when_champion_tampered_then_refused_and_previous_kept(
    home: TestClient, fraud_app: FastAPI, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    registry = registry_of(fraud_app)  # type: ignore[arg-type]
    services = registry.services
    models = ModelRegistry(model_directory(services.settings), model_key(services.crypto.keyring))
    rows = [(s.features, s.label) for s in generate(5, 60, fraud_share=0.3)]
    trained = train(rows, rows, TrainingConfig(trees=4), review_rate=0.01)
    for version in ("v1", "v2"):
        models.store(version, model_document(version, trained.trees, FEATURE_NAMES, {}))
    models.name(CHAMPION, "v1")
    officer = staff_signed_in(
        home, mailbox, clock, clean_database.engine, role="COMPLIANCE", level="operator"
    )
    assert home.get("/v1/fraud/model", headers=officer.headers).json()["champion"] == "v1"
    tampered = models.directory / "v2.json"
    tampered.write_bytes(tampered.read_bytes().replace(b'"threshold":[', b'"threshold":[-1e9,', 1))
    models.name(CHAMPION, "v2")
    reloaded = home.post("/v1/fraud/model/reload", headers=officer.headers)
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["champion"] == "v1"


@pytest.mark.usefixtures("alice")
def test_withdrawal_when_blocked_then_review_alert_and_its_outcome_becomes_a_label(
    fraud_app: FastAPI, clean_database
) -> None:
    registry = registry_of(fraud_app)  # type: ignore[arg-type]
    guard, victim = registry.fraud_guard, user_id(clean_database.engine, "alice")
    now = guard.clock.now_ns()
    guard.scorer.profiles.apply(FraudEvent(Kind.PASSWORD_CHANGE, victim, now - 10**9))
    ctx = DecisionContext(victim, now, amount_cents=9_000_000, balance_cents=9_000_000)
    decision = guard.decide(Action.WITHDRAWAL, ctx)  # what the payments routes will call
    assert decision.outcome is Outcome.BLOCK
    checked = guard.check_alone(Action.WITHDRAWAL, ctx, Actor("user", victim))
    assert "credential_change_then_withdrawal" in checked.rules
    with transaction(registry.services.sessions) as db:
        (alert,) = alert_queue(db, AlertFilter(typology="fraud.withdrawal", limit=10))
        assert json.loads(alert.evidence)["features"]["withdrawal_after_credential_change"] == 1.0
        case = registry.cases.open_case(db, Actor("staff", "officer"), [alert.id], "takeover?")
        registry.cases.decide(
            db, Actor("staff", "officer"), case.id, Decision.FALSE_POSITIVE, "own"
        )
        (line,) = list(labelled_history(db))
    assert json.loads(line)["label"] == 0
    assert guard.decide(Action.LOGIN, ctx).rules == ("locked",)


class ScorerSpy:
    """The guard's scorer, with every decision it is asked for remembered."""

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.asked: list[tuple[Action, DecisionContext]] = []

    def decide(self, action: Action, context: DecisionContext) -> Any:
        self.asked.append((action, context))
        return self.scorer.decide(action, context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scorer, name)


@pytest.fixture
def spy(fraud_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> ScorerSpy:
    guard = registry_of(fraud_app).fraud_guard  # type: ignore[arg-type]
    watching = ScorerSpy(guard.scorer)
    monkeypatch.setattr(guard, "scorer", watching)
    return watching


def test_order_when_stepped_up_decision_then_scored_once_and_recorded_as_made(
    attacker: TestClient, alice: Person, spy: ScorerSpy, clean_database
) -> None:
    refused = place(attacker, alice, side="buy", quantity=1, limit_price="99.00")
    assert reason_of(refused) == (403, "FRAUD_STEP_UP_REQUIRED")
    assert [action for action, _ in spy.asked] == [Action.ORDER]
    assert _decision_events(clean_database.engine)[-1]["outcome"] == "step_up"


def test_market_order_when_scored_then_valued_at_the_reference_price(
    home: TestClient, alice: Person, spy: ScorerSpy
) -> None:
    place(home, alice, side="buy", type="market", quantity=10, limit_price=None)
    ((action, context),) = spy.asked
    assert action is Action.ORDER
    assert context.amount_cents == 10 * 100_00  # 10 shares at the 100.00 reference price


def test_password_change_when_scored_then_session_and_its_device_passed(
    home: TestClient, alice: Person, spy: ScorerSpy, clock: FixedClock, clean_database
) -> None:
    step_up_with_totp(home, alice, clock)
    home.post(
        "/v1/auth/password",
        json={"new_password": "amber-Canyon-violin-82-moss"},
        headers=alice.headers,
    )
    (context,) = [ctx for action, ctx in spy.asked if action is Action.CREDENTIAL_CHANGE]
    with clean_database.engine.connect() as connection:
        query = select(AuthSession.id, AuthSession.device_id).where(
            AuthSession.user_id == user_id(clean_database.engine, "alice")
        )
        sessions = {row.id: row.device_id for row in connection.execute(query)}
    assert context.session in sessions
    assert context.device is not None
    assert context.device == sessions[context.session]


def test_decision_when_champion_has_feature_bins_then_recorded_with_each_features_bin(
    attacker: TestClient, alice: Person, fraud_app: FastAPI, clean_database
) -> None:
    registry = registry_of(fraud_app)  # type: ignore[arg-type]
    services = registry.services
    models = ModelRegistry(model_directory(services.settings), model_key(services.crypto.keyring))
    rows = [(s.features, s.label) for s in generate(5, 60, fraud_share=0.3)]
    trained = train(rows, rows, TrainingConfig(trees=4), review_rate=0.01)
    metadata = {"drift": profile([features for features, _ in rows], FEATURE_NAMES)}
    models.store("v1", model_document("v1", trained.trees, FEATURE_NAMES, metadata))
    models.name(CHAMPION, "v1")
    with transaction(services.sessions) as db:
        registry.fraud_guard.reload(db, Actor.system("test"))
    place(attacker, alice, side="buy", quantity=1, limit_price="99.00")
    decision = _decision_events(clean_database.engine)[-1]
    assert decision["model_version"] == "v1"
    assert len(decision["feature_bins"]) == len(FEATURE_NAMES)
    assert "features" not in decision  # the bins, never the values
