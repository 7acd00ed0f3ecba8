"""A trading process that places orders and kills itself (SIGKILL) at a chosen point.

Run by the crash tests as ``python crash_child.py POINT CRASH_ON ORDERS USER_ID``, with the
installation in the ``TRADEGUARD_*`` environment. It starts the application (whose start-up
publishes what an earlier crash left unpublished), then places ``ORDERS`` orders through
the trading desk, printing ``ACK <client order id>`` (flushed) once an order is answered.
During order number ``CRASH_ON`` it dies at ``POINT`` of commit -> witness -> answer:

- ``before_commit``: the transaction is complete but not committed;
- ``before_witness``: committed, the checkpoint not yet appended to the witness;
- ``torn_witness``: half of the witness line written, then the crash;
- ``after_witness``: committed and published, not yet answered;
- ``before_answer``: the desk returned, the answer not yet given;
- ``after_answer``: the answer given;
- ``none``: no crash.

``CRASH_CHILD_SQLITE_SYNCHRONOUS=NORMAL`` runs it with SQLite's previous, weaker setting.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.app import create_app
from tradeguard.audit.checkpoints import Witness
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.permissions import Role
from tradeguard.core.principal import Principal
from tradeguard.db.engine import build_engine
from tradeguard.identity.origin import Origin
from tradeguard.notify.notifier import MemorySender, Notifier
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.orders.desk import OrderAsk, TradingDesk

START = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
ORDER_SPACING_MS = 250
"""Four orders a second: under the risk checks' limit of orders per second in a symbol."""
SYNCHRONOUS_OVERRIDE = "CRASH_CHILD_SQLITE_SYNCHRONOUS"


class Fault:
    """Where and during which order the process dies."""

    def __init__(self, point: str, crash_on: int) -> None:
        self.point, self.crash_on, self.order = point, crash_on, 0

    def at(self, point: str) -> None:
        """Die here if this is the chosen point of the chosen order."""
        if point == self.point and self.order == self.crash_on:
            os.kill(os.getpid(), signal.SIGKILL)

    def install(self) -> None:
        """Hook the commit and the witness append."""
        event.listen(Session, "before_commit", lambda _session: self.at("before_commit"))
        append = Witness.append

        def faulty_append(witness: Witness, documents: Iterable[dict[str, Any]]) -> None:
            documents = list(documents)
            self.at("before_witness")
            if self.point == "torn_witness" and self.order == self.crash_on:
                line = "".join(json.dumps(d, sort_keys=True) + "\n" for d in documents).encode()
                with witness.path.open("ab") as file:
                    file.write(line[: len(line) // 2])
                self.at("torn_witness")
            append(witness, documents)
            self.at("after_witness")

        Witness.append = faulty_append  # type: ignore[method-assign]


def trader(user_id: str) -> Caller:
    """The desk's caller for the trader, as the gateway hands it over."""
    principal = Principal(
        user_id=user_id,
        session_id="crash-test",
        role=Role.TRADER.value,
        permissions=frozenset(),
        amr=("pwd", "otp"),
        enrollment_only=False,
        state=None,
    )
    return Caller(principal, Origin("127.0.0.1", "crash-test", "", None))


def ask(number: int) -> OrderAsk:
    """A resting limit order to buy ACME, each with other terms (no duplicate-order denial)."""
    price = 990_000 + (number % 100) * 100  # 99.00 to 99.99, inside the collar
    quantity = 1 + number // 100
    return OrderAsk(
        f"crash-{number}", "ACME", Side.BUY, OrderType.LIMIT, TimeInForce.DAY, quantity, price
    )


def answer(client_order_id: str) -> None:
    """Acknowledge an order: the line is out of the process once this returns."""
    sys.stdout.write(f"ACK {client_order_id}\n")
    sys.stdout.flush()


def main() -> None:
    """Start, place the orders, crash where asked."""
    point, crash_on, orders, user_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    fault = Fault(point, crash_on)
    fault.install()
    memory = MemorySender()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = build_engine(settings.effective_database_url)
    weaker = os.environ.get(SYNCHRONOUS_OVERRIDE)
    if weaker is not None:  # the previous, weaker setting, for the power-loss comparison
        event.listen(
            engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA synchronous={weaker}")
        )
    clock = FixedClock(START)
    app = create_app(settings, clock=clock, engine=engine, notifier=Notifier(memory, memory))
    desk: TradingDesk = app.state.registry.trading_desk
    caller = trader(user_id)
    for number in range(1, orders + 1):
        fault.order = number
        clock.advance(milliseconds=ORDER_SPACING_MS)
        placed = desk.place(caller, ask(number))
        fault.at("before_answer")
        answer(placed.order.client_order_id)
        fault.at("after_answer")


if __name__ == "__main__":
    main()
