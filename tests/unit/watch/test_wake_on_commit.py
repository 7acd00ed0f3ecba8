"""The embedded loop is woken by a commit of audit events, not left to its next poll."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.db.session import transaction
from tradeguard.watch.service import WatchService
from tradeguard.watch.wiring import wake_on_commit, watch_periodically
from unit.audit.audit_kit import AuditKit
from unit.watch.test_cursor_runner import BurstWatcher, alerts, place

MINUTE_MS = 60_000


def test_loop_when_audit_events_commit_then_watchers_run_before_the_next_poll(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = WatchService(kit.sessions, store, kit.clock)
    watchers.register(BurstWatcher)
    wake_on_commit(kit.sessions, watchers)
    settings = Settings(_env_file=None, watch_poll_ms=MINUTE_MS)  # type: ignore[call-arg]
    assert list(asyncio.run(alerts_after_commits(kit, watchers, settings))) == ['["acct-1"]']
    assert watchers.waker is None


async def alerts_after_commits(
    kit: AuditKit, watchers: WatchService, settings: Settings, nudges: Path | None = None
) -> dict[str, int]:
    """Run the embedded loop, commit three orders once its first poll found nothing, and
    give the alerts stored before a poll could have run (none if no nudge woke it)."""
    loop = asyncio.create_task(watch_periodically(watchers, settings, nudges))
    await asyncio.sleep(0.2)  # the first poll has run and found nothing
    await asyncio.to_thread(place, kit, ["acct-1"] * 3)
    found: dict[str, int] = {}
    for _ in range(100):  # the poll is far away: only a nudge can run a round now
        found = alerts(kit)
        if found:
            break
        await asyncio.sleep(0.05)
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop
    await asyncio.to_thread(watchers.stop)  # a round a late nudge started has ended
    return found


def test_nudge_when_a_transaction_writes_no_audit_event_then_nothing_woken(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = WatchService(kit.sessions, store, kit.clock)
    woken: list[int] = []
    watchers.waker = lambda: woken.append(1)
    wake_on_commit(kit.sessions, watchers)
    with transaction(kit.sessions) as db:
        db.info["unrelated"] = True
    assert woken == []
    place(kit, ["acct-1"])
    assert woken == [1]
