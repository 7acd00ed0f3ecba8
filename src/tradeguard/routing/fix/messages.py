"""The application messages routing uses, to and from plain values.

NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest, OrderStatusRequest,
ExecutionReport and OrderCancelReject; prices in 1/10,000 dollar.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from tradeguard.core.money import Price
from tradeguard.routing.fix.codec import Message, Tag, sending_time

FIX_BUY = "1"
FIX_SELL = "2"
FIX_SELL_SHORT = "5"
FIX_LIMIT = "2"
FIX_IOC = "3"
FIX_DAY = "0"


class ExecType(StrEnum):
    """ExecType (150) values used here."""

    NEW = "0"
    CANCELED = "4"
    REPLACED = "5"
    REJECTED = "8"
    EXPIRED = "C"
    TRADE = "F"
    ORDER_STATUS = "I"


class OrdStatus(StrEnum):
    """OrdStatus (39) values used here."""

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    CANCELED = "4"
    REJECTED = "8"
    EXPIRED = "C"


DONE_STATUSES = frozenset(
    {OrdStatus.FILLED, OrdStatus.CANCELED, OrdStatus.REJECTED, OrdStatus.EXPIRED}
)
UNKNOWN_ORDER = "1"
"""CxlRejReason (102): the venue does not know the order."""
TOO_LATE = "0"
"""CxlRejReason (102): the order is already done."""
CANCEL_RESPONSE = "1"
"""CxlRejResponseTo (434): an OrderCancelRequest."""
REPLACE_RESPONSE = "2"
"""CxlRejResponseTo (434): an OrderCancelReplaceRequest."""
UNKNOWN_ORDER_TEXT = "unknown order"
"""The text of a status report on an order the venue does not know."""


@dataclass(frozen=True, slots=True)
class CancelReject:
    """A venue refusing to cancel: the order is done there, or it never had it."""

    orig_cl_ord_id: str
    unknown_order: bool
    replace: bool = False
    """Whether it refuses an OrderCancelReplaceRequest (else an OrderCancelRequest)."""


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order sent to a venue: a limit, immediate-or-cancel or (resting) DAY."""

    cl_ord_id: str
    symbol: str
    side: str
    quantity: int
    limit: int
    time_in_force: str = FIX_IOC

    @property
    def rests(self) -> bool:
        """Whether the venue keeps what does not fill at once (a DAY order)."""
        return self.time_in_force == FIX_DAY


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """What a venue said about an order: a fill (``last_qty`` > 0), an ack, a cancel."""

    cl_ord_id: str
    exec_id: str
    exec_type: ExecType
    status: OrdStatus
    last_qty: int
    last_px: int
    leaves_qty: int
    cum_qty: int
    text: str = ""

    @property
    def done(self) -> bool:
        """Whether the venue is finished with the order."""
        return self.status in DONE_STATUSES


def new_order_single(order: VenueOrder, *, resend: bool = False) -> list[tuple[int, str]]:
    """The NewOrderSingle body of ``order`` (PossResend when sent again after a restart)."""
    fields = [
        (Tag.CL_ORD_ID, order.cl_ord_id),
        (Tag.SYMBOL, order.symbol),
        (Tag.SIDE, order.side),
        (Tag.TRANSACT_TIME, sending_time()),
        (Tag.ORDER_QTY, str(order.quantity)),
        (Tag.ORD_TYPE, FIX_LIMIT),
        (Tag.PRICE, str(Price(order.limit))),
        (Tag.TIME_IN_FORCE, order.time_in_force),
    ]
    return [(Tag.POSS_RESEND, "Y"), *fields] if resend else fields


def venue_order_of(message: Message) -> VenueOrder:
    """The order a NewOrderSingle carries."""
    return VenueOrder(
        cl_ord_id=message.require(Tag.CL_ORD_ID),
        symbol=message.require(Tag.SYMBOL),
        side=message.require(Tag.SIDE),
        quantity=int(message.require(Tag.ORDER_QTY)),
        limit=Price.parse(message.require(Tag.PRICE)).units,
        time_in_force=message.get(Tag.TIME_IN_FORCE, FIX_IOC) or FIX_IOC,
    )


def cancel_request(cl_ord_id: str, order: VenueOrder) -> list[tuple[int, str]]:
    """An OrderCancelRequest for ``order``."""
    return [
        (Tag.ORIG_CL_ORD_ID, order.cl_ord_id),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, order.symbol),
        (Tag.SIDE, order.side),
        (Tag.TRANSACT_TIME, sending_time()),
        (Tag.ORDER_QTY, str(order.quantity)),
    ]


def replace_request(cl_ord_id: str, order: VenueOrder, new: VenueOrder) -> list[tuple[int, str]]:
    """An OrderCancelReplaceRequest turning ``order`` into ``new`` (ClOrdID ``cl_ord_id``)."""
    return [
        *cancel_request(cl_ord_id, replace(order, quantity=new.quantity)),
        (Tag.ORD_TYPE, FIX_LIMIT),
        (Tag.PRICE, str(Price(new.limit))),
        (Tag.TIME_IN_FORCE, new.time_in_force),
    ]


def status_request(order: VenueOrder) -> list[tuple[int, str]]:
    """An OrderStatusRequest for ``order``."""
    return [
        (Tag.CL_ORD_ID, order.cl_ord_id),
        (Tag.SYMBOL, order.symbol),
        (Tag.SIDE, order.side),
    ]


def cancel_reject_fields(
    venue_order_id: str,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    *,
    known: bool,
    replace: bool = False,
) -> list[tuple[int, str]]:
    """The body of an OrderCancelReject (of a cancel, or of a replace when ``replace``)."""
    status = OrdStatus.FILLED if known else OrdStatus.REJECTED
    return [
        (Tag.ORDER_ID, venue_order_id),
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.ORIG_CL_ORD_ID, orig_cl_ord_id),
        (Tag.ORD_STATUS, status.value),
        (Tag.CXL_REJ_RESPONSE_TO, REPLACE_RESPONSE if replace else CANCEL_RESPONSE),
        (Tag.CXL_REJ_REASON, TOO_LATE if known else UNKNOWN_ORDER),
    ]


def cancel_reject_of(message: Message) -> CancelReject:
    """The refusal an OrderCancelReject carries."""
    return CancelReject(
        message.require(Tag.ORIG_CL_ORD_ID),
        message.get(Tag.CXL_REJ_REASON) == UNKNOWN_ORDER,
        replace=message.get(Tag.CXL_REJ_RESPONSE_TO) == REPLACE_RESPONSE,
    )


def execution_report_fields(
    report: ExecutionReport, order: VenueOrder, venue_order_id: str
) -> list[tuple[int, str]]:
    """The body of an ExecutionReport."""
    return [
        (Tag.ORDER_ID, venue_order_id),
        (Tag.CL_ORD_ID, report.cl_ord_id),
        (Tag.EXEC_ID, report.exec_id),
        (Tag.EXEC_TYPE, report.exec_type.value),
        (Tag.ORD_STATUS, report.status.value),
        (Tag.SYMBOL, order.symbol),
        (Tag.SIDE, order.side),
        (Tag.ORDER_QTY, str(order.quantity)),
        (Tag.LAST_QTY, str(report.last_qty)),
        (Tag.LAST_PX, str(Price(report.last_px))),
        (Tag.LEAVES_QTY, str(report.leaves_qty)),
        (Tag.CUM_QTY, str(report.cum_qty)),
        (Tag.AVG_PX, "0"),
        (Tag.TRANSACT_TIME, sending_time()),
        *([(Tag.TEXT, report.text)] if report.text else []),
    ]


def execution_report_of(message: Message) -> ExecutionReport:
    """The report an ExecutionReport message carries."""
    return ExecutionReport(
        cl_ord_id=message.require(Tag.CL_ORD_ID),
        exec_id=message.require(Tag.EXEC_ID),
        exec_type=ExecType(message.require(Tag.EXEC_TYPE)),
        status=OrdStatus(message.require(Tag.ORD_STATUS)),
        last_qty=message.integer(Tag.LAST_QTY),
        last_px=Price.parse(message.get(Tag.LAST_PX, "0") or "0").units,
        leaves_qty=message.integer(Tag.LEAVES_QTY),
        cum_qty=message.integer(Tag.CUM_QTY),
        text=message.get(Tag.TEXT, "") or "",
    )
