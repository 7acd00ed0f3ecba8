"""What the checks see of one order: the account, instrument, clock and derived prices."""

from __future__ import annotations

from tradeguard.risk.account import AccountRisk, OpenOrder
from tradeguard.risk.context import RiskContext
from tradeguard.risk.model import (
    Denial,
    Instrument,
    OrderRequest,
    RiskInput,
    RiskLimits,
    RiskReason,
)
from tradeguard.risk.pricing import business_day, cost_cents, order_price


class MissingRiskDataError(LookupError):
    """The context lacks data a check needs; the engine denies rather than guess."""


class CheckContext:
    """One order's view of the risk state, built once and read by every check."""

    __slots__ = (
        "_notional",
        "account",
        "instrument",
        "limits",
        "now_ns",
        "position",
        "replaced",
        "risk",
        "today",
    )

    def __init__(
        self, risk: RiskContext, limits: RiskLimits, order: OrderRequest, now_ns: int
    ) -> None:
        account = risk.accounts.get(order.account_id)
        if account is None:
            raise MissingRiskDataError(f"no risk state for account {order.account_id}")
        self.risk = risk
        self.limits = limits
        self.account: AccountRisk = account
        self.instrument: Instrument | None = risk.instruments.get(order.symbol)
        self.now_ns = now_ns
        self.today = business_day(now_ns)
        self.position = account.position_quantity(order.symbol)
        modifies = order.modifies
        self.replaced: OpenOrder | None = (
            None if modifies is None else account.open_orders.get(modifies)
        )
        self._notional: int | None = None

    def known_instrument(self) -> Instrument:
        """The order's instrument; the symbol check runs before anything calls this."""
        if self.instrument is None:
            raise MissingRiskDataError("instrument missing after the symbol check")
        return self.instrument

    def price(self, order: OrderRequest) -> int:
        """The order's worst price: its limit, or the collar top for a market order."""
        price = order_price(self.limits, self.known_instrument(), order)
        if price is None:
            raise MissingRiskDataError("no price after the reference price check")
        return price

    def notional(self, order: OrderRequest) -> int:
        """The order's worst-case notional in cents, rounded up (computed once per order)."""
        notional = self._notional
        if notional is None:
            notional = self._notional = cost_cents(self.price(order) * order.quantity)
        return notional

    def replaced_field(self, name: str) -> int:
        """A number the replaced order holds (0 for a new order)."""
        replaced = self.replaced
        return 0 if replaced is None else int(getattr(replaced, name))


def deny(reason: RiskReason, detail: str, threshold: RiskInput, **inputs: RiskInput) -> Denial:
    """A denial with the check's inputs and threshold."""
    return Denial(reason_code=reason, detail=detail, inputs=inputs, threshold=threshold)
