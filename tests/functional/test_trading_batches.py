"""Group commit in the desk: requests of one batch see each other, and none is answered early.

A request that leads a batch waits for the desk's lock, held here by the test, so the
requests sent after it queue up and form the next batch, in the order they were sent.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person
from sqlalchemy import func, select
from trading_flows import add_instrument, desk_of, funded_trader, verified_trail

from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.audit.models import AuditEventRow
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.core.money import Price
from tradeguard.core.principal import Principal
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.models import ExecutionRow, OrderRow
from tradeguard.trading.orders.booking import BatchWrites
from tradeguard.trading.orders.desk import OrderAsk, TradingDesk

WAIT = 10.0


def caller_of(app: FastAPI, person: Person) -> Caller:
    """The person as a route hands them to the desk."""
    with registry_of(app).services.sessions() as db:
        user_id = db.scalars(select(User.id).where(User.username == person.username)).one()
    principal = Principal(
        user_id=user_id,
        session_id=str(uuid.uuid4()),
        role="TRADER",
        permissions=frozenset({"order:place", "order:cancel"}),
        amr=("pwd", "otp"),
        enrollment_only=False,
        state=None,
    )
    return Caller(principal, Origin("127.0.0.1", "test", "en", f"req-{uuid.uuid4().hex[:8]}"))


def ask(side: Side = Side.BUY, quantity: int = 10, price: str = "100.00", **terms: Any) -> OrderAsk:
    fields: dict[str, Any] = {
        "client_order_id": f"b-{uuid.uuid4().hex[:12]}",
        "symbol": "ACME",
        "side": side,
        "type": OrderType.LIMIT,
        "time_in_force": TimeInForce.DAY,
        "quantity": quantity,
        "limit_price": Price.parse(price).units,
    }
    fields.update(terms)
    return OrderAsk(**fields)


class Outcome:
    """What one request in a batch was answered, and when."""

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()


@contextmanager
def one_batch(
    desk: TradingDesk, leader: Caller
) -> Iterator[Callable[[Callable[[], Any]], Outcome]]:
    """Requests sent inside the block are committed together once the block ends.

    A first request (a read of nothing) leads a batch that waits for the lock held here;
    each request sent is queued behind it before the next is sent.
    """
    threads: list[threading.Thread] = []

    def send(action: Callable[[], Any]) -> Outcome:
        outcome = Outcome()

        def run() -> None:
            try:
                outcome.value = action()
            except BaseException as error:  # noqa: BLE001 - the answer under test
                outcome.error = error
            outcome.done.set()

        queued = desk.waiting
        thread = threading.Thread(target=run)
        thread.start()
        threads.append(thread)
        _wait_until(lambda: desk.waiting == queued + 1 or outcome.done.is_set())
        return outcome

    with desk.lock:
        first = threading.Thread(target=lambda: desk.cancel_all(leader))
        first.start()
        _wait_until(lambda: desk.batch_in_flight)  # it waits for the lock held here
        yield send
    for thread in (first, *threads):
        thread.join(WAIT)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@pytest.fixture
def traders(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Caller, Caller]:
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice", deposit="1500.00")
    bob = funded_trader(
        client, mailbox, clock, app, "bob", deposit="100000.00", kind=AccountKind.MARGIN
    )
    return caller_of(app, alice), caller_of(app, bob)


def answer(outcome: Outcome) -> Any:
    assert outcome.done.wait(WAIT)
    if outcome.error is not None:
        raise outcome.error
    return outcome.value


def reason(outcome: Outcome) -> str:
    assert outcome.done.wait(WAIT)
    assert isinstance(outcome.error, ProblemError), outcome.error
    return str(outcome.error.reason_code)


def account_of(app: FastAPI, caller: Caller) -> str:
    with registry_of(app).services.sessions() as db:
        return desk_of(app).account_id(db, caller)


def count(app: FastAPI, query: Any) -> int:
    with registry_of(app).services.sessions() as db:
        return int(db.scalar(query) or 0)


def test_a_later_request_sees_what_an_earlier_one_in_its_batch_reserved(
    app: FastAPI, traders: tuple[Caller, Caller]
) -> None:
    alice, bob = traders
    desk = desk_of(app)
    batches = desk.batches
    with one_batch(desk, bob) as send:
        first = send(lambda: desk.place(alice, ask(quantity=10)))
        second = send(lambda: desk.place(alice, ask(quantity=9, price="99.00")))
        assert not first.done.is_set()  # nothing is answered before the commit
    assert answer(first).created
    assert reason(second) == "RISK_BUYING_POWER"
    assert desk.batches == batches + 2  # the leader's, then these two together
    denied = select(func.count()).where(AuditEventRow.event_type == "order.denied")
    assert count(app, denied) == 1  # the denial is audited in the batch's transaction


def test_orders_awaited_on_an_event_loop_share_the_batch_and_are_answered_after_its_commit(
    app: FastAPI, traders: tuple[Caller, Caller]
) -> None:
    """``place_async`` (the route's and the desk process's way): no thread waits in the
    queue, yet the answer comes after the same commit as the waiting requests'."""
    alice, bob = traders
    desk = desk_of(app)
    batches = desk.batches
    with one_batch(desk, bob) as send:
        awaited = send(lambda: asyncio.run(desk.place_async(alice, ask(quantity=10))))
        waiting = send(lambda: desk.place(alice, ask(quantity=2, price="99.00")))
        refused = send(lambda: asyncio.run(desk.place_async(alice, ask(quantity=9))))
        assert not awaited.done.is_set()  # nothing is answered before the commit
    assert answer(awaited).created
    assert answer(waiting).created
    assert reason(refused) == "RISK_BUYING_POWER"
    _wait_until(lambda: desk.batches >= batches + 2)  # counted once its answers are out
    assert desk.batches == batches + 2  # the leader's, then these three together
    placed = select(func.count()).where(OrderRow.account_id == account_of(app, alice))
    assert count(app, placed) == 2


def test_a_client_order_id_repeated_within_a_batch_places_one_order(
    app: FastAPI, traders: tuple[Caller, Caller]
) -> None:
    alice, bob = traders
    desk = desk_of(app)
    repeated = ask(client_order_id="twice-in-one-batch")
    with one_batch(desk, bob) as send:
        first = send(lambda: desk.place(alice, repeated))
        again = send(lambda: desk.place(alice, repeated))
    placed, retried = answer(first), answer(again)
    assert (placed.created, retried.created) == (True, False)
    assert retried.order.id == placed.order.id
    stored = select(func.count()).where(OrderRow.client_order_id == "twice-in-one-batch")
    assert count(app, stored) == 1


def test_an_order_placed_in_a_batch_can_be_crossed_and_cancelled_in_the_same_batch(
    app: FastAPI, traders: tuple[Caller, Caller]
) -> None:
    alice, bob = traders
    desk = desk_of(app)
    with one_batch(desk, bob) as send:
        resting = send(lambda: desk.place(alice, ask(quantity=10)))
        crossing = send(
            lambda: desk.place(bob, ask(Side.SELL_SHORT, 4, time_in_force=TimeInForce.IOC))
        )
        cancel = send(lambda: desk.cancel_all(alice))
    assert answer(crossing).order.filled_quantity == 4
    [cancelled] = answer(cancel)
    assert cancelled.id == answer(resting).order.id
    assert (cancelled.status, cancelled.filled_quantity) == ("cancelled", 4)
    assert count(app, select(func.count()).select_from(ExecutionRow)) == 2
    with registry_of(app).services.sessions() as db:
        stored = db.get_one(OrderRow, cancelled.id)
        assert (stored.status, stored.filled_quantity) == ("cancelled", 4)
    assert verified_trail(app).ok


def test_a_request_that_fails_is_answered_503_and_the_rest_of_its_batch_commits(
    app: FastAPI, traders: tuple[Caller, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = traders
    desk = desk_of(app)
    original = type(desk.exchange).submit
    bobs = account_of(app, bob)

    def failing(exchange: Any, order: Any) -> Any:
        if order.account == bobs:
            raise RuntimeError("a bug in the book")
        return original(exchange, order)

    monkeypatch.setattr(type(desk.exchange), "submit", failing)
    with one_batch(desk, alice) as send:
        before = send(lambda: desk.place(alice, ask(quantity=5)))
        broken = send(lambda: desk.place(bob, ask(Side.SELL_SHORT, 1, "100.50")))
        after = send(lambda: desk.place(alice, ask(quantity=4, price="99.00")))
    assert reason(broken) == "TRADING_UNAVAILABLE"
    assert answer(before).created
    assert answer(after).created
    assert count(app, select(func.count()).select_from(OrderRow)) == 2
    with desk.lock:
        assert len(desk.risk.accounts[account_of(app, alice)].open_orders) == 2


def _feed_of(desk: TradingDesk, watching: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The desk's published events, with only the users in ``watching`` subscribed."""
    published: list[tuple[str, dict[str, Any]]] = []
    desk.set_publisher(
        lambda user_id, event: published.append((user_id, dict(event))), watching.__contains__
    )
    return published


def test_feed_events_of_users_nobody_watches_are_not_published(
    app: FastAPI, traders: tuple[Caller, Caller]
) -> None:
    alice, bob = traders
    desk = desk_of(app)
    published = _feed_of(desk, {bob.user_id})
    with one_batch(desk, bob) as send:
        send(lambda: desk.place(alice, ask(quantity=10)))
        send(lambda: desk.place(bob, ask(Side.SELL_SHORT, 4, time_in_force=TimeInForce.IOC)))
    assert {user for user, _ in published} == {bob.user_id}
    assert [event["type"] for _, event in published] == ["execution", "order"]


def test_a_subscriber_arriving_before_the_commit_gets_the_events_as_committed(
    app: FastAPI, traders: tuple[Caller, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = traders
    desk = desk_of(app)
    watching = {bob.user_id}
    published = _feed_of(desk, watching)
    commit = BatchWrites.commit

    def subscribe_then_commit(self: BatchWrites, *args: Any) -> None:
        if self.placed:  # the batch of the orders (every event drafted by now), not the leader's
            watching.add(alice.user_id)
        commit(self, *args)

    monkeypatch.setattr(BatchWrites, "commit", subscribe_then_commit)
    with one_batch(desk, bob) as send:
        send(lambda: desk.place(alice, ask(quantity=10)))
        send(lambda: desk.place(bob, ask(Side.SELL_SHORT, 4, time_in_force=TimeInForce.IOC)))
    to_alice = [event for user, event in published if user == alice.user_id]
    assert [event["type"] for event in to_alice] == ["order", "execution", "order"]
    assert all(
        (event["order"]["status"], event["order"]["filled_quantity"]) == ("partially_filled", 4)
        for event in to_alice
        if event["type"] == "order"
    )
