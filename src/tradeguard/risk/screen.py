"""The single-pass screen: the conditions of all 26 checks in one function, no denial built.

Nearly every order passes every check, and for those the engine needs one answer: all
pass. ``passes_every_check`` evaluates the condition of every check in ``checks.CHECKS``
straight from the risk context, without building a check context or a denial and
without 26 function calls. It returns True only when every one of those checks would
return None for the same order, state, limits and time. When it returns False (or
raises), the engine runs the checks one by one and their first denial (or
``RISK_INTERNAL_ERROR``) is the answer, exactly as without the screen. So the screen
never decides a denial: if it is ever too cautious it costs time, never a wrong answer.
``test_risk_screen.py`` holds it to the checks over generated histories and
``test_risk_screen_boundaries.py`` at each check's threshold (tests/unit/risk).

It caches nothing: every value is read from the context, the limits and the order as
they are at the call, so replacing limits or instruments and changing account fields
directly need no invalidation.

Some rare cases are never screened and always take the long way: accounts that are not
``active`` (a restricted account may only reduce), any trading state other than ACTIVE
at the platform, the symbol or the account, and a modify whose target is not an open
order of the account in the same symbol and side.

Keep it in step with ``checks.py`` and ``regulatory_checks.py``: a change to a check's
condition is a change here too. The numbers in the comments are the checks' positions
in ``CHECKS``.
"""

from __future__ import annotations

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.context import RiskContext
from tradeguard.risk.model import (
    BASIS_POINTS,
    AccountKind,
    AccountStatus,
    OrderRequest,
    RiskLimits,
    TradingState,
)
from tradeguard.risk.order_terms import OrderType, Side
from tradeguard.risk.pricing import UNITS_PER_CENT, business_day

# Module constants are one dictionary read each; enum members through their class are two.
_ACTIVE_ACCOUNT = AccountStatus.ACTIVE
_ACTIVE = TradingState.ACTIVE
_CASH = AccountKind.CASH
_MARGIN = AccountKind.MARGIN
_LIMIT = OrderType.LIMIT
_MARKET = OrderType.MARKET
_BUY = Side.BUY
_SELL = Side.SELL
_SELL_SHORT = Side.SELL_SHORT
_CENT_ROUND_UP = UNITS_PER_CENT - 1  # (units + 99) // 100 is cost_cents for any integer


def passes_every_check(  # noqa: C901, PLR0911, PLR0912, PLR0915 - see below
    risk: RiskContext, limits: RiskLimits, order: OrderRequest, now_ns: int
) -> bool:
    """True only if every check in ``CHECKS`` lets ``order`` through; False: run the checks.

    One long function on purpose: it runs for every order, and each extra call or
    intermediate object costs more than the conditions themselves.
    """
    account_id = order.account_id
    account = risk.accounts.get(account_id)
    if account is None:
        return False
    # Read together, so the memory reads of these (often cold) objects overlap.
    positions, open_quantities, symbol_stamps, stamps, fingerprints = (
        account.positions,
        account.open_quantities,
        account.recent_symbol_ns,
        account.recent_order_ns,
        account.recent_fingerprints,
    )
    if (
        account.status is not _ACTIVE_ACCOUNT  # 1, 7
        or not account.trading_permission  # 2
        or not account.mfa_enrolled  # 3
    ):
        return False
    symbol = order.symbol
    instrument = risk.instruments.get(symbol)
    if instrument is None or instrument.halted or instrument.restricted:  # 5, 8, 9
        return False
    symbol_states, account_states = risk.symbol_states, risk.account_states  # 6
    if (
        risk.global_state is not _ACTIVE
        or (symbol_states and symbol_states.get(symbol, _ACTIVE) is not _ACTIVE)
        or (account_states and account_states.get(account_id, _ACTIVE) is not _ACTIVE)
    ):
        return False
    side = order.side
    modifies = order.modifies  # 4
    if modifies is None:
        replaced_remaining = replaced_reserved = replaced_notional = 0
    else:
        replaced = account.open_orders.get(modifies)
        if replaced is None or replaced.symbol != symbol or replaced.side is not side:
            return False
        replaced_remaining = replaced.remaining
        replaced_reserved = replaced.reserved_cents
        replaced_notional = replaced.open_notional_cents
    quantity = order.quantity
    if quantity <= 0 or quantity % instrument.lot_size:  # 10
        return False
    reference = instrument.reference_price
    if reference is None:  # 12
        return False
    width = limits.collar_width(reference)
    collar_top = reference + width
    price = order.limit_price
    order_type = order.type
    if order_type is _LIMIT:
        if price is None or price <= 0 or price % instrument.tick_size:  # 11
            return False
        if price > collar_top or price < reference - width:  # 13
            return False
        if not _inside_band(price, instrument.band_low, instrument.band_high):  # 14
            return False
        worst_price = price
    elif order_type is _MARKET:
        if price is not None:  # 11
            return False
        stamp = instrument.reference_at_ns  # 12
        if stamp is None or now_ns - stamp > limits.max_reference_age_ns:
            return False
        worst_price = collar_top
    else:
        return False
    # ``in`` then ``[]`` rather than ``.get``: a mapping proxy's ``get`` is a slow method call.
    overrides = limits.account_size_limits  # 15
    size = overrides[account_id] if account_id in overrides else limits.tier_limits[instrument.tier]
    notional = (worst_price * quantity + _CENT_ROUND_UP) // UNITS_PER_CENT
    if quantity > size.max_quantity or notional > size.max_notional_cents:
        return False
    # 16: with the stamps in time order, the last ``rate`` of them all in the past second
    # is exactly "rate reached"; out of order, this can only deny more, never less.
    rate = limits.max_orders_per_second
    if rate <= 0 or (len(stamps) >= rate and stamps[-rate] > now_ns - NS_PER_SECOND):
        return False
    if symbol_stamps:
        stamps_in_symbol = symbol_stamps.get(symbol)
        rate = limits.max_symbol_orders_per_second
        if stamps_in_symbol is not None and (
            rate <= 0
            or (len(stamps_in_symbol) >= rate and stamps_in_symbol[-rate] > now_ns - NS_PER_SECOND)
        ):
            return False
    if fingerprints and modifies is None:  # 17
        seen = fingerprints.get((side, symbol, quantity, price))
        if seen is not None and now_ns - seen <= limits.duplicate_window_ns:
            return False
    held = positions.get(symbol) if positions else None
    position = 0 if held is None else held.quantity
    quantities = open_quantities.get(symbol) if open_quantities else None
    # The open orders on the order's side, less the one a modify replaces.
    if side is _BUY:
        pending = (0 if quantities is None else quantities.buy) - replaced_remaining
        reduces = position < 0 and pending + quantity <= -position
        projected = position + pending + quantity
    else:
        pending = (0 if quantities is None else quantities.sell) - replaced_remaining
        reduces = position > 0 and pending + quantity <= position
        projected = position - pending - quantity
        if side is _SELL and quantity > position - pending:  # 18
            return False
    kind = account.kind
    reservation_price = worst_price
    if side is _SELL_SHORT:
        if kind is not _MARGIN:  # 19
            return False
        if instrument.threshold and risk.closeout_obligations.get(symbol, 0) > 0:  # 20
            return False
        if not instrument.easy_to_borrow:
            open_short = (0 if quantities is None else quantities.short) - replaced_remaining
            locate = account.locates.get(symbol)
            if (
                locate is None
                or locate.expires_at_ns <= now_ns
                or locate.quantity < open_short + quantity
            ):
                return False
        if price is None or price < collar_top:
            reservation_price = collar_top
    until = account.pdt_restricted_until_ns  # 21
    if until is not None and now_ns < until and not reduces:
        return False
    if kind is _CASH:
        if side is _BUY:  # 23: settled cash covers every reservation
            needed = account.reserved_cents - replaced_reserved
            needed += (reservation_price * quantity + _CENT_ROUND_UP) // UNITS_PER_CENT
            if needed > account.settled_cash_cents:
                return False
    else:
        if (  # 22
            account.opened_today
            and account.equity_cents < limits.pdt_equity_threshold_cents
            and ((position < 0) if side is _BUY else (position > 0))
            and _day_trade_limit_reached(account, symbol, limits, business_day(now_ns))
        ):
            return False
        if not reduces:  # 23: Reg T initial margin on the exposure, within equity
            exposure = account.gross_cost_cents + account.reserved_cents - replaced_reserved
            exposure += (reservation_price * quantity + _CENT_ROUND_UP) // UNITS_PER_CENT
            requirement = -(-exposure * limits.initial_margin_bps // BASIS_POINTS)
            if requirement > account.equity_cents:
                return False
    limit = limits.max_position_shares  # 24
    if abs(projected) > limit and abs(projected) > abs(position):
        return False
    open_notional = account.open_notional_cents - replaced_notional + notional
    if not reduces and account.gross_cost_cents + open_notional > limits.max_gross_exposure_cents:
        return False  # 25
    executed = account.executed_today_cents  # 26
    if executed and account.activity_day != business_day(now_ns):
        executed = 0
    thresholds = limits.account_credit_thresholds
    threshold = (
        thresholds[account_id]  # noqa: SIM401 - see the size limits above
        if account_id in thresholds
        else limits.credit_threshold_cents
    )
    return executed + open_notional <= threshold


def _day_trade_limit_reached(
    account: AccountRisk, symbol: str, limits: RiskLimits, today: int
) -> bool:
    """Whether closing shares of ``symbol`` opened today would be one day trade too many."""
    if account.opened_on(symbol, today) <= 0:
        return False
    return account.day_trades(today, limits.pdt_window_business_days) >= limits.pdt_day_trade_limit


def _inside_band(price: int, low: int | None, high: int | None) -> bool:
    """Whether ``price`` lies in the volatility band (always, without a band)."""
    return low is None or high is None or low <= price <= high
