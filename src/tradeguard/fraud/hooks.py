"""The decision points inside other packages' flows: sign-in, changes, order entry.

Sign-in: once the password is right, a block refuses the sign-in (kept: the decision and
the review are committed) and a step-up is the second factor the sign-in asks anyway.
Password and email changes: a block refuses the change (kept); they already require a
recent step-up, which is what a step-up outcome asks.
Order entry: before the desk, from the session's address; a step-up answers 403 until
the session verifies a strong factor, a block answers 403 and opens a review. Allowed
orders are not written to the trail (the order's own event is); every other decision is.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request

from tradeguard.audit.records import Actor
from tradeguard.core.principal import Principal
from tradeguard.fraud.context import Action, DecisionContext, OrderFacts
from tradeguard.fraud.decisions import Outcome
from tradeguard.fraud.guard import FraudGuard, screen
from tradeguard.fraud.problems import fraud_blocked
from tradeguard.identity.kit import RiskCheck
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin

PRICE_UNITS_PER_CENT = 100


def identity_check(guard: FraudGuard) -> RiskCheck:
    """The check identity runs at sign-in (password right) and before credential changes."""

    def check(db: Session, user: User, origin: Origin, point: str, device_id: str | None) -> None:
        if not guard.enabled:
            return
        action = Action(point)
        ctx = DecisionContext(
            user=user.id,
            ts_ns=guard.clock.now_ns(),
            device=device_id,
            network=guard.geo.locate(origin.ip),
            account_created_ns=user.created_at_ns,
        )
        actor = Actor("user", user.id, ip=origin.ip, device_id=device_id)
        decision = guard.check(db, action, ctx, actor)
        if decision.outcome is Outcome.BLOCK:
            raise fraud_blocked(decision).kept()

    return check


def screen_order(
    guard: FraudGuard, principal: Principal, request: Request, ask: OrderFacts
) -> None:
    """Score an order before the desk sees it; 403 on a step-up or a block."""
    if not guard.enabled:
        return
    now = guard.clock.now_ns()
    ip = request.client.host if request.client else None
    ctx = DecisionContext(
        user=principal.user_id,
        ts_ns=now,
        network=guard.geo.locate(ip),
        session=principal.session_id,
        amount_cents=ask.quantity * (ask.limit_price or 0) // PRICE_UNITS_PER_CENT,
        symbol=ask.symbol,
        sell=ask.sell,
        quantity=ask.quantity,
    )
    decision = guard.decide(Action.ORDER, ctx)
    if decision.outcome is not Outcome.ALLOW:
        actor = Actor("user", principal.user_id, ip=ip, session_id=principal.session_id)
        decision = guard.check_alone(Action.ORDER, ctx, actor)
    state = principal.state
    stepped = state is not None and state.stepped_up_within(now, guard.step_up_seconds)
    screen(decision, stepped_up=stepped)
