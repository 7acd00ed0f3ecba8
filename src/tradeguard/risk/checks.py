"""The pre-trade checks: pure functions of (check context, order) that return a denial or None.

Each denial names the rule, the inputs it looked at and its threshold, so a compliance
officer reading it later can see why. The engine runs them in the order of ``CHECKS``.

These checks define the rules. ``screen.py`` evaluates the same conditions in a single
pass so that an order every check passes needs no denial machinery; a change to a
condition here must be made there too (``test_risk_screen*.py`` compare the two).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.context import reduces_position, uses_buying_power
from tradeguard.risk.model import (
    AccountKind,
    AccountStatus,
    Denial,
    OrderRequest,
    RiskReason,
    TradingState,
)
from tradeguard.risk.order_terms import OrderType, Side
from tradeguard.risk.pricing import cost_cents, requirement_cents, reservation_price
from tradeguard.risk.regulatory_checks import (
    check_pattern_day_trader,
    check_pdt_restricted,
    check_reg_sho,
)
from tradeguard.risk.view import CheckContext, MissingRiskDataError, deny

Check = Callable[[CheckContext, OrderRequest], Denial | None]
_STATE_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def check_account_standing(ctx: CheckContext, _order: OrderRequest) -> Denial | None:
    """Closed and suspended accounts place no orders."""
    status = ctx.account.status
    if status is AccountStatus.CLOSED:
        return deny(RiskReason.ACCOUNT_CLOSED, "the account is closed", "active", status=status)
    if status is AccountStatus.SUSPENDED:
        return deny(
            RiskReason.ACCOUNT_SUSPENDED, "the account is suspended", "active", status=status
        )
    return None


def check_trading_permission(ctx: CheckContext, _order: OrderRequest) -> Denial | None:
    """The account must be approved for trading."""
    if ctx.account.trading_permission:
        return None
    return deny(
        RiskReason.NO_TRADING_PERMISSION,
        "the account is not approved for trading",
        threshold=True,
        trading_permission=False,
    )


def check_mfa_enrolled(ctx: CheckContext, _order: OrderRequest) -> Denial | None:
    """Only accounts whose owner enrolled a second factor may trade."""
    if ctx.account.mfa_enrolled:
        return None
    return deny(
        RiskReason.MFA_REQUIRED, "no second factor enrolled", threshold=True, mfa_enrolled=False
    )


def check_modify_target(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A modify must name an open order of the account, in the same symbol and side."""
    if order.modifies is None:
        return None
    replaced = ctx.replaced
    if replaced is None:
        return deny(RiskReason.UNKNOWN_ORDER, "no such open order", None, modifies=order.modifies)
    if replaced.symbol != order.symbol or replaced.side is not order.side:
        return deny(
            RiskReason.INVALID_MODIFY,
            "a modify may change price and quantity only",
            f"{replaced.side} {replaced.symbol}",
            side=order.side,
            symbol=order.symbol,
        )
    return None


def check_symbol_known(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """The symbol must be in the instrument universe."""
    if ctx.instrument is not None:
        return None
    return deny(RiskReason.UNKNOWN_SYMBOL, "unknown symbol", None, symbol=order.symbol)


def check_trading_state(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """The strictest of the global, symbol and account trading states applies."""
    risk = ctx.risk
    level, state = "global", risk.global_state
    for candidate_level, candidate in (
        ("symbol", risk.symbol_states.get(order.symbol)),
        ("account", risk.account_states.get(order.account_id)),
    ):
        if candidate is not None and _STATE_SEVERITY[candidate] > _STATE_SEVERITY[state]:
            level, state = candidate_level, candidate
    if state is TradingState.HALTED:
        return deny(
            RiskReason.TRADING_HALTED, f"trading is halted ({level})", "ACTIVE", level=level
        )
    if state is TradingState.REDUCING and not reduces_position(ctx.account, order):
        return _reducing_denial(ctx, order, RiskReason.TRADING_REDUCING, level)
    return None


def check_account_restricted(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A restricted account may only reduce its positions."""
    if ctx.account.status is not AccountStatus.RESTRICTED:
        return None
    if reduces_position(ctx.account, order):
        return None
    return _reducing_denial(ctx, order, RiskReason.ACCOUNT_RESTRICTED, "account")


def check_instrument_halted(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """No orders in a halted instrument."""
    if not ctx.known_instrument().halted:
        return None
    return deny(
        RiskReason.INSTRUMENT_HALTED,
        "the instrument is halted",
        threshold=False,
        symbol=order.symbol,
    )


def check_restricted_list(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """No orders in a security on the firm's restricted list."""
    if not ctx.known_instrument().restricted:
        return None
    return deny(
        RiskReason.RESTRICTED_SECURITY,
        "the security is on the firm's restricted list",
        threshold=False,
        symbol=order.symbol,
    )


def check_quantity(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Quantity is positive and a whole number of lots."""
    if order.quantity <= 0:
        return deny(
            RiskReason.INVALID_QUANTITY, "quantity must be positive", 1, quantity=order.quantity
        )
    lot = ctx.known_instrument().lot_size
    if order.quantity % lot:
        return deny(RiskReason.LOT_SIZE, "quantity is not whole lots", lot, quantity=order.quantity)
    return None


def check_price(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A limit order has a positive price on the tick grid; a market order has none."""
    price = order.limit_price
    if order.type is OrderType.MARKET:
        if price is None:
            return None
        return deny(
            RiskReason.INVALID_PRICE, "a market order has no limit price", None, limit_price=price
        )
    if price is None or price <= 0:
        return deny(RiskReason.INVALID_PRICE, "limit price must be positive", 1, limit_price=price)
    tick = ctx.known_instrument().tick_size
    if price % tick:
        return deny(
            RiskReason.TICK_SIZE, "limit price is off the tick grid", tick, limit_price=price
        )
    return None


def check_reference_price(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Every order needs a reference price; a market order needs one no older than the limit."""
    instrument = ctx.known_instrument()
    if instrument.reference_price is None:
        return deny(RiskReason.NO_REFERENCE_PRICE, "no reference price", None, symbol=order.symbol)
    if order.type is OrderType.LIMIT:
        return None
    stamp, limit = instrument.reference_at_ns, ctx.limits.max_reference_age_ns
    if stamp is None or ctx.now_ns - stamp > limit:
        age = None if stamp is None else ctx.now_ns - stamp
        return deny(RiskReason.STALE_REFERENCE_PRICE, "reference price too old", limit, age_ns=age)
    return None


def check_price_collar(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A limit price must lie within the band around the reference price."""
    price = order.limit_price
    if price is None:
        return None
    reference = ctx.known_instrument().reference_price
    if reference is None:
        raise MissingRiskDataError("reference price missing after its check")
    width = ctx.limits.collar_width(reference)
    if reference - width <= price <= reference + width:
        return None
    return deny(
        RiskReason.PRICE_COLLAR,
        "limit price outside the price collar",
        f"{reference - width}..{reference + width}",
        limit_price=price,
        reference_price=reference,
    )


def check_price_band(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A limit price must lie within the symbol's volatility band, when it has one."""
    instrument = ctx.known_instrument()
    price, low, high = order.limit_price, instrument.band_low, instrument.band_high
    if price is None or low is None or high is None or low <= price <= high:
        return None
    return deny(
        RiskReason.PRICE_BAND,
        "limit price outside the volatility band",
        f"{low}..{high}",
        limit_price=price,
    )


def check_order_size(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Quantity and notional within the account's (or the tier's) per-order limits."""
    size = ctx.limits.size_limit(order.account_id, ctx.known_instrument().tier)
    if order.quantity > size.max_quantity:
        return deny(
            RiskReason.MAX_QUANTITY, "order too large", size.max_quantity, quantity=order.quantity
        )
    notional = ctx.notional(order)
    if notional > size.max_notional_cents:
        return deny(
            RiskReason.MAX_NOTIONAL,
            "order notional too large",
            size.max_notional_cents,
            notional_cents=notional,
        )
    return None


def check_order_rate(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """At most so many orders per second per account and per account and symbol."""
    since = ctx.now_ns - NS_PER_SECOND
    account = ctx.account
    limit = ctx.limits.max_orders_per_second
    if _count_since(account.recent_order_ns, since, limit) >= limit:
        return deny(RiskReason.ORDER_RATE, "too many orders per second", limit, orders=limit)
    limit = ctx.limits.max_symbol_orders_per_second
    stamps = account.recent_symbol_ns.get(order.symbol)
    if stamps is not None and _count_since(stamps, since, limit) >= limit:
        return deny(
            RiskReason.SYMBOL_ORDER_RATE,
            "too many orders per second in this symbol",
            limit,
            orders=limit,
            symbol=order.symbol,
        )
    return None


def check_duplicate(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """The same side, symbol, quantity and price again within the window is a duplicate."""
    if order.modifies is not None:
        return None
    seen = ctx.account.recent_fingerprints.get(
        (order.side, order.symbol, order.quantity, order.limit_price)
    )
    window = ctx.limits.duplicate_window_ns
    if seen is None or ctx.now_ns - seen > window:
        return None
    return deny(
        RiskReason.DUPLICATE_ORDER,
        "same order placed moments ago",
        window,
        age_ns=ctx.now_ns - seen,
    )


def check_sell_covered(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """A plain sell may not exceed the long position left after open sells."""
    if order.side is not Side.SELL:
        return None
    available = ctx.position - _open_sells(ctx, order)
    if order.quantity <= available:
        return None
    return deny(
        RiskReason.SELL_EXCEEDS_POSITION,
        "sell exceeds the long position; mark it short",
        available,
        quantity=order.quantity,
        position=ctx.position,
    )


def check_short_account(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Short sales need a margin account."""
    if order.side is not Side.SELL_SHORT or ctx.account.kind is AccountKind.MARGIN:
        return None
    return deny(
        RiskReason.SHORT_IN_CASH_ACCOUNT,
        "short sales need a margin account",
        "margin",
        kind=ctx.account.kind,
    )


def check_buying_power(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Cash: settled cash covers reservations; margin: equity covers the Reg T requirement."""
    account = ctx.account
    if not uses_buying_power(account, order):
        return None
    price = reservation_price(ctx.limits, ctx.known_instrument(), order)
    if price is None:
        raise MissingRiskDataError("no reservation price after the reference price check")
    needed = account.reserved_cents - ctx.replaced_field("reserved_cents")
    needed += cost_cents(price * order.quantity)
    if account.kind is AccountKind.CASH:
        return _cash_denial(account.settled_cash_cents, needed)
    return _margin_denial(ctx, account.gross_cost_cents + needed)


def check_position_limit(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """The position, with every open order on the order's side filled, stays within the limit."""
    quantities = ctx.account.open_quantities.get(order.symbol)
    replaced = ctx.replaced_field("remaining")
    if order.side is Side.BUY:
        pending = (quantities.buy if quantities is not None else 0) - replaced
        projected = ctx.position + pending + order.quantity
    else:
        projected = ctx.position - _open_sells(ctx, order) - order.quantity
    limit = ctx.limits.max_position_shares
    if abs(projected) <= limit or abs(projected) <= abs(ctx.position):
        return None
    return deny(
        RiskReason.POSITION_LIMIT,
        "position limit",
        limit,
        position=ctx.position,
        projected_position=projected,
    )


def check_gross_exposure(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """Positions at cost plus open orders plus this order stay within the exposure limit."""
    if reduces_position(ctx.account, order):
        return None
    account = ctx.account
    open_notional = account.open_notional_cents - ctx.replaced_field("open_notional_cents")
    exposure = account.gross_cost_cents + open_notional + ctx.notional(order)
    limit = ctx.limits.max_gross_exposure_cents
    if exposure <= limit:
        return None
    return deny(RiskReason.GROSS_EXPOSURE, "gross exposure limit", limit, exposure_cents=exposure)


def check_credit_threshold(ctx: CheckContext, order: OrderRequest) -> Denial | None:
    """15c3-5: today's executed plus open notional plus this order within the threshold."""
    account = ctx.account
    open_notional = account.open_notional_cents - ctx.replaced_field("open_notional_cents")
    total = account.executed_today(ctx.today) + open_notional + ctx.notional(order)
    threshold = ctx.limits.credit_threshold(order.account_id)
    if total <= threshold:
        return None
    return deny(
        RiskReason.CREDIT_THRESHOLD, "daily credit threshold", threshold, day_notional_cents=total
    )


def _reducing_denial(
    ctx: CheckContext, order: OrderRequest, reason: RiskReason, level: str
) -> Denial:
    return deny(
        reason,
        f"only orders that reduce a position are allowed ({level})",
        "reducing",
        level=level,
        position=ctx.position,
        side=order.side,
        quantity=order.quantity,
    )


def _count_since(stamps: deque[int], since: int, limit: int) -> int:
    count = 0
    for stamp in reversed(stamps):
        if stamp <= since or count >= limit:
            break
        count += 1
    return count


def _open_sells(ctx: CheckContext, order: OrderRequest) -> int:
    quantities = ctx.account.open_quantities.get(order.symbol)
    return (quantities.sell if quantities is not None else 0) - ctx.replaced_field("remaining")


def _cash_denial(settled_cents: int, needed_cents: int) -> Denial | None:
    if needed_cents <= settled_cents:
        return None
    return deny(
        RiskReason.BUYING_POWER,
        "not enough settled cash",
        settled_cents,
        needed_cents=needed_cents,
        settled_cash_cents=settled_cents,
    )


def _margin_denial(ctx: CheckContext, exposure_cents: int) -> Denial | None:
    bps = ctx.limits.initial_margin_bps
    requirement = requirement_cents(exposure_cents, bps)
    equity = ctx.account.equity_cents
    if requirement <= equity:
        return None
    return deny(
        RiskReason.BUYING_POWER,
        "Reg T initial margin exceeds equity",
        equity,
        requirement_cents=requirement,
        margin_bps=bps,
        equity_cents=equity,
    )


CHECKS: tuple[Check, ...] = (
    check_account_standing,
    check_trading_permission,
    check_mfa_enrolled,
    check_modify_target,
    check_symbol_known,
    check_trading_state,
    check_account_restricted,
    check_instrument_halted,
    check_restricted_list,
    check_quantity,
    check_price,
    check_reference_price,
    check_price_collar,
    check_price_band,
    check_order_size,
    check_order_rate,
    check_duplicate,
    check_sell_covered,
    check_short_account,
    check_reg_sho,
    check_pdt_restricted,
    check_pattern_day_trader,
    check_buying_power,
    check_position_limit,
    check_gross_exposure,
    check_credit_threshold,
)
"""Every check, in the order the engine runs them; the first denial wins."""
