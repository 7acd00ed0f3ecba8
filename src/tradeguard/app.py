"""``create_app(settings)``: the one place where services, routers and middleware are wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from tradeguard import __version__
from tradeguard.config import Settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto import api as crypto_api
from tradeguard.crypto.events import LogKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.runtime import Crypto, build_crypto, load_keys
from tradeguard.db.engine import build_engine
from tradeguard.db.migrate import require_current
from tradeguard.db.session import session_factory
from tradeguard.production import check_production
from tradeguard.services import Services
from tradeguard.web import docs, health
from tradeguard.web.metrics import HttpMetrics
from tradeguard.web.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from tradeguard.web.problems import install_problem_handlers

API_DESCRIPTION = (
    "Security, risk and compliance core for stock-trading platforms. "
    "Errors are RFC 9457 problem documents with a stable `type` and a `reason_code`."
)


def create_app(
    settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None
) -> FastAPI:
    """Build the application; refuses (StartupError/ConfigurationError) if it cannot run safely."""
    services = build_services(settings, clock=clock or SystemClock(), engine=engine)
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_engine:
            services.engine.dispose()

    app = FastAPI(
        title="TradeGuard",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(crypto_api.router)
    app.include_router(docs.router)
    docs.mount_static(app)
    app.add_middleware(RequestContextMiddleware, metrics=services.metrics)
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age=settings.hsts_max_age)
    return app


def build_services(settings: Settings, *, clock: Clock, engine: Engine | None) -> Services:
    """Connect to the database and load keys, checking both before anything is served."""
    crypto = build_crypto(settings, clock, LogKeyEventRecorder())
    check_production(settings, crypto.kek)
    owned = engine is None
    engine = engine or build_engine(settings.effective_database_url)
    try:
        require_current(engine)
        return _wire(settings, clock, engine, crypto)
    except Exception:
        if owned:
            engine.dispose()
        raise


def _wire(settings: Settings, clock: Clock, engine: Engine, crypto: Crypto) -> Services:
    sessions = session_factory(engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
    with sessions() as session:
        load_keys(crypto, session)
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        crypto=crypto,
        metrics=HttpMetrics(),
    )
