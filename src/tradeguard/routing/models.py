"""Stored routing: one decision per order, and each execution a venue reported.

A decision keeps where, when, the NBBO then, why and the venue's terms; an execution
keeps its venue's ExecID, which makes a report sent again harmless.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base
from tradeguard.trading.models import ID_LENGTH, SYMBOL_LENGTH

VENUE_LENGTH = 16
EXEC_ID_LENGTH = 64


class RoutingDecisionRow(Base):
    """Where an order was routed, with the NBBO at routing and the decision's reasons.

    Prices in 1/10,000 dollar; ``pfof``, ``access_fee`` and ``rebate`` per share in the same
    units, the venue's terms for the order's Rule 606 type (``order_kind``) when it was
    routed.
    ``status``: ``internal`` (handled by the internal book), ``routed`` (sent out
    immediate-or-cancel), ``resting`` (a DAY order the venue holds), ``cancelling`` or
    ``replacing`` (a cancel or replace request awaits the venue's answer), ``done`` (the
    venue finished with it).
    """

    __tablename__ = "routing_decisions"

    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH))
    side: Mapped[str] = mapped_column(String(12))
    order_type: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(BigInteger)
    venue: Mapped[str] = mapped_column(String(VENUE_LENGTH), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    nbbo_bid: Mapped[int | None] = mapped_column(BigInteger)
    nbbo_ask: Mapped[int | None] = mapped_column(BigInteger)
    sent_limit: Mapped[int | None] = mapped_column(BigInteger)
    pfof: Mapped[int] = mapped_column(BigInteger, default=0)
    access_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    rebate: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    order_kind: Mapped[str | None] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), index=True)
    venue_text: Mapped[str | None] = mapped_column(String(200))
    routed_at_ns: Mapped[int] = mapped_column(BigInteger, index=True)
    acked_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    done_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class VenueFillRow(Base):
    """One execution a venue reported for a routed order."""

    __tablename__ = "routing_fills"

    venue: Mapped[str] = mapped_column(String(VENUE_LENGTH), primary_key=True)
    exec_id: Mapped[str] = mapped_column(String(EXEC_ID_LENGTH), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    midpoint_after: Mapped[int | None] = mapped_column(BigInteger)
    """The NBBO midpoint when the report arrived (for the realised spread)."""
    executed_at_ns: Mapped[int] = mapped_column(BigInteger)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
