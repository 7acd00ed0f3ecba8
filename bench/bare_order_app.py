"""The yardstick of the order-entry benchmark: an endpoint that only stores the order row.

``POST /v1/orders`` parses the body TradeGuard's route parses (``PlaceOrderRequest``),
inserts the same ``orders`` row through SQLAlchemy on an engine built the way TradeGuard
builds its own (``build_engine``: the same SQLite pragmas, or the same PostgreSQL URL),
commits, and answers 201 with the same order view. Nothing else: no authentication, rate
limiting, risk checks, matching, executions or audit. The account is taken from the
``X-Account-Id`` header the benchmark sends along with the bearer token.

Run as ``python bench/bare_order_app.py`` with TradeGuard's ``TRADEGUARD_*`` settings: it is
served by ``tradeguard.gateway.server.serve``, so TLS context, HTTP protocol and connection limits
are TradeGuard's own.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
from typing import Annotated

from fastapi import FastAPI, Header, status
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import SystemClock
from tradeguard.core.ids import new_id
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.gateway.server import serve, serve_on
from tradeguard.gateway.supervisor import listening_socket
from tradeguard.trading.models import ID_LENGTH, OrderRow
from tradeguard.trading.orders.schemas import OrderView, PlaceOrderRequest
from tradeguard.trading.orders.views import order_view

PR_SET_PDEATHSIG = 1
AccountId = Annotated[str, Header(alias="X-Account-Id", max_length=ID_LENGTH)]


def order_row(body: PlaceOrderRequest, account_id: str, now_ns: int) -> OrderRow:
    """The row TradeGuard's desk stores for a newly accepted order."""
    limit_price = None if body.limit_price is None else body.limit_price.units
    return OrderRow(
        id=str(new_id()),
        account_id=account_id,
        client_order_id=body.client_order_id,
        symbol=body.symbol,
        side=body.side.value,
        type=body.type.value,
        time_in_force=body.effective_time_in_force.value,
        quantity=body.quantity,
        limit_price=limit_price,
        placed_quantity=body.quantity,
        placed_limit_price=limit_price,
        filled_quantity=0,
        filled_units=0,
        status="open",
        cancel_reason=None,
        book_sequence=0,
        created_at_ns=now_ns,
        updated_at_ns=now_ns,
        placed_via="session",
    )


def create_bare_app(sessions: sessionmaker[Session]) -> FastAPI:
    """The bare application: a health check and the order insert."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    clock = SystemClock()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/orders", status_code=status.HTTP_201_CREATED)
    def place_order(body: PlaceOrderRequest, account_id: AccountId) -> OrderView:
        row = order_row(body, account_id, clock.now_ns())
        with transaction(sessions) as db:
            db.add(row)
        return order_view(row)

    return app


def main() -> None:
    """Serve the bare app over HTTPS on TradeGuard's configured address and database.

    With ``BENCH_BARE_WORKERS`` above 1, that many processes share one listening socket,
    as ``tradeguard serve``'s gateway workers do, under a parent that only waits for them
    and passes SIGTERM on (so the port is free once it has exited).
    """
    settings = load_settings()
    workers = int(os.environ.get("BENCH_BARE_WORKERS", "1"))
    if workers == 1:
        serve(_bare_app(settings), settings)
        return
    listener = listening_socket(settings)
    children = [_serving_child(settings, listener) for _ in range(workers)]
    signal.signal(signal.SIGTERM, lambda *_: [os.kill(pid, signal.SIGTERM) for pid in children])
    for pid in children:
        os.waitpid(pid, 0)


def _serving_child(settings: Settings, listener: socket.socket) -> int:
    """Fork a process that serves on ``listener`` and ends if its parent does; its pid."""
    pid = os.fork()
    if pid:
        return pid
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    serve_on(_bare_app(settings), settings, listener)
    os._exit(0)


def _bare_app(settings: Settings) -> FastAPI:
    """The bare app on its own engine (each process builds its own, after any fork)."""
    return create_bare_app(session_factory(build_engine(settings.effective_database_url)))


if __name__ == "__main__":
    main()
