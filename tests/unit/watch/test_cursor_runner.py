"""The embedded runner: cursor in the database, at least once, nothing missed or doubled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.db.session import transaction
from tradeguard.watch.cursor import standing
from tradeguard.watch.partitions import Partition
from tradeguard.watch.runner import CursorRunner
from unit.audit.audit_kit import TRADER, AuditKit

THRESHOLD = 3


class BurstWatcher:
    """Alerts when one account places THRESHOLD orders or more (one alert per account)."""

    name = "burst"
    event_types = frozenset({"order.placed"})
    warmup_ns = 10**15

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        account = str(event.data["account"])
        self.counts[account] += 1
        if self.counts[account] < THRESHOLD:
            return []
        subject = Subject(accounts=(account,), symbol=str(event.data["symbol"]))
        evidence = {"orders": self.counts[account]}
        return [AlertDraft("burst", 0.5, subject, 0, event.ts_ns, "burst.count", account, evidence)]


def place(kit: AuditKit, accounts: Sequence[str], symbol: str = "ACME") -> None:
    for account in accounts:
        with transaction(kit.sessions) as db:
            kit.trail.record(
                db, "order.placed", TRADER, "o", {"account": account, "symbol": symbol}
            )
            kit.trail.record(db, "auth.login.succeeded", TRADER, "u", {})
        kit.clock.advance(nanoseconds=1_000)


def alerts(kit: AuditKit) -> dict[str, int]:
    with kit.sessions() as db:
        rows = db.scalars(select(AlertRow)).all()
        raised = db.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.event_type.like("alert.%"))
        )
    found = {row.accounts: int(row.evidence.split(":")[1].rstrip("}")) for row in rows}
    assert raised == sum(found.values()) - (THRESHOLD - 1) * len(found)  # one event per change
    return found


def runner(kit: AuditKit, store: AlertStore, **options: object) -> CursorRunner:
    return CursorRunner(kit.sessions, store, BurstWatcher, kit.clock, **options)  # type: ignore[arg-type]


def test_runner_when_caught_up_then_cursor_at_head_and_alerts_stored(
    kit: AuditKit, store: AlertStore
) -> None:
    place(kit, ["a", "b", "a", "a", "b"])
    processed = runner(kit, store, batch=3).run_until_caught_up()
    assert processed == 5
    assert alerts(kit) == {'["a"]': 3}
    with kit.sessions() as db:
        now = standing(db, ["burst"])
    assert now.position("burst") == now.head == 11  # its own alert.raised too


def test_runner_when_batch_fails_midway_then_resume_misses_and_doubles_nothing(
    kit: AuditKit, store: AlertStore
) -> None:
    place(kit, ["a", "a", "a", "b", "b", "a", "b", "a"])
    failures = iter([True])

    def crash_once(_db: object, _row: AlertRow, event: str) -> None:
        if event == "alert.updated" and next(failures, False):
            raise ConnectionError("database went away")

    store.listen(crash_once)
    first = runner(kit, store, batch=4)
    with pytest.raises(ConnectionError):
        first.run_until_caught_up()
    restarted = runner(kit, store, batch=4)  # a new process: fresh memory, same cursor
    restarted.run_until_caught_up()
    assert alerts(kit) == {'["a"]': 5, '["b"]': 3}


def test_runner_when_restarted_after_commit_then_state_rebuilt_from_history(
    kit: AuditKit, store: AlertStore
) -> None:
    place(kit, ["c", "c"])
    runner(kit, store).run_until_caught_up()
    assert alerts(kit) == {}
    place(kit, ["c"])
    runner(kit, store).run_until_caught_up()  # remembers the two earlier orders
    assert alerts(kit) == {'["c"]': 3}


def test_runner_when_partitioned_then_partitions_together_see_every_event_once(
    kit: AuditKit, store: AlertStore
) -> None:
    for symbol in ("AAA", "BBB", "CCC", "DDD"):
        place(kit, [f"x-{symbol}"] * 3, symbol)
    processed = [
        runner(kit, store, partition=Partition(index, 3)).run_until_caught_up()
        for index in range(3)
    ]
    assert sum(processed) == 12
    assert len(alerts(kit)) == 4
    with kit.sessions() as db:
        now = standing(db, [f"burst@{n}/3" for n in (1, 2, 3)])
    assert all(now.position(f"burst@{n}/3") >= 24 for n in (1, 2, 3))


def test_partition_parse_when_out_of_range_then_refused() -> None:
    assert Partition.parse("2/4") == Partition(1, 4)
    for text in ("0/4", "5/4", "x", "1/0"):
        with pytest.raises(ValueError, match="partition"):
            Partition.parse(text)
