"""The desk process of ``tradeguard serve``: the desk, its periodic work, and its socket.

It builds the same application as one process does (``create_app``: the desk loaded from
the database, the audit checkpoints, settlement, expiry, key warnings) but serves no
HTTP: it answers the gateway workers on the desk socket and pushes the desk's feed events
to them. Without Redis it also keeps the nonces, key revocations and rate-limit counters
the workers share. With ``watchers_apart`` (``serve`` runs a watch process) it runs no
watchers and nudges the watch process after each commit that wrote audit events instead.
SIGTERM finishes the calls in flight and stops.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from tradeguard.apikeys.replay import key_state_store
from tradeguard.app import DeskMode, create_app
from tradeguard.cli.stop_signal import stop_on_signals
from tradeguard.config import Settings
from tradeguard.core.collector import freeze_startup_heap
from tradeguard.market.feed import MarketData
from tradeguard.ratelimit.counters import MemoryCounters
from tradeguard.services import Services
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.desk_side import (
    desk_handlers,
    later_desk_handlers,
    shared_state_handlers,
)
from tradeguard.trading.channel.server import DeskServer
from tradeguard.trading.desk_port import DeskPort, RiskControlsPort, TradingControlsPort
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.watch.nudges import NudgeSender, nudge_socket
from tradeguard.watch.service import WatchService
from tradeguard.web.provide import registry_of_app


def run_desk_process(settings: Settings, *, watchers_apart: bool = False) -> None:
    """Serve the desk on its socket until SIGTERM or SIGINT."""
    server = DeskServer(settings.effective_desk_socket, desk_codec(), {})
    if watchers_apart:
        settings = settings.model_copy(update={"watch_embedded": False})
    app = create_app(settings, desk=DeskMode(relay=server.publish))
    registry = registry_of_app(app)
    if watchers_apart:
        registry.find(WatchService).waker = NudgeSender(nudge_socket(settings))
    desk = registry.find(DeskPort)  # type: ignore[type-abstract] # looked up by its protocol
    server.add(
        desk_handlers(
            desk,
            registry.find(TradingControlsPort),  # type: ignore[type-abstract]
            registry.find(RiskControlsPort),  # type: ignore[type-abstract]
            registry.find(Services).sessions,
        )
    )
    if isinstance(desk, TradingDesk):
        server.add(later_desk_handlers(desk), later=True)
    server.add({"market.quotes": registry.find(MarketData).quotes}, quick=True)
    if settings.redis_url is None:  # nonces since this start only: older requests are refused
        keys = key_state_store(None, settings.redis_key_prefix, registry.find(Services).clock)
        server.add(shared_state_handlers(keys, MemoryCounters()), quick=True)
        server.add({"sessions.changed": server.tell_sessions})
    freeze_startup_heap()
    asyncio.run(_serve(app, server))


async def _serve(app: FastAPI, server: DeskServer) -> None:
    stop = stop_on_signals()
    async with app.router.lifespan_context(app):
        server.start()
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(server.stop)
