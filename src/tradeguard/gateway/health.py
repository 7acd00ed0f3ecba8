"""Liveness, readiness and metrics endpoints for load balancers and monitoring."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from sqlalchemy import text
from starlette.responses import Response

from tradeguard.cards.service import CardVault
from tradeguard.config import Settings, VaultMode
from tradeguard.core.errors import UNAUTHORIZED, ProblemError, ProblemType, ReasonCode
from tradeguard.db.migrate import current_revision, head_revision
from tradeguard.gateway.schemas import Check, Liveness, Readiness
from tradeguard.services import Services, ServicesDep
from tradeguard.trading.desk_port import DeskLink
from tradeguard.watch.service import WatchService
from tradeguard.web.provide import provided
from tradeguard.web.routing import PUBLIC

WatchersDep = Annotated[WatchService, provided(WatchService)]
CardVaultDep = Annotated[CardVault, provided(CardVault)]
router = APIRouter(tags=["operations"], dependencies=[PUBLIC])
NOT_READY = ProblemType("not-ready", "Service not ready", 503)
DeskLinkDep = Annotated[DeskLink, provided(DeskLink)]
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> Liveness:
    """Answer without touching any dependency."""
    return Liveness(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: database, migrations, keys, the trading desk and payment vault reachable",
    responses={503: {"description": "A check failed (problem+json with the checks)"}},
)
def readyz(
    services: ServicesDep, desk: DeskLinkDep, watchers: WatchersDep, cards: CardVaultDep
) -> Readiness:
    """Run every readiness check; any failure answers 503 with all results."""
    checks = {
        "database": _database_check(services),
        "migrations": _migrations_check(services),
        "keys": _keys_check(services),
        "desk": _desk_check(desk),
        "watchers": _watchers_check(services, watchers),
        "payment_vault": _vault_check(services.settings, cards),
    }
    if not all(check.ok for check in checks.values()):
        raise ProblemError(
            NOT_READY,
            ReasonCode.SERVICE_UNAVAILABLE,
            "One or more readiness checks failed.",
            extensions={"checks": {name: check.model_dump() for name, check in checks.items()}},
        )
    return Readiness(status="ready", checks=checks, warnings=_rotation_warnings(services))


@router.get(
    "/metrics",
    summary="Prometheus metrics: request counts and latency by route and status",
    response_class=Response,
    responses={200: {"content": {PROMETHEUS_CONTENT_TYPE: {}}}, 401: {"description": "Token"}},
)
def metrics(
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Expose the registry to the holder of the metrics token (or to anyone, if opened).

    Without a token configured, the endpoint is closed unless ``metrics_public`` opens it
    in development: its exposition names every route and how busy it is.
    """
    _require_metrics_token(services, authorization)
    return Response(services.metrics.exposition(), media_type=PROMETHEUS_CONTENT_TYPE)


def _require_metrics_token(services: Services, authorization: str | None) -> None:
    settings = services.settings
    expected = settings.metrics_token
    if expected is None:
        if settings.metrics_public and not settings.is_production:
            return
        raise ProblemError(
            UNAUTHORIZED,
            ReasonCode.AUTH_REQUIRED,
            "Metrics need a bearer token: set TRADEGUARD_METRICS_TOKEN "
            "(or TRADEGUARD_METRICS_PUBLIC=true in development).",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    supplied = (authorization or "").removeprefix("Bearer ").encode()
    if not hmac.compare_digest(supplied, expected.get_secret_value().encode()):
        raise ProblemError(
            UNAUTHORIZED,
            ReasonCode.AUTH_REQUIRED,
            "A valid metrics bearer token is required.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


def _database_check(services: Services) -> Check:
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return Check(ok=False, detail=f"unreachable ({type(exc).__name__})")
    return Check(ok=True, detail=services.engine.dialect.name)


def _vault_check(settings: Settings, cards: CardVault) -> Check:
    """The payment vault over mutual TLS; a vault switched off is reported, not failed."""
    if settings.vault_mode == VaultMode.OFF:
        return Check(ok=True, detail="off (card routes answer 503)")
    ok, detail = cards.health()
    return Check(ok=ok, detail=detail)


def _desk_check(desk: DeskLink) -> Check:
    ok, detail = desk.reachable()
    return Check(ok=ok, detail=detail)


def _watchers_check(services: Services, watchers: WatchService) -> Check:
    """Every embedded watcher running and within its lag (events behind the trail)."""
    try:
        with services.sessions() as db:
            lags = watchers.lags(db)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return Check(ok=False, detail=f"unreadable ({type(exc).__name__})")
    shown = ", ".join(f"{name} lag {lag}" for name, lag in sorted(lags.items())) or "none"
    return Check(ok=not watchers.behind(lags), detail=shown)


def _migrations_check(services: Services) -> Check:
    try:
        current, head = current_revision(services.engine), head_revision()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return Check(ok=False, detail=f"unknown ({type(exc).__name__})")
    return Check(ok=current == head, detail=f"at {current}, head {head}")


def _keys_check(services: Services) -> Check:
    keyring = services.crypto.keyring
    try:
        failing = keyring.self_test()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return Check(ok=False, detail=f"keyring failed ({type(exc).__name__})")
    if failing:
        return Check(ok=False, detail=f"keysets failing self-test: {', '.join(failing)}")
    return Check(ok=True, detail=f"keysets loaded, wrapped by {services.crypto.kek.kek_id}")


def _rotation_warnings(services: Services) -> list[str]:
    try:
        with services.sessions() as session:
            statuses = services.crypto.keyring.status(session)
    except Exception as exc:  # noqa: BLE001 - a warning, never a reason to stop serving
        return [f"key rotation status unavailable ({type(exc).__name__})"]
    return [
        f"keyset {status.name}: primary key {status.primary_key_id} is "
        f"{status.primary_age_days:.0f} days old, rotation overdue"
        for status in statuses
        if status.overdue
    ]
