"""``create_app(settings)``: the one place where services, routers and middleware are wired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from tradeguard import __version__
from tradeguard.access.alerts import monitored_check_log
from tradeguard.apikeys.wiring import ApiKeys, build_api_keys
from tradeguard.audit.config_changes import record_start
from tradeguard.config import Settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto.runtime import load_keys
from tradeguard.db.engine import build_engine
from tradeguard.db.migrate import require_current
from tradeguard.db.session import transaction
from tradeguard.identity.events import AuthEvents
from tradeguard.identity.kit import Identity, IdentityParts, build_identity
from tradeguard.identity.notices import Outgoing, deliver_inline
from tradeguard.identity.service import IdentityService
from tradeguard.identity.timing import EqualTimingMiddleware
from tradeguard.logs import get_logger
from tradeguard.notify.notifier import Notifier, build_notifier
from tradeguard.production import check_production
from tradeguard.ratelimit.middleware import RateLimitMiddleware
from tradeguard.ratelimit.wiring import build_rate_limits
from tradeguard.routes import ROUTERS
from tradeguard.services import Services
from tradeguard.shared_state import connect_redis
from tradeguard.trading.desk import TradingDesk
from tradeguard.trading.feed import FeedHub
from tradeguard.trading.wiring import build_trading_desk
from tradeguard.web import docs
from tradeguard.web.metrics import HttpMetrics
from tradeguard.web.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from tradeguard.web.openapi import install_openapi_security
from tradeguard.web.problems import install_problem_handlers
from tradeguard.web.request_limits import RequestLimits, RequestLimitsMiddleware
from tradeguard.wiring import Core, build_core

MAX_CHECKPOINT_POLL_SECONDS = 10
KEY_EXPIRY_POLL_SECONDS = 3600
TRADING_HOUSEKEEPING_SECONDS = 15
log = get_logger("tradeguard.app")
API_DESCRIPTION = (
    "Security, risk and compliance core for stock-trading platforms. "
    "Errors are RFC 9457 problem documents with a stable `type` and a `reason_code`."
)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    notifier: Notifier | None = None,
) -> FastAPI:
    """Build the application; refuses (StartupError/ConfigurationError) if it cannot run safely.

    A ``notifier`` given here (tests) delivers in the committing thread; the configured one
    delivers from a background thread, off the request path.
    """
    services = build_services(settings, clock=clock or SystemClock(), engine=engine)
    owns_engine = engine is None
    delivery = None if notifier is not None else ThreadPoolExecutor(2, "notify")
    identity = _identity(services, notifier or build_notifier(settings, services.clock), delivery)
    checks = monitored_check_log(services, identity.notices)
    shared = connect_redis(settings)
    api_keys = build_api_keys(services, identity.notices, checks, shared)
    desk = build_trading_desk(services)
    feed = FeedHub.from_settings(settings)
    desk.set_publisher(feed.publish)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_record_start, services)
        checkpoints = asyncio.create_task(_checkpoint_periodically(services))
        warnings = asyncio.create_task(_warn_expiring_keys_periodically(services, api_keys))
        trading = asyncio.create_task(_trading_housekeeping_periodically(desk))
        checks.start()
        yield
        feed.close()
        checkpoints.cancel()
        warnings.cancel()
        trading.cancel()
        await run_in_threadpool(checks.stop)
        if delivery is not None:
            delivery.shutdown(wait=True)
        if owns_engine:
            services.engine.dispose()
        if shared is not None:
            shared.close()

    app = FastAPI(
        title="TradeGuard",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.identity = identity
    app.state.identity_service = IdentityService.over(identity)
    app.state.access_checks = checks
    app.state.access_alerts = checks.monitor.alerts
    app.state.rate_limits = build_rate_limits(settings, shared, checks.append_event, services.clock)
    app.state.api_keys = api_keys.service
    app.state.api_key_verifier = api_keys.verifier
    app.state.trading_desk = desk
    app.state.trading_feed = feed
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    docs.mount_static(app)
    install_openapi_security(app)
    app.add_middleware(EqualTimingMiddleware, floor=settings.equal_time_floor_ms / 1000)
    app.add_middleware(RateLimitMiddleware, limits=app.state.rate_limits)
    app.add_middleware(RequestLimitsMiddleware, limits=RequestLimits.from_settings(settings))
    app.add_middleware(RequestContextMiddleware, metrics=services.metrics)
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age=settings.hsts_max_age)
    return app


async def _checkpoint_periodically(services: Services) -> None:
    """Sign a checkpoint whenever ``audit_checkpoint_seconds`` pass with new events."""
    interval = min(services.settings.audit_checkpoint_seconds, MAX_CHECKPOINT_POLL_SECONDS)
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(_checkpoint_if_due, services)
        except Exception:
            log.exception("audit.checkpoint_failed")


async def _warn_expiring_keys_periodically(services: Services, api_keys: ApiKeys) -> None:
    """Email the owners of API keys that expire soon (each key once)."""
    while True:
        try:
            await run_in_threadpool(_warn_expiring_keys, services, api_keys)
        except Exception:
            log.exception("apikeys.expiry_warning_failed")
        await asyncio.sleep(KEY_EXPIRY_POLL_SECONDS)


async def _trading_housekeeping_periodically(desk: TradingDesk) -> None:
    """New reference data, settlement and the expiry of DAY orders at the close."""
    while True:
        await asyncio.sleep(TRADING_HOUSEKEEPING_SECONDS)
        try:
            await run_in_threadpool(desk.housekeeping)
        except Exception:
            log.exception("trading.housekeeping_failed")


def _warn_expiring_keys(services: Services, api_keys: ApiKeys) -> None:
    with transaction(services.sessions) as session:
        api_keys.service.warn_expiring(session)


def _record_start(services: Services) -> None:
    with transaction(services.sessions) as session:
        record_start(session, services.audit, services.settings)


def _checkpoint_if_due(services: Services) -> None:
    with transaction(services.sessions) as session:
        services.audit.checkpoint_if_due(session)


def _identity(
    services: Services, notifier: Notifier, delivery: ThreadPoolExecutor | None
) -> Identity:
    outgoing = Outgoing(notifier, delivery.submit if delivery is not None else deliver_inline)
    outgoing.install(services.sessions)
    parts = IdentityParts(
        settings=services.settings,
        clock=services.clock,
        sessions_factory=services.sessions,
        crypto=services.crypto,
        events=AuthEvents(services.audit),
        outgoing=outgoing,
    )
    return build_identity(parts)


def build_services(settings: Settings, *, clock: Clock, engine: Engine | None) -> Services:
    """Connect to the database and load keys, checking both before anything is served."""
    owned = engine is None
    engine = engine or build_engine(settings.effective_database_url)
    try:
        core = build_core(settings, clock, engine)  # reads the KEK; touches no database yet
        check_production(settings, core.crypto.kek)
        require_current(engine)
        return _wire(settings, clock, engine, core)
    except Exception:
        if owned:
            engine.dispose()
        raise


def _wire(settings: Settings, clock: Clock, engine: Engine, core: Core) -> Services:
    with core.sessions() as session:
        load_keys(core.crypto, session)
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=core.sessions,
        crypto=core.crypto,
        audit=core.audit,
        metrics=HttpMetrics(),
    )
