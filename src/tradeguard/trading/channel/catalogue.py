"""Every type that crosses the desk channel, and nothing else (see ``wire.Codec``)."""

from __future__ import annotations

from typing import Any

from tradeguard.access.caller import Caller
from tradeguard.apikeys.replay import Admission
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.core.money import Money, Price
from tradeguard.core.principal import Principal, SessionState
from tradeguard.identity.origin import Origin
from tradeguard.ledger.journal import EntryKind, JournalEntry
from tradeguard.ledger.movements import CashMovement, CashPosted
from tradeguard.risk.model import AccountStatus, Instrument, Locate, TradingState
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.channel.wire import Codec
from tradeguard.trading.controls.busts import Busted
from tradeguard.trading.controls.risk_controls import Listing
from tradeguard.trading.controls.trading_controls import (
    AccountStanding,
    ControlChange,
    StateTarget,
)
from tradeguard.trading.models import CloseoutObligationRow, InstrumentRow, LocateRow, OrderRow
from tradeguard.trading.orders.desk import OrderAsk, Placed
from tradeguard.trading.orders.schemas import AccountView

CATALOGUE: tuple[type[Any], ...] = (
    # who calls, and what they ask
    Caller,
    Origin,
    Principal,
    SessionState,
    OrderAsk,
    Side,
    OrderType,
    TimeInForce,
    StateTarget,
    TradingState,
    AccountStatus,
    Money,
    Price,
    CashMovement,
    JournalEntry,
    EntryKind,
    # what the desk answers
    Placed,
    CashPosted,
    OrderRow,
    AccountView,
    ControlChange,
    AccountStanding,
    Busted,
    Listing,
    InstrumentRow,
    Instrument,
    LocateRow,
    Locate,
    CloseoutObligationRow,
    Admission,
    ProblemError,
    ProblemType,
)


def desk_codec() -> Codec:
    """The codec both ends of the desk channel use."""
    return Codec(CATALOGUE)
