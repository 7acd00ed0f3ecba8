"""Builds the server's embedded watchers and the loop that runs them."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import records_events
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.logs import get_logger
from tradeguard.services import Services
from tradeguard.watch.nudges import NudgeListener
from tradeguard.watch.service import Round, WatchPolicy, WatchService

log = get_logger("tradeguard.watch")
WROTE_EVENTS = "watch.wrote_events"


def build_watchers(services: Services, store: AlertStore) -> WatchService:
    """The watch service with its policy from the settings (watchers register on it)."""
    settings = services.settings
    policy = WatchPolicy(batch=settings.watch_batch_events, max_lag=settings.watch_max_lag_events)
    watchers = WatchService(services.sessions, store, services.clock, policy)
    wake_on_commit(services.sessions, watchers)
    return watchers


def wake_on_commit(sessions: sessionmaker[Session], watchers: WatchService) -> None:
    """Nudge the watchers when a transaction of ``sessions`` that wrote audit events commits.

    Events committed by another process are found at the next poll, as before.
    """

    def mark(session: Session) -> None:
        if records_events(session):
            session.info[WROTE_EVENTS] = True

    def wake(session: Session) -> None:
        if session.info.pop(WROTE_EVENTS, False):
            watchers.nudge()

    def forget(session: Session, _previous: object) -> None:
        session.info.pop(WROTE_EVENTS, None)

    event.listen(sessions, "before_commit", mark)
    event.listen(sessions, "after_commit", wake)
    event.listen(sessions, "after_soft_rollback", forget)


async def watch_periodically(
    watchers: WatchService, settings: Settings, nudges: Path | None = None
) -> None:
    """Run the embedded watchers every ``watch_poll_ms``, and sooner when more is waiting.

    At once again when a round stopped at a batch limit, and when this process commits
    audit events (``WatchService.nudge``) or, with ``nudges``, the desk process says it
    did (``watch.nudges``): a trade's alert does not wait for the next poll. A nudged
    round starts ``watch_min_gap_ms`` after the previous one ended at the earliest, so
    under load the nudges of many commits make one round of many events.
    """
    if not settings.watch_embedded:
        return
    pause, gap = settings.watch_poll_ms / 1000, settings.watch_min_gap_ms / 1000
    loop, woken = asyncio.get_running_loop(), asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(woken.set)

    listener = None if nudges is None else NudgeListener(nudges, wake, loop)
    watchers.waker = wake
    try:
        while True:
            woken.clear()
            if (await _round(watchers)).more:
                continue
            ended = loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), pause)
            await asyncio.sleep(max(ended + gap - loop.time(), 0.0))
    finally:
        watchers.waker = None
        if listener is not None:
            listener.close()


async def _round(watchers: WatchService) -> Round:
    """One round of the watchers, in a worker thread (a failure is logged)."""
    try:
        return await run_in_threadpool(watchers.run_once)
    except Exception:
        log.exception("watch.poll_failed")
        return Round(0, more=False)
