"""What the desk process answers on its channel: each method name and the code it runs.

The names are those ``remote`` sends. Calls that change trading state run the desk's own
unit of work, exactly as in one process (placing an order is queued for the next batch
and answered from it, with no thread waiting); reads that need a session get a fresh one
here.
The nonce, revocation and counter calls serve the workers' shared state when there is no
Redis (``DeskKeyState``, ``DeskCounters``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.access.caller import Caller
from tradeguard.apikeys.replay import KeyStateStore
from tradeguard.ratelimit.counters import CounterCall, Counters, run_each
from tradeguard.trading.channel.server import Handler, Reply
from tradeguard.trading.desk_port import DeskPort, RiskControlsPort, TradingControlsPort
from tradeguard.trading.orders.desk import OrderAsk, TradingDesk

T = TypeVar("T")


def with_session(sessions: sessionmaker[Session], read: Callable[..., T]) -> Callable[..., T]:
    """``read`` called with a fresh session as its first argument."""

    def call(*args: Any, **kwargs: Any) -> T:  # noqa: ANN401 - the read's own arguments
        with sessions() as db:
            return read(db, *args, **kwargs)

    return call


def desk_handlers(
    desk: DeskPort,
    controls: TradingControlsPort,
    risk: RiskControlsPort,
    sessions: sessionmaker[Session],
) -> dict[str, Handler]:
    """Order entry, controls and their live reads, as the workers call them."""
    return {
        "desk.ping": lambda: "pong",
        "desk.place": desk.place,
        "desk.modify": desk.modify,
        "desk.cancel": desk.cancel,
        "desk.cancel_all": desk.cancel_all,
        "desk.account_view": with_session(sessions, desk.account_view),
        "desk.market_prices": desk.market_prices,
        "desk.post_cash": desk.post_cash,
        "controls.set_state": controls.set_state,
        "controls.change_standing": controls.change_standing,
        "controls.reset_pdt": controls.reset_pattern_day_trader,
        "controls.standing": with_session(sessions, controls.standing),
        "controls.bust_trade": controls.bust_trade,
        "risk.change_limit": risk.change_limit,
        "risk.set_flags": risk.set_flags,
        "risk.listed": with_session(sessions, risk.listed),
        "risk.universe": with_session(sessions, risk.universe),
        "risk.set_closeout": risk.set_closeout,
        "risk.grant_locate": risk.grant_locate,
        "risk.locates": with_session(sessions, risk.locates),
    }


def later_desk_handlers(desk: TradingDesk) -> dict[str, Handler]:
    """Order entry answered once its batch has committed, with no thread waiting for each."""

    def place(reply: Reply, caller: Caller, ask: OrderAsk) -> None:
        desk.place_later(caller, ask, lambda placed: reply(placed.answer))

    return {"desk.place": place}


def shared_state_handlers(keys: KeyStateStore, counters: Counters) -> dict[str, Handler]:
    """Nonces, key revocations and rate-limit counters, kept here for every worker."""
    return {
        "keys.admit": keys.admit,
        "keys.mark_revoked": keys.mark_revoked,
        "counters.incr": counters.incr,
        "counters.get": counters.get,
        "counters.get_expiry": counters.get_expiry,
        "counters.clear": counters.clear,
        "counters.run": lambda calls: run_each(counters, counter_calls(calls)),
    }


def counter_calls(sent: object) -> list[CounterCall]:
    """A worker's batch of counter calls, each checked to be ``[op, key, seconds, amount]``."""
    if not isinstance(sent, list):
        raise TypeError("counter calls come as a list")
    calls: list[CounterCall] = []
    for call in sent:
        match call:
            case [str(operation), str(key), int(seconds), int(amount)]:
                calls.append((operation, key, seconds, amount))
            case _:
                raise TypeError("a counter call is [operation, key, seconds, amount]")
    return calls
