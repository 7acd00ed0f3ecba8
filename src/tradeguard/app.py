"""``create_app(settings)``: the one place where services, routers and middleware are wired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import redis
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from tradeguard import __version__
from tradeguard.access.account_search import AccountSearch
from tradeguard.access.admin import Administration, RuntimeConfiguration
from tradeguard.access.alerts import monitored_check_log
from tradeguard.access.grants import Grants, active_grants_of
from tradeguard.access.staff_enrolment import StaffEnrolment
from tradeguard.access.staff_invites import StaffInvites
from tradeguard.access.support import SupportDesk
from tradeguard.apikeys.service import ApiKeyService
from tradeguard.apikeys.wiring import build_api_keys
from tradeguard.audit.config_changes import record_start
from tradeguard.cases.service import Cases
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto.runtime import load_keys
from tradeguard.db.engine import build_engine
from tradeguard.db.migrate import require_current
from tradeguard.db.session import transaction
from tradeguard.gateway.equal_timing import EqualTimingMiddleware
from tradeguard.gateway.feed_gate import FeedGate
from tradeguard.gateway.guard import Gateway
from tradeguard.gateway.json_bodies import JsonBodyMiddleware
from tradeguard.gateway.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from tradeguard.gateway.openapi import install_openapi
from tradeguard.gateway.problems import install_problem_handlers
from tradeguard.gateway.rate_limits import RateLimitMiddleware
from tradeguard.gateway.request_limits import RequestLimits, RequestLimitsMiddleware
from tradeguard.identity.events import AuthEvents
from tradeguard.identity.kit import Identity, IdentityParts, build_identity, build_recipient_cap
from tradeguard.identity.notices import Outgoing, deliver_inline
from tradeguard.identity.service import IdentityService
from tradeguard.logs import get_logger
from tradeguard.notify.notifier import Notifier, build_notifier
from tradeguard.production import check_production
from tradeguard.ratelimit.counters import build_counters
from tradeguard.ratelimit.wiring import build_rate_limits
from tradeguard.registry import Registry
from tradeguard.risk.engine import RiskEngine
from tradeguard.routes import ROUTERS
from tradeguard.services import Services
from tradeguard.shared_state import connect_redis
from tradeguard.surveillance.wiring import install_surveillance
from tradeguard.trading.controls.risk_controls import RiskControls
from tradeguard.trading.controls.trading_controls import TradingControls
from tradeguard.trading.feed.hub import FeedHub
from tradeguard.trading.orders.account_lookup import BrokerageAccountLookup
from tradeguard.trading.orders.account_reads import AccountReads
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.trading.wiring import build_trading_desk
from tradeguard.watch.wiring import build_watchers, watch_periodically
from tradeguard.web import docs
from tradeguard.web.metrics import HttpMetrics
from tradeguard.web.provide import install_registry
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
    delivery = None if notifier is not None else ThreadPoolExecutor(2, "notify")
    shared = connect_redis(settings)
    registry = _registry(
        services, notifier or build_notifier(settings, services.clock), delivery, shared
    )
    app = FastAPI(
        title="TradeGuard",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(registry, delivery, shared, owns_engine=engine is None),
    )
    install_registry(app, registry)
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    docs.mount_static(app)
    install_openapi(app)
    _add_gateway_middleware(app, registry)
    return app


def _registry(
    services: Services,
    notifier: Notifier,
    delivery: ThreadPoolExecutor | None,
    shared: redis.Redis | None,
) -> Registry:
    """Every service of the application, each built once from the ones it needs."""
    identity = _identity(services, notifier, delivery, shared)
    checks = monitored_check_log(services, identity.notices)
    api_keys = build_api_keys(services, identity.notices, checks, shared)
    identity.credential_resets.subscribe(api_keys.service.revoke_after_reset)
    rate_limits = build_rate_limits(services.settings, shared, checks.append_event, services.clock)
    risk_engine = RiskEngine(services.clock)
    desk = build_trading_desk(services, risk_engine)
    feed = FeedHub.from_settings(services.settings)
    desk.set_publisher(feed.publish)
    gateway = Gateway(identity, api_keys.verifier, rate_limits, checks)
    identity_service = IdentityService.over(identity)
    support_desk = SupportDesk(checks.monitor.alerts)
    alert_store = AlertStore(services.audit, services.clock)
    watchers = build_watchers(services, alert_store)
    trading_controls = TradingControls(desk)
    install_surveillance(services, watchers, alert_store, trading_controls, identity.notices)
    return Registry(
        services=services,
        identity=identity,
        identity_service=identity_service,
        access_checks=checks,
        access_alerts=checks.monitor.alerts,
        administration=Administration(identity_service, services.audit),
        runtime_configuration=RuntimeConfiguration(identity_service, services.audit),
        grants=Grants(identity, services.audit),
        support_desk=support_desk,
        account_search=AccountSearch(
            identity_service.accounts, support_desk, services.audit, BrokerageAccountLookup()
        ),
        staff_invites=StaffInvites(identity_service, services.audit),
        staff_enrolment=StaffEnrolment(identity_service, services.audit),
        rate_limits=rate_limits,
        api_keys=api_keys.service,
        api_key_verifier=api_keys.verifier,
        risk_engine=risk_engine,
        trading_desk=desk,
        account_reads=AccountReads(desk),
        trading_controls=trading_controls,
        risk_controls=RiskControls(desk),
        trading_feed=feed,
        gateway=gateway,
        route_gate=gateway,
        feed_gate=FeedGate.of(gateway),
        alert_store=alert_store,
        cases=Cases(services.audit, services.clock),
        watchers=watchers,
    )


def _lifespan(
    registry: Registry,
    delivery: ThreadPoolExecutor | None,
    shared: redis.Redis | None,
    *,
    owns_engine: bool,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown: the start record, the periodic tasks, then an orderly close."""
    services, checks = registry.services, registry.access_checks

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_record_start, services)
        tasks = (
            asyncio.create_task(_checkpoint_periodically(services)),
            asyncio.create_task(_warn_expiring_keys_periodically(services, registry.api_keys)),
            asyncio.create_task(_trading_housekeeping_periodically(registry.trading_desk)),
            asyncio.create_task(watch_periodically(registry.watchers, services.settings)),
        )
        checks.start()
        yield
        registry.trading_feed.close()
        for task in tasks:
            task.cancel()
        await run_in_threadpool(registry.watchers.stop)
        await run_in_threadpool(checks.stop)
        if delivery is not None:
            delivery.shutdown(wait=True)
        if owns_engine:
            services.engine.dispose()
        if shared is not None:
            shared.close()

    return lifespan


def _add_gateway_middleware(app: FastAPI, registry: Registry) -> None:
    """The gateway's middleware, outermost last.

    Innermost, JSON bodies that name a member twice are refused before anything reads
    them. The equal-time floor sits outside the rate limits, so that every answer of its
    paths waits for it, a 429 and the 500 of a crash included, and inside the request
    limits, whose deadline counts the floor as the request's time.
    """
    settings = registry.services.settings
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(RateLimitMiddleware, limits=registry.rate_limits)
    app.add_middleware(EqualTimingMiddleware, floor=settings.equal_time_floor_ms / 1000)
    app.add_middleware(RequestLimitsMiddleware, limits=RequestLimits.from_settings(settings))
    app.add_middleware(RequestContextMiddleware, metrics=registry.services.metrics)
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age=settings.hsts_max_age)


async def _checkpoint_periodically(services: Services) -> None:
    """Sign a checkpoint whenever ``audit_checkpoint_seconds`` pass with new events."""
    interval = min(services.settings.audit_checkpoint_seconds, MAX_CHECKPOINT_POLL_SECONDS)
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(_checkpoint_if_due, services)
        except Exception:
            log.exception("audit.checkpoint_failed")


async def _warn_expiring_keys_periodically(services: Services, api_keys: ApiKeyService) -> None:
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


def _warn_expiring_keys(services: Services, api_keys: ApiKeyService) -> None:
    with transaction(services.sessions) as session:
        api_keys.warn_expiring(session)


def _record_start(services: Services) -> None:
    with transaction(services.sessions) as session:
        record_start(session, services.audit, services.settings)


def _checkpoint_if_due(services: Services) -> None:
    with transaction(services.sessions) as session:
        services.audit.checkpoint_if_due(session)


def _identity(
    services: Services,
    notifier: Notifier,
    delivery: ThreadPoolExecutor | None,
    shared: redis.Redis | None,
) -> Identity:
    counters = build_counters(services.settings, shared)
    cap = build_recipient_cap(services.settings, services.crypto, services.audit, counters)
    outgoing = Outgoing(notifier, cap, delivery.submit if delivery is not None else deliver_inline)
    outgoing.install(services.sessions)
    parts = IdentityParts(
        settings=services.settings,
        clock=services.clock,
        sessions_factory=services.sessions,
        crypto=services.crypto,
        events=AuthEvents(services.audit),
        outgoing=outgoing,
        active_grants=active_grants_of,
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
