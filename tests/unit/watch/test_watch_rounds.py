"""A round of the embedded watchers: one read of where things stand, nudges coalesced."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator, Sequence

import pytest
from sqlalchemy import Engine, select

from support import listening
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.watch.cursor import Standing, standing
from tradeguard.watch.service import Round, WatchPolicy, WatchService
from tradeguard.watch.wiring import wake_on_commit, watch_periodically
from unit.audit.audit_kit import AuditKit
from unit.watch.test_cursor_runner import BurstWatcher, alerts, place

MINUTE_MS = 60_000
GAP_MS = 1000


class QuietWatcher:
    """A second watcher, of the sign-ins ``place`` records too: it never alerts."""

    name = "quiet"
    event_types = frozenset({"auth.login.succeeded"})
    warmup_ns = 0

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        del event
        return []


@contextlib.contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    with listening(engine, "before_cursor_execute", count):
        yield seen


class CountedService(WatchService):
    """The watch service, keeping what each of its rounds did."""

    def __init__(self, kit: AuditKit, store: AlertStore, batch: int) -> None:
        super().__init__(kit.sessions, store, kit.clock, WatchPolicy(batch=batch))
        self.rounds: list[Round] = []

    def run_once(self) -> Round:
        done = super().run_once()
        self.rounds.append(done)
        return done


def service(kit: AuditKit, store: AlertStore, batch: int = 1000) -> CountedService:
    watchers = CountedService(kit, store, batch)
    watchers.register(BurstWatcher)
    watchers.register(QuietWatcher)
    return watchers


def test_round_when_nothing_follows_any_cursor_then_two_reads_and_no_write(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store)
    place(kit, ["a", "a", "a"])
    assert watchers.run_once() == Round(events=6, more=False)  # 3 orders, 3 sign-ins
    while watchers.run_once().events:  # the alert events its own batches wrote
        pass
    with statements(kit.engine) as seen:
        assert watchers.run_once() == Round(events=0, more=False)
    assert len(seen) == 2, seen  # the head, every cursor
    assert not any(sql.lstrip().upper().startswith(("UPDATE", "INSERT")) for sql in seen)


def test_round_when_a_batch_stops_at_its_limit_then_more_and_the_rest_next_round(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store, batch=4)
    place(kit, ["a", "b", "a"])  # 6 events: an order and a sign-in each
    assert watchers.run_once() == Round(events=4, more=True)
    assert watchers.run_once().events == 2
    with kit.sessions() as db:
        now = standing(db, ["burst", "quiet"])
    assert now.position("burst") == now.position("quiet") >= 6


def run_loop(watchers: CountedService, settings: Settings, work: Awaitable[None]) -> list[Round]:
    """Run the embedded loop around ``work``; the rounds it ran."""

    async def scenario() -> None:
        loop = asyncio.create_task(watch_periodically(watchers, settings))
        await work
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop

    asyncio.run(scenario())
    return watchers.rounds


def test_loop_when_commits_follow_each_other_then_one_round_after_the_gap_takes_them_all(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store)
    wake_on_commit(kit.sessions, watchers)
    settings = Settings(_env_file=None, watch_poll_ms=MINUTE_MS, watch_min_gap_ms=GAP_MS)  # type: ignore[call-arg]

    async def work() -> None:
        await asyncio.sleep(0.2)  # the first round has run and found nothing
        await asyncio.to_thread(place, kit, ["acct-1"] * 6)  # six commits, six nudges
        for _ in range(100):  # the poll is a minute away: only the nudges can run rounds
            if len(watchers.rounds) > 1 and not watchers.rounds[-1].events:
                break  # a round found nothing more
            await asyncio.sleep(0.05)

    rounds = run_loop(watchers, settings, work())
    assert alerts(kit) == {'["acct-1"]': 6}
    working = [done for done in rounds if done.events]
    assert len(working) <= 2, rounds  # not one round per commit
    assert sum(done.events for done in working) == 12  # six orders, six sign-ins


def test_loop_when_a_round_stops_at_the_batch_limit_then_the_next_runs_without_the_gap(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store, batch=2)
    place(kit, ["a", "b", "c", "d"])  # 8 events: 4 rounds of 2
    settings = Settings(_env_file=None, watch_poll_ms=MINUTE_MS, watch_min_gap_ms=GAP_MS)  # type: ignore[call-arg]
    rounds = run_loop(watchers, settings, asyncio.sleep(GAP_MS / 1000 * 0.8))
    assert [done.events for done in rounds[:4]] == [2, 2, 2, 2]
    assert [done.more for done in rounds[:4]] == [True, True, True, False]


@pytest.mark.parametrize("lag", [0, 5])
def test_standing_lag_when_a_cursor_is_past_the_head_read_then_zero(lag: int) -> None:
    assert Standing(10, {"w": 10 - lag, "ahead": 12}).lag("w") == lag
    assert Standing(10, {"ahead": 12}).lag("ahead") == 0


def reads_of_events(seen: list[str]) -> int:
    return sum(1 for sql in seen if "FROM audit_events" in sql and "record" in sql)


@contextlib.contextmanager
def commits(engine: Engine) -> Iterator[list[object]]:
    """The commits ``engine``'s connections make inside the block."""
    seen: list[object] = []

    def count(connection: object) -> None:
        seen.append(connection)

    with listening(engine, "commit", count):
        yield seen


def test_round_when_both_watchers_have_events_then_one_read_one_commit_and_each_its_own(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store)
    quiet = QuietTracker.install(watchers)
    place(kit, ["a", "a", "a", "b"])
    with statements(kit.engine) as seen, commits(kit.engine) as committed:
        assert watchers.run_once() == Round(events=8, more=False)  # 4 orders, 4 sign-ins
    assert reads_of_events(seen) == 1, seen
    assert len(committed) == 1
    assert quiet.types == {"auth.login.succeeded"}  # never the orders the other one reads
    assert quiet.count == 4
    assert alerts(kit) == {'["a"]': 3}
    with kit.sessions() as db:
        now = standing(db, ["burst", "quiet"])
    assert now.position("burst") == now.position("quiet") >= 8


class QuietTracker(QuietWatcher):
    """The quiet watcher, keeping the types of the events it was given."""

    seen: list[str]

    def __init__(self) -> None:
        self.seen = []

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        self.seen.append(event.event_type)
        return []

    @property
    def types(self) -> set[str]:
        return set(self.seen)

    @property
    def count(self) -> int:
        return len(self.seen)

    @classmethod
    def install(cls, watchers: WatchService) -> QuietTracker:
        tracker = cls()
        [quiet] = [runner for runner in watchers.runners if runner.name == "quiet"]
        quiet.factory = lambda: tracker
        return tracker


class BrokenWatcher(QuietWatcher):
    """A watcher that fails on every sign-in."""

    name = "broken"

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        raise RuntimeError(f"cannot read {event.seq}")


def typologies(kit: AuditKit) -> list[str]:
    """The typology of every alert raised, sorted."""
    with kit.sessions() as db:
        return sorted(db.scalars(select(AlertRow.typology)))


def test_round_when_one_watcher_fails_then_the_others_still_advance_and_it_is_reported(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store)
    watchers.register(BrokenWatcher)
    place(kit, ["a", "a", "a"])
    watchers.run_once()
    with kit.sessions() as db:
        now = standing(db, ["burst", "quiet", "broken"])
    assert now.position("burst") == now.position("quiet") >= 6
    assert now.position("broken") == 0
    assert watchers.failing == {"broken"}
    assert typologies(kit) == ["burst", "watch.failed"]  # once each, though burst ran twice


def test_round_when_a_watcher_already_fails_then_it_runs_alone_and_the_others_together(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store)
    watchers.register(BrokenWatcher)
    watchers.failing.add("broken")
    place(kit, ["a"])
    with statements(kit.engine) as seen:
        watchers.run_once()
    assert reads_of_events(seen) == 2, seen  # burst and quiet at once, then broken alone
    assert watchers.failing == {"broken"}


def test_round_when_cursors_stand_more_than_a_batch_apart_then_each_runs_alone(
    kit: AuditKit, store: AlertStore
) -> None:
    watchers = service(kit, store, batch=4)
    place(kit, ["a", "b", "c", "d", "e", "f"])  # 12 events
    [quiet] = [runner for runner in watchers.runners if runner.name == "quiet"]
    while quiet.run_once().lag:  # the quiet watcher alone passes them all: 12 ahead of burst
        pass
    place(kit, ["g"])  # both have events to read now
    with statements(kit.engine) as seen:
        watchers.run_once()
    assert reads_of_events(seen) == 2, seen  # not one read from 0 to the head for both
    with kit.sessions() as db:
        now = standing(db, ["burst", "quiet"])
    assert now.position("burst") == 4
    assert now.position("quiet") == now.head
