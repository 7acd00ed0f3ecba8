"""Rapid trading in and out of low-priced securities.

A low-priced ("penny") stock is one priced under $5 a share (SEC Rule 3a51-1). FINRA
Regulatory Notice 19-18 lists among money-laundering red flags a customer who buys
low-priced securities and sells them shortly after, repeatedly, with no apparent
investment purpose, especially when the size is out of line with the customer's profile:
the pattern of pump-and-dump schemes and of laundering through thinly traded shares.

A round trip is a sale of a security the customer bought within ``round_trip_days``,
either leg priced under the ceiling. A finding needs ``min_round_trips`` of them within
``window_days`` whose sales together reach the larger of ``min_notional_cents`` and
``income_fraction`` of the declared annual income.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.parameters import LowPricedSecuritiesParameters
from tradeguard.aml.transactions import BUY, NS_PER_DAY, CustomerProfile, Kind, Transaction
from tradeguard.aml.transactions import format_dollars as dollars


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A buy and the sale that closed it."""

    buy: Transaction
    sell: Transaction


@dataclass(slots=True)
class Trading:
    """A customer's recent buys per security and round trips in the window."""

    buys: dict[str, deque[Transaction]] = field(default_factory=dict)
    trips: deque[RoundTrip] = field(default_factory=deque)
    sold: int = 0


class LowPricedSecuritiesMonitor(Monitor):
    """Round trips in low-priced securities, counted and summed over the window."""

    typology = Typology.LOW_PRICED_SECURITIES
    kinds = frozenset({Kind.BUY, Kind.SELL})
    needs: frozenset[str] = frozenset({"price"})

    def __init__(self, parameters: LowPricedSecuritiesParameters) -> None:
        self.parameters = parameters
        self._trip_span = parameters.round_trip_days * NS_PER_DAY
        self._span = parameters.window_days * NS_PER_DAY
        self._trading: dict[str, Trading] = {}

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:
        """Record a buy; on a sale, a finding when the window's round trips meet the rule."""
        if txn.symbol is None or not txn.price_micros:
            return None
        trading = self._trading.get(txn.customer)
        if trading is None:
            trading = self._trading[txn.customer] = Trading()
        buys = trading.buys.setdefault(txn.symbol, deque())
        while buys and buys[0].ts < txn.ts - self._trip_span:
            buys.popleft()
        if txn.kind is BUY:
            buys.append(txn)
            return None
        opened = next((b for b in buys if self._low(b) or self._low(txn)), None)
        if opened is None:
            return None
        buys.remove(opened)
        self._add_trip(trading, RoundTrip(opened, txn))
        return self._judge(txn, trading, profile)

    def _low(self, txn: Transaction) -> bool:
        return txn.price_micros < self.parameters.price_ceiling_micros

    def _add_trip(self, trading: Trading, trip: RoundTrip) -> None:
        trips, oldest = trading.trips, trip.sell.ts - self._span
        trips.append(trip)
        trading.sold += trip.sell.cents
        while trips[0].buy.ts < oldest:
            trading.sold -= trips.popleft().sell.cents

    def least_sold(self, profile: CustomerProfile) -> int:
        """The least sold (cents) in the window's round trips that alerts for ``profile``."""
        p = self.parameters
        return max(p.min_notional_cents, int(profile.annual_income_cents * p.income_fraction))

    def _judge(
        self, txn: Transaction, trading: Trading, profile: CustomerProfile
    ) -> Finding | None:
        p, least = self.parameters, self.least_sold(profile)
        count = len(trading.trips)
        if count < p.min_round_trips or trading.sold < least:
            return None
        trips = trading.trips
        facts = {
            "round_trips": count,
            "symbols": sorted({t.sell.symbol or "" for t in trips}),
            "sold": dollars(trading.sold),
            "declared": {"annual_income": dollars(profile.annual_income_cents),
                         "occupation": profile.occupation},
            "thresholds": {
                "price_ceiling": dollars(p.price_ceiling_micros // 10_000),
                "round_trip_days": p.round_trip_days, "window_days": p.window_days,
                "min_round_trips": p.min_round_trips, "least_sold": dollars(least),
            },
        }  # fmt: skip
        score = min(
            1.0,
            0.5 + 0.1 * (count - p.min_round_trips) + 0.2 * min(trading.sold / max(least, 1), 2),
        )
        legs = [leg for t in trips for leg in (t.buy, t.sell)]
        return Finding(
            self.typology, txn.customer, frozenset(t.account for t in legs), trips[0].buy.ts,
            txn.ts, min(score, 1.0), tuple(t.txn_id for t in legs), facts,
        )  # fmt: skip
