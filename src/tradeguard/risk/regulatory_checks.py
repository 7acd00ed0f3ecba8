"""Regulatory checks: Reg SHO short sales and the pattern-day-trader rule.

``screen.py`` evaluates the same conditions in its single pass; change both together.
"""

from __future__ import annotations

from tradeguard.risk.context import reduces_position
from tradeguard.risk.model import AccountKind, Denial, OrderRequest, RiskReason
from tradeguard.risk.order_terms import Side
from tradeguard.risk.view import CheckContext, deny


def check_reg_sho(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Reg SHO: no new shorts in a threshold security with an open close-out; a locate."""
    if order.side is not Side.SELL_SHORT:
        return None
    instrument = ctx.known_instrument()
    obligation = ctx.risk.closeout_obligations.get(order.symbol, 0)
    if instrument.threshold and obligation > 0:
        return deny(
            RiskReason.SHO_CLOSEOUT,
            "threshold security with an open close-out obligation",
            0,
            symbol=order.symbol,
            closeout_shares=obligation,
        )
    if instrument.easy_to_borrow:
        return None
    return _check_locate(ctx, order)


def check_pdt_restricted(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A flagged pattern day trader may only reduce positions until the restriction ends."""
    until = ctx.account.pdt_restricted_until_ns
    if until is None or ctx.now_ns >= until or reduces_position(ctx.account, order):
        return None
    return deny(
        RiskReason.PDT_RESTRICTED,
        "pattern day trader restriction: closing orders only",
        until,
        restricted_until_ns=until,
    )


def check_pattern_day_trader(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A margin account under the equity minimum may not make its 4th day trade in 5 days."""
    account, limits = ctx.account, ctx.limits
    if account.kind is not AccountKind.MARGIN:
        return None
    if account.equity_cents >= limits.pdt_equity_threshold_cents:
        return None
    if not _closes_todays_position(ctx, order):
        return None
    day_trades = account.day_trades(ctx.today, limits.pdt_window_business_days)
    if day_trades < limits.pdt_day_trade_limit:
        return None
    return deny(
        RiskReason.PDT,
        "this day trade would make the account a pattern day trader",
        limits.pdt_day_trade_limit,
        day_trades=day_trades,
        equity_cents=account.equity_cents,
    )


def _check_locate(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    locate = ctx.account.locates.get(order.symbol)
    quantities = ctx.account.open_quantities.get(order.symbol)
    open_short = (quantities.short if quantities is not None else 0) - ctx.replaced_field(
        "remaining"
    )
    needed = open_short + order.quantity
    if locate is not None and locate.expires_at_ns > ctx.now_ns and locate.quantity >= needed:
        return None
    return deny(
        RiskReason.SHO_LOCATE_REQUIRED,
        "a short sale needs a valid locate",
        needed,
        locate_shares=None if locate is None else locate.quantity,
        locate_expires_at_ns=None if locate is None else locate.expires_at_ns,
    )


def _closes_todays_position(ctx: CheckContext, order: OrderRequest) -> bool:
    if ctx.account.opened_on(order.symbol, ctx.today) <= 0:
        return False
    buying = order.side is Side.BUY
    return (ctx.position < 0) if buying else (ctx.position > 0)
