"""Builds the server's embedded watchers and the loop that runs them."""

from __future__ import annotations

import asyncio

from fastapi.concurrency import run_in_threadpool

from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.logs import get_logger
from tradeguard.services import Services
from tradeguard.watch.service import WatchPolicy, WatchService

log = get_logger("tradeguard.watch")


def build_watchers(services: Services, store: AlertStore) -> WatchService:
    """The watch service with its policy from the settings (watchers register on it)."""
    settings = services.settings
    policy = WatchPolicy(batch=settings.watch_batch_events, max_lag=settings.watch_max_lag_events)
    return WatchService(services.sessions, store, services.clock, policy)


async def watch_periodically(watchers: WatchService, settings: Settings) -> None:
    """Run the embedded watchers every ``watch_poll_ms`` (at once again while behind)."""
    if not settings.watch_embedded:
        return
    pause = settings.watch_poll_ms / 1000
    while True:
        try:
            processed = await run_in_threadpool(watchers.run_once)
        except Exception:
            log.exception("watch.poll_failed")
            processed = 0
        await asyncio.sleep(0 if processed else pause)
