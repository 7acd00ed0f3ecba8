"""``create_app(settings)``: the one place where services, routers and middleware are wired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

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
from tradeguard.aml.sar_clock import SarClock
from tradeguard.aml.wiring import (
    aml_jobs_periodically,
    build_aml_retention,
    build_ctr_reports,
    build_filing_batches,
    build_parameter_book,
    build_sar_clock,
    build_sar_reports,
    register_aml_watcher,
)
from tradeguard.apikeys.service import ApiKeyService
from tradeguard.apikeys.wiring import build_api_keys
from tradeguard.audit.config_changes import record_start
from tradeguard.audit.publication import repair_at_start, republish_missing
from tradeguard.audit.records import Actor
from tradeguard.cards.wiring import build_card_vault, card_intake_origins
from tradeguard.cases.service import Cases
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto.runtime import load_keys
from tradeguard.db.durability import check_durability
from tradeguard.db.engine import build_engine
from tradeguard.db.migrate import require_current
from tradeguard.db.session import transaction
from tradeguard.fraud.wiring import build_fraud
from tradeguard.gateway.equal_timing import EqualTimingMiddleware
from tradeguard.gateway.feed_gate import FeedGate
from tradeguard.gateway.guard import Gateway
from tradeguard.gateway.json_bodies import JsonBodyMiddleware
from tradeguard.gateway.middleware import RequestContextMiddleware, SecurityHeaders
from tradeguard.gateway.openapi import install_openapi
from tradeguard.gateway.problems import install_problem_handlers
from tradeguard.gateway.rate_limits import RateLimitMiddleware
from tradeguard.gateway.request_limits import RequestLimits, RequestLimitsMiddleware
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.identity.events import AuthEvents
from tradeguard.identity.kit import Identity, IdentityParts, build_identity, build_recipient_cap
from tradeguard.identity.notices import Outgoing, deliver_inline
from tradeguard.identity.service import IdentityService
from tradeguard.identity.session_news import (
    EVERY_SESSION,
    SESSION_NEWS_CHANNEL,
    DeskSessionNews,
    RedisSessionNews,
)
from tradeguard.kyc.sanctions_alerts import SanctionsAlerts
from tradeguard.kyc.wiring import build_kyc, screening_of_customers
from tradeguard.logs import get_logger
from tradeguard.market.feed import MarketData, remote_quotes
from tradeguard.market.stall_alert import stall_alert
from tradeguard.notify.notifier import Notifier, build_notifier
from tradeguard.payments.decision_points import DecisionPoints
from tradeguard.payments.fraud_point import FraudWithdrawalPoint
from tradeguard.payments.wiring import build_payments, settle_deposits_periodically
from tradeguard.production import check_production
from tradeguard.ratelimit.counters import Counters, build_counters
from tradeguard.ratelimit.wiring import build_rate_limits
from tradeguard.registry import Registry
from tradeguard.risk.engine import RiskEngine
from tradeguard.routes import ROUTERS
from tradeguard.routing.install import install_routing
from tradeguard.screening.service import SanctionsScreening
from tradeguard.services import Services
from tradeguard.shared_state import connect_redis, shared_key
from tradeguard.surveillance.wiring import install_surveillance
from tradeguard.trading.channel.client import DeskChannel
from tradeguard.trading.channel.remote import DeskCounters, DeskKeyState, remote_trading
from tradeguard.trading.feed.hub import EVERYONE, FeedHub
from tradeguard.trading.orders.account_lookup import BrokerageAccountLookup
from tradeguard.trading.orders.desk import Publish
from tradeguard.trading.wiring import TradingPorts, local_trading
from tradeguard.watch.wiring import build_watchers, watch_periodically
from tradeguard.web import docs
from tradeguard.web.metrics import HttpMetrics
from tradeguard.web.provide import install_registry
from tradeguard.wiring import Core, build_core

MAX_CHECKPOINT_POLL_SECONDS = 10
KEY_EXPIRY_POLL_SECONDS = 3600
TRADING_HOUSEKEEPING_SECONDS = 15
MARKET_FEED_CHECK_SECONDS = 1
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
    desk: DeskMode | None = None,
) -> FastAPI:
    """Build the application; refuses (StartupError/ConfigurationError) if it cannot run safely.

    A ``notifier`` given here (tests) delivers in the committing thread; the configured one
    delivers from a background thread, off the request path. ``desk`` says where the
    trading desk is: by default in this process; a gateway worker's desk is in the desk
    process, reached over ``desk.channel``.
    """
    services = build_services(settings, clock=clock or SystemClock(), engine=engine)
    delivery = None if notifier is not None else ThreadPoolExecutor(2, "notify")
    shared = connect_redis(settings)
    mode = desk or DeskMode()
    registry, trading = _registry(
        services,
        notifier or build_notifier(settings, services.clock),
        delivery,
        Sharing(shared, mode),
    )
    app = FastAPI(
        title="TradeGuard",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(
            registry,
            Duties(
                trading.housekeeping,
                trading.close,
                mode.channel,
                delivery,
                shared,
                _hear_session_news(registry, Sharing(shared, mode)),
            ),
            owns_engine=engine is None,
        ),
    )
    install_registry(app, registry)
    register_aml_watcher(registry.watchers, registry.aml_parameters)
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    docs.mount_static(app)
    install_openapi(app)
    _add_gateway_middleware(app, registry)
    return app


@dataclass(frozen=True, slots=True)
class DeskMode:
    """Where the desk is: here (``channel`` None), or in the desk process over ``channel``.

    ``relay`` (the desk process) also receives every feed event the desk publishes.
    """

    channel: DeskChannel | None = None
    relay: Publish | None = None


@dataclass(frozen=True, slots=True)
class Sharing:
    """Where the state every worker must share lives: Redis, the desk process, or here."""

    redis: redis.Redis | None
    desk: DeskMode

    @property
    def via_desk(self) -> DeskChannel | None:
        """The desk channel, when it keeps the shared state (workers without Redis)."""
        return self.desk.channel if self.redis is None else None

    def counters(self, settings: Settings) -> Counters:
        """Counters in Redis, in the desk process, or in this process."""
        channel = self.via_desk
        return build_counters(settings, self.redis) if channel is None else DeskCounters(channel)


def _hear_session_news(registry: Registry, sharing: Sharing) -> RedisSessionNews | None:
    """Link the session-state cache to every other process (``session_news``).

    Through Redis when configured (the subscription, returned, is started by the
    lifespan); for a gateway worker without Redis, through the desk process; a single
    process without Redis has no link and keeps states for a second.
    """
    cache = registry.identity.sessions.cache
    settings = registry.services.settings
    if sharing.redis is not None:
        news = RedisSessionNews(
            sharing.redis, shared_key(settings, SESSION_NEWS_CHANNEL), cache.forget
        )
        cache.news = news
        return news
    channel = sharing.desk.channel
    if channel is not None:
        channel.on_session_news = cache.forget
        channel.on_connect = partial(cache.forget, EVERY_SESSION)
        cache.forget(EVERY_SESSION)
        cache.news = DeskSessionNews(
            partial(channel.call, "sessions.changed"), lambda: channel.connected
        )
    return None


def _registry(
    services: Services,
    notifier: Notifier,
    delivery: ThreadPoolExecutor | None,
    sharing: Sharing,
) -> tuple[Registry, TradingPorts]:
    """Every service of the application, and the trading ports (the desk's duties if here)."""
    shared, channel = sharing.redis, sharing.via_desk
    identity = _identity(services, notifier, delivery, sharing)
    checks = monitored_check_log(services, identity.notices)
    key_state = None if channel is None else DeskKeyState(channel)
    api_keys = build_api_keys(services, identity.notices, checks, shared, key_state)
    identity.credential_resets.subscribe(api_keys.service.revoke_after_reset)
    rate_limits = build_rate_limits(
        services.settings,
        shared,
        checks.append_event,
        services.clock,
        sharing.counters(services.settings),
    )
    risk_engine = RiskEngine(services.clock)
    feed = FeedHub.from_settings(services.settings)
    trading = install_routing(services, _trading(services, risk_engine, feed, sharing.desk))
    gateway = Gateway(identity, api_keys.verifier, rate_limits, checks)
    identity_service = IdentityService.over(identity)
    support_desk = SupportDesk(checks.monitor.alerts)
    alert_store = AlertStore(services.audit, services.clock)
    cases = Cases(services.audit, services.clock)
    sanctions_alerts = SanctionsAlerts(alert_store, cases)
    sanctions, screening = screening_of_customers(services, sanctions_alerts, trading.controls)
    kyc = build_kyc(services, identity.notices, trading.controls, sanctions_alerts, screening)
    watchers = build_watchers(services, alert_store)
    install_surveillance(services, watchers, alert_store, trading.controls, identity.notices)
    fraud_guard = build_fraud(services, watchers, alert_store, identity, shared)
    withdrawal_points = DecisionPoints(
        fraud=FraudWithdrawalPoint(fraud_guard),
        fraud_on=services.settings.payments_fraud_decision,
        aml_on=services.settings.payments_aml_decision,
    )
    payments = build_payments(services, identity, trading, alert_store, withdrawal_points)
    registry = Registry(
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
        trading_desk=trading.desk,
        account_reads=trading.reads,
        trading_controls=trading.controls,
        risk_controls=trading.risk,
        desk_link=trading.link,
        trading_feed=feed,
        onboarding=kyc.onboarding,
        kyc_documents=kyc.documents,
        kyc_review=kyc.review,
        market_data=MarketData(
            trading.market,
            remote_quotes(sharing.desk.channel),
            stall_alert(
                services.sessions, alert_store, services.clock, services.settings.market_data
            ),
        ),
        gateway=gateway,
        route_gate=gateway,
        feed_gate=FeedGate.of(gateway),
        sanctions_screening=sanctions,
        alert_store=alert_store,
        cases=cases,
        watchers=watchers,
        sar_reports=build_sar_reports(services),
        aml_parameters=build_parameter_book(services),
        ctr_reports=build_ctr_reports(services, alert_store),
        aml_retention=build_aml_retention(services),
        aml_batches=build_filing_batches(services),
        card_vault=build_card_vault(
            services,
            DevCertificatePaths.under(services.settings.tls_dir).ca_cert,
            payments.deposits,
        ),
        payments=payments,
        fraud_guard=fraud_guard,
    )
    return registry, trading


def _trading(services: Services, engine: RiskEngine, feed: FeedHub, desk: DeskMode) -> TradingPorts:
    """The desk here (its events to the feed and the relay), or a desk process's clients."""
    if desk.channel is None:
        relay = desk.relay
        if relay is None:
            return local_trading(
                services, engine, feed.publish, feed.broadcast, feed.has_subscribers
            )
        publish = _both(feed.publish, relay)
        return local_trading(services, engine, publish, partial(relay, EVERYONE))
    desk.channel.on_push = feed.deliver
    desk.channel.start()
    return remote_trading(desk.channel)


def _both(first: Publish, second: Publish) -> Publish:
    def publish(user_id: str, event: Mapping[str, Any]) -> None:
        first(user_id, event)
        second(user_id, event)

    return publish


@dataclass(frozen=True, slots=True)
class Duties:
    """What the lifespan starts and closes besides the registry's services."""

    housekeeping: Callable[[], None] | None
    """The desk's periodic work; set only where the desk runs (it also owns the timers)."""
    close_desk: Callable[[], None] | None
    """Let go of the desk's connection; set only where the desk runs."""
    channel: DeskChannel | None
    delivery: ThreadPoolExecutor | None
    shared: redis.Redis | None
    session_news: RedisSessionNews | None
    """The Redis subscription to session-state changes, heard from start-up to shutdown."""


def _lifespan(
    registry: Registry, duties: Duties, *, owns_engine: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown: the start record, the periodic tasks, then an orderly close."""
    services, checks, market = registry.services, registry.access_checks, registry.market_data

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if duties.housekeeping is not None:
            await run_in_threadpool(_record_start, services)
        tasks = _background_tasks(registry, duties.housekeeping)
        checks.start()
        market.start()
        if duties.session_news is not None:
            duties.session_news.start()
        yield
        registry.trading_feed.close()
        for task in tasks:
            task.cancel()
        await run_in_threadpool(market.stop)
        await run_in_threadpool(registry.watchers.stop)
        await run_in_threadpool(checks.stop)
        await run_in_threadpool(registry.card_vault.close)
        await run_in_threadpool(_close, duties)
        if owns_engine:
            services.engine.dispose()

    return lifespan


def _close(duties: Duties) -> None:
    if duties.session_news is not None:
        duties.session_news.stop()
    if duties.close_desk is not None:
        duties.close_desk()
    if duties.channel is not None:
        duties.channel.close()
    if duties.delivery is not None:
        duties.delivery.shutdown(wait=True)
    if duties.shared is not None:
        duties.shared.close()


def _background_tasks(
    registry: Registry, housekeeping: Callable[[], None] | None
) -> tuple[asyncio.Task[None], ...]:
    """The periodic work of the process that holds the desk (none in a gateway worker)."""
    if housekeeping is None:
        return ()
    services = registry.services
    return (
        asyncio.create_task(_checkpoint_periodically(services)),
        asyncio.create_task(_warn_expiring_keys_periodically(services, registry.api_keys)),
        asyncio.create_task(_trading_housekeeping_periodically(housekeeping)),
        asyncio.create_task(_reload_lists_periodically(services, registry.sanctions_screening)),
        asyncio.create_task(watch_periodically(registry.watchers, services.settings)),
        asyncio.create_task(_watch_market_feed(registry.market_data)),
        asyncio.create_task(settle_deposits_periodically(registry.payments)),
        asyncio.create_task(aml_jobs_periodically(services, _sar_clock(registry))),
    )


def _sar_clock(registry: Registry) -> SarClock:
    return build_sar_clock(registry.services, registry.alert_store, registry.identity.notices)


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
    app.add_middleware(
        RequestContextMiddleware,
        metrics=registry.services.metrics,
        headers=SecurityHeaders(settings.hsts_max_age, card_intake_origins(settings)),
    )


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


async def _trading_housekeeping_periodically(housekeeping: Callable[[], None]) -> None:
    """New reference data, settlement and the expiry of DAY orders at the close."""
    while True:
        await asyncio.sleep(TRADING_HOUSEKEEPING_SECONDS)
        try:
            await run_in_threadpool(housekeeping)
        except Exception:
            log.exception("trading.housekeeping_failed")


async def _reload_lists_periodically(services: Services, screening: SanctionsScreening) -> None:
    """Load the sanctions lists found in ``screening_list_dir`` whenever their files change."""
    directory = services.settings.screening_list_dir
    if directory is None:
        return
    while True:
        try:
            await run_in_threadpool(screening.reload_changed, directory, Actor.system("screening"))
        except Exception:
            log.exception("screening.reload_failed")
        await asyncio.sleep(services.settings.screening_reload_hours * 3600)


async def _watch_market_feed(market: MarketData) -> None:
    """Raise the operations alert while the market feed is stalled."""
    while True:
        await asyncio.sleep(MARKET_FEED_CHECK_SECONDS)
        await run_in_threadpool(market.check)  # a stall writes its alert


def _warn_expiring_keys(services: Services, api_keys: ApiKeyService) -> None:
    with transaction(services.sessions) as session:
        api_keys.warn_expiring(session)


def _record_start(services: Services) -> None:
    with transaction(services.sessions) as session:
        record_start(session, services.audit, services.settings)


def _checkpoint_if_due(services: Services) -> None:
    if services.audit.publication_failed:
        services.audit.publication_failed = False
        republish_missing(services.sessions, services.audit)
    with transaction(services.sessions) as session:
        services.audit.checkpoint_if_due(session)


def _identity(
    services: Services,
    notifier: Notifier,
    delivery: ThreadPoolExecutor | None,
    sharing: Sharing,
) -> Identity:
    counters = sharing.counters(services.settings)
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
        check_durability(engine, production=settings.is_production)
        return _wire(settings, clock, engine, core)
    except Exception:
        if owned:
            engine.dispose()
        raise


def _wire(settings: Settings, clock: Clock, engine: Engine, core: Core) -> Services:
    with core.sessions() as session:
        load_keys(core.crypto, session)
    repair_at_start(core.sessions, core.audit)
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=core.sessions,
        crypto=core.crypto,
        audit=core.audit,
        metrics=HttpMetrics(),
    )
