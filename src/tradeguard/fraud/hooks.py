"""The decision points inside other packages' flows: sign-in, changes, order entry.

Sign-in: once the password is right, a block refuses the sign-in (kept: the decision and
the review are committed) and a step-up is the second factor the sign-in asks anyway.
Password and email changes: scored with the session they are made in and its device; a
block refuses the change (kept); they already require a recent step-up, which is what a
step-up outcome asks. While a recovery's re-verification is pending they are refused.
Order entry: before the desk, from the session's address, scored once (a market order
valued at its reference price); a step-up answers 403 until the session verifies a strong
factor, a block answers 403 and opens a review. Allowed orders are not written to the
trail (the order's own event is); every other decision is, as it was made.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.requests import Request

from tradeguard.audit.records import Actor
from tradeguard.core.principal import Principal
from tradeguard.fraud import reverification
from tradeguard.fraud.context import Action, DecisionContext, OrderFacts
from tradeguard.fraud.decisions import FraudDecision, Outcome
from tradeguard.fraud.guard import FraudGuard, screen
from tradeguard.fraud.problems import fraud_blocked
from tradeguard.identity.kit import RiskCheck
from tradeguard.identity.models import AuthSession, User
from tradeguard.identity.origin import Origin

PRICE_UNITS_PER_CENT = 100
REVERIFIED_POINTS = frozenset({Action.CREDENTIAL_CHANGE.value, Action.PROFILE_CHANGE.value})
"""Points closed while a recovery's identity re-verification is pending."""


def identity_check(guard: FraudGuard) -> RiskCheck:
    """The check identity runs at sign-in (password right) and before credential changes."""

    def check(db: Session, user: User, origin: Origin, point: str, device_id: str | None) -> None:
        if point in REVERIFIED_POINTS:
            reverification.enforce(db, user.id, point)
        if not guard.enabled:
            return
        device = device_id or _session_device(db, origin.session_id)
        ctx = DecisionContext(
            user=user.id,
            ts_ns=guard.clock.now_ns(),
            device=device,
            network=guard.geo.locate(origin.ip),
            session=origin.session_id,
            account_created_ns=user.created_at_ns,
        )
        actor = Actor("user", user.id, ip=origin.ip, session_id=origin.session_id, device_id=device)
        decision = guard.check(db, Action(point), ctx, actor)
        if decision.outcome is Outcome.BLOCK:
            raise fraud_blocked(decision, guard.locked_until(user.id)).kept()

    return check


def _session_device(db: Session, session_id: str | None) -> str | None:
    """The device a session signed in on (a credential change names no device itself)."""
    session = None if session_id is None else db.get(AuthSession, session_id)
    return None if session is None else session.device_id


@dataclass(frozen=True, slots=True)
class OrderScore:
    """An order's fraud decision and the context it was made in (``score_order``)."""

    decision: FraudDecision
    context: DecisionContext
    ip: str | None


def screen_order(
    guard: FraudGuard, principal: Principal, request: Request, ask: OrderFacts
) -> None:
    """Score an order once before the desk sees it; 403 on a step-up or a block."""
    if guard.enabled:
        settle_order(guard, principal, score_order(guard, principal, request, ask))


def score_order(
    guard: FraudGuard, principal: Principal, request: Request, ask: OrderFacts
) -> OrderScore:
    """The order's decision, with no effects (memory only if ``guard.decides_in_memory``)."""
    ip = request.client.host if request.client else None
    context = DecisionContext(
        user=principal.user_id,
        ts_ns=guard.clock.now_ns(),
        network=guard.geo.locate(ip),
        session=principal.session_id,
        amount_cents=ask.quantity * (ask.price or 0) // PRICE_UNITS_PER_CENT,
        symbol=ask.symbol,
        sell=ask.sell,
        quantity=ask.quantity,
    )
    return OrderScore(guard.decide(Action.ORDER, context), context, ip)


def settle_order(guard: FraudGuard, principal: Principal, score: OrderScore) -> None:
    """Record a decision other than allow (in a transaction of its own) and act on it.

    403 on a block, or on a step-up the session has not made; an allowed order passes.
    """
    decision = score.decision
    if decision.outcome is Outcome.ALLOW:
        return
    actor = Actor("user", principal.user_id, ip=score.ip, session_id=principal.session_id)
    guard.record_alone(decision, score.context, actor)
    state = principal.state
    at = score.context.ts_ns
    stepped = state is not None and state.stepped_up_within(at, guard.step_up_seconds)
    screen(decision, stepped_up=stepped, locked_until_ns=guard.locked_until(principal.user_id))
