"""Fraud staff routes: a customer's decisions and activity, release a lock, recover.

Reading needs ``fraud:review``, recovery ``fraud:recover``; traders have neither, so a
trader never reads another's (or their own) scores. Every reading and action is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from tradeguard.access.caller import Caller
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.fraud import reverification
from tradeguard.fraud.guard import FraudGuard
from tradeguard.fraud.recovery import (
    Recovery,
    decisions_of,
    recent_activity,
    recover,
    user_or_404,
)
from tradeguard.fraud.schemas import (
    EventView,
    ModelView,
    ReasonBody,
    RecoveryView,
    ReverifiedView,
    event_view,
)
from tradeguard.identity.kit import Identity
from tradeguard.identity.origin import Origin
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Reviewer = Annotated[Principal, require(Permission.FRAUD_REVIEW)]
Recoverer = Annotated[Principal, require(Permission.FRAUD_RECOVER)]
GuardDep = Annotated[FraudGuard, provided(FraudGuard)]
IdentityDep = Annotated[Identity, provided(Identity)]
UserPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "fraud:review or fraud:recover is missing (ACCESS_DENIED)"},
    404: {"description": "No such user (FRAUD_USER_NOT_FOUND)"},
    422: {"description": "Invalid request (VALIDATION_FAILED)"},
}
router = APIRouter(prefix="/v1/fraud", tags=["Fraud"], responses=PROBLEMS)


@router.get("/users/{user_id}/decisions", summary="A customer's fraud decisions")
def list_decisions(
    user_id: UserPath, staff: Reviewer, request: Request, db: DbSession, guard: GuardDep
) -> list[EventView]:
    """Each decision with its score, model version, top features and rules."""
    user_or_404(db, user_id)
    actor = Caller.of(staff, request).actor
    return [event_view(event) for event in decisions_of(db, guard, actor, user_id)]


@router.get("/users/{user_id}/activity", summary="A customer's last week, for review")
def list_activity(
    user_id: UserPath, staff: Reviewer, request: Request, db: DbSession, guard: GuardDep
) -> list[EventView]:
    """Sign-ins, changes, orders and decisions of the last seven days, oldest first."""
    actor = Caller.of(staff, request).actor
    return [event_view(event) for event in recent_activity(db, guard, actor, user_id)]


@router.post("/users/{user_id}/unlock", summary="Release a fraud lock after review")
def unlock(
    user_id: UserPath,
    body: ReasonBody,
    staff: Reviewer,
    request: Request,
    db: DbSession,
    guard: GuardDep,
) -> RecoveryView:
    """The customer's actions are scored again as usual."""
    user_or_404(db, user_id)
    guard.unlock(db, user_id, Caller.of(staff, request).actor, body.reason)
    return RecoveryView(user_id=user_id, sessions_ended=0, locked_until_ns=0)


@router.post("/users/{user_id}/recover", summary="Recover a taken-over account")
def start_recovery(
    user_id: UserPath,
    body: ReasonBody,
    staff: Recoverer,
    request: Request,
    db: DbSession,
    guard: GuardDep,
    identity: IdentityDep,
) -> RecoveryView:
    """End sessions and API keys, require a password reset and re-verification, lock."""
    actor = Caller.of(staff, request).actor
    done = recover(db, identity, guard, Recovery(actor, Origin.of(request), user_id, body.reason))
    return RecoveryView(
        user_id=done.user_id,
        sessions_ended=done.sessions_ended,
        locked_until_ns=done.locked_until_ns,
    )


@router.post("/users/{user_id}/reverified", summary="Mark the identity verified again")
def mark_reverified(
    user_id: UserPath,
    body: ReasonBody,
    staff: Recoverer,
    request: Request,
    db: DbSession,
    guard: GuardDep,
) -> ReverifiedView:
    """After a recovery: withdrawals and credential changes are open to the customer again."""
    user_or_404(db, user_id)
    actor = Caller.of(staff, request).actor
    at = reverification.complete(
        db, guard.audit, actor, user_id, reason=body.reason, now_ns=guard.clock.now_ns()
    )
    return ReverifiedView(user_id=user_id, verified_at_ns=at)


@router.get("/model", summary="The fraud models in use")
def model_in_use(_staff: Reviewer, guard: GuardDep) -> ModelView:
    """Champion and challenger versions, and the champion's training metadata."""
    champion, challenger = guard.models()
    return ModelView(
        champion=champion.version if champion else None,
        challenger=challenger.version if challenger else None,
        metadata=dict(champion.metadata) if champion else {},
    )


@router.post("/model/reload", summary="Load the registry's champion and challenger again")
def reload_models(staff: Recoverer, request: Request, db: DbSession, guard: GuardDep) -> ModelView:
    """After `tradeguard fraud promote`: a file whose signature fails is refused, the old stays."""
    champion, challenger = guard.reload(db, Caller.of(staff, request).actor)
    return ModelView(
        champion=champion.version if champion else None,
        challenger=challenger.version if challenger else None,
        metadata=dict(champion.metadata) if champion else {},
    )
