"""The desk's memory always matches the database: after a restart and after a failed write."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import reason_of
from trading_flows import add_instrument, desk_of, funded_trader, place

from support import TestDatabase, listening, registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.model import AccountKind
from tradeguard.trading.orders import batch_rows


def risk_snapshot(app: FastAPI) -> dict[str, Any]:
    """What the checks rely on, per account, in comparable form."""
    desk = desk_of(app)
    with desk.lock:
        return {account_id: _account(account) for account_id, account in desk.risk.accounts.items()}


def _account(account: AccountRisk) -> dict[str, Any]:
    return {
        "settled": account.settled_cash_cents,
        "unsettled": account.unsettled_cash_cents,
        "reserved": account.reserved_cents,
        "equity": account.equity_cents,
        "open_notional": account.open_notional_cents,
        "positions": {s: (p.quantity, p.cost_cents) for s, p in account.positions.items()},
        "open_orders": sorted(
            (o.order_id, o.remaining, o.price, o.reserved_cents)
            for o in account.open_orders.values()
        ),
        "executed_today": account.executed_today_cents,
        "day_trades": list(account.day_trade_days),
    }


def book_snapshot(app: FastAPI, symbol: str) -> list[tuple[str, int, int]]:
    desk = desk_of(app)
    with desk.lock:
        return [
            (
                state.order_id,
                state.remaining_quantity,
                state.limit_price.units if state.limit_price else 0,
            )
            for state in desk.exchange.book(symbol).open_orders()
        ]


@pytest.fixture
def busy_market(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Any, Any]:
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice", kind=AccountKind.MARGIN)
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00")
    for price in ("99.00", "99.50", "100.00"):
        assert place(client, alice, quantity=10, limit_price=price).status_code == 201
    assert (
        place(client, bob, side="sell_short", quantity=15, limit_price="99.50").status_code == 201
    )
    assert (
        place(client, bob, side="sell_short", quantity=7, limit_price="101.00").status_code == 201
    )
    return alice, bob


@pytest.mark.usefixtures("busy_market")
def test_a_restart_rebuilds_exactly_the_committed_state(app: FastAPI) -> None:
    before, book_before = risk_snapshot(app), book_snapshot(app, "ACME")
    desk_of(app).start()
    assert risk_snapshot(app) == before
    assert book_snapshot(app, "ACME") == book_before


def failing_drafts(original: Any) -> Any:
    """``AuditTrail.draft`` failing for a trade: the work fails after memory changed."""

    def failing(event_type: str, *args: Any, **kwargs: Any) -> Any:
        if event_type == "trade.executed":
            raise OSError("disk full")
        return original(event_type, *args, **kwargs)

    return failing


def failing_numbering(original: Any) -> Any:
    """``AuditTrail.number_batch`` failing for a batch with a trade: the commit fails."""

    def failing(session: Any, drafts: Any) -> Any:
        if any(draft.event_type == "trade.executed" for draft in drafts):
            raise OSError("disk full")
        return original(session, drafts)

    return failing


@pytest.mark.parametrize(
    ("method", "failure"), [("draft", failing_drafts), ("number_batch", failing_numbering)]
)
def test_a_failed_write_leaves_no_trace_in_memory(  # noqa: PLR0913, PLR0917 - fixtures and the failure
    client: TestClient,
    busy_market: tuple[Any, Any],
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    failure: Any,
) -> None:
    _, bob = busy_market
    before, book_before = risk_snapshot(app), book_snapshot(app, "ACME")
    audit = registry_of(app).services.audit
    original = getattr(audit, method)
    monkeypatch.setattr(audit, method, failure(original))
    crossing = place(
        client, bob, client_order_id="retry-me", side="sell_short", quantity=5, limit_price="99.00"
    )
    assert reason_of(crossing) == (503, "TRADING_UNAVAILABLE")
    assert crossing.headers["Retry-After"] == "1"
    assert risk_snapshot(app) == before
    assert book_snapshot(app, "ACME") == book_before
    monkeypatch.setattr(audit, method, original)
    retried = place(
        client, bob, client_order_id="retry-me", side="sell_short", quantity=5, limit_price="99.00"
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["filled_quantity"] == 5


REFUSE_EXECUTIONS = {
    "sqlite": [
        (
            "CREATE TRIGGER refuse_executions BEFORE INSERT ON executions "
            "BEGIN SELECT RAISE(ABORT, 'executions refused'); END"
        )
    ],
    "postgresql": [
        (
            "CREATE FUNCTION refuse_executions() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'executions refused'; END $$"
        ),
        (
            "CREATE TRIGGER refuse_executions BEFORE INSERT ON executions "
            "FOR EACH ROW EXECUTE FUNCTION refuse_executions()"
        ),
    ],
}
ORDER_EVENTS = "event_type IN ('order.placed', 'trade.executed')"
ALLOW_EXECUTIONS = {
    "sqlite": ["DROP TRIGGER refuse_executions"],
    "postgresql": [
        "DROP TRIGGER refuse_executions ON executions",
        "DROP FUNCTION refuse_executions()",
    ],
}


def _run_all(database: TestDatabase, statements: list[str]) -> None:
    with database.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


@pytest.fixture
def executions_refused(clean_database: TestDatabase) -> Iterator[Callable[[], None]]:
    """The database refuses every new execution row until the returned function is called."""
    _run_all(clean_database, REFUSE_EXECUTIONS[clean_database.backend])
    allowed = False

    def allow() -> None:
        nonlocal allowed
        _run_all(clean_database, ALLOW_EXECUTIONS[clean_database.backend])
        allowed = True

    try:
        yield allow
    finally:
        if not allowed:
            allow()


def test_a_batch_the_database_refuses_at_commit_is_answered_503_and_leaves_no_trace(
    client: TestClient,
    busy_market: tuple[Any, Any],
    app: FastAPI,
    clean_database: TestDatabase,
    executions_refused: Callable[[], None],
) -> None:
    _, bob = busy_market
    before, book_before = risk_snapshot(app), book_snapshot(app, "ACME")
    events_before = _count(clean_database, "audit_events", ORDER_EVENTS)
    crossing = place(
        client, bob, client_order_id="refused", side="sell_short", quantity=5, limit_price="99.00"
    )
    assert reason_of(crossing) == (503, "TRADING_UNAVAILABLE")
    assert risk_snapshot(app) == before
    assert book_snapshot(app, "ACME") == book_before
    assert _count(clean_database, "orders", "client_order_id = 'refused'") == 0
    assert _count(clean_database, "audit_events", ORDER_EVENTS) == events_before
    executions_refused()
    retried = place(
        client, bob, client_order_id="refused", side="sell_short", quantity=5, limit_price="99.00"
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["filled_quantity"] == 5


def test_a_batch_sends_its_inserts_with_the_commit_in_one_pipeline_on_postgresql(
    client: TestClient,
    busy_market: tuple[Any, Any],
    clean_database: TestDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if clean_database.backend != "postgresql":
        pytest.skip("SQLite has no round trips to save")
    _, bob = busy_market
    pipelined: dict[str, list[bool]] = {}
    read_at_once: list[list[str]] = []
    reads_of = batch_rows.read_together

    def read_together(connection: Any, reads: list[tuple[str, Any]]) -> Any:
        if threading.current_thread().name == "desk-sequencer":
            read_at_once.append([sql.rsplit(" FROM ", 1)[1].split()[0] for sql, _ in reads])
        return reads_of(connection, reads)

    monkeypatch.setattr(batch_rows, "read_together", read_together)

    def note(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name != "desk-sequencer":  # the batch's statements only
            return
        words = statement.split()
        table = words[2] if words[0] == "INSERT" else words[1]
        in_pipeline = connection.connection.driver_connection.pgconn.pipeline_status != 0
        pipelined.setdefault(f"{words[0]} {table}", []).append(in_pipeline)

    with listening(clean_database.engine, "before_cursor_execute", note):
        crossing = place(client, bob, side="sell_short", quantity=5, limit_price="99.00")
    assert crossing.status_code == 201, crossing.text
    for written in ("INSERT orders", "INSERT executions", "INSERT audit_events"):
        assert pipelined[written] == [True], written
    assert pipelined["UPDATE audit_head"] == [True]
    # What the writes depend on is read before them, in one round trip: which positions
    # are stored, the accounts' stored cash, and the head with its lock.
    assert read_at_once == [["positions", "trading_accounts", "audit_head"]]
    # The trade's other writes (the resting order it filled, accounts, the cash journal)
    # join the pipeline too; only what the writes depend on is read before it.
    for written in ("UPDATE orders", "UPDATE trading_accounts", "INSERT ledger_entries"):
        assert pipelined[written] == [True], written
    reads = {kind for kind in pipelined if kind.startswith("SELECT")}
    writes = set(pipelined) - reads
    assert all(pipelined[kind] == [False] * len(pipelined[kind]) for kind in reads), pipelined
    assert all(all(pipelined[kind]) for kind in writes), pipelined


def _count(database: TestDatabase, table: str, where: str) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608 - the tests' own names
    with database.engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())
