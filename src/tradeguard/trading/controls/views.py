"""Trading controls, stored and in memory, as the control routes show them."""

from __future__ import annotations

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.money import Price
from tradeguard.risk.model import Locate
from tradeguard.trading.controls.limits_store import LimitValue
from tradeguard.trading.controls.risk_controls import Listing
from tradeguard.trading.controls.schemas import (
    AccountControlView,
    CloseoutView,
    ControlChangeView,
    InstrumentView,
    LimitView,
    LocateView,
    TradingStateView,
)
from tradeguard.trading.controls.trading_controls import AccountStanding, ControlChange
from tradeguard.trading.models import CloseoutObligationRow, LocateRow, TradingStateRow
from tradeguard.trading.orders.views import order_view


def change_view(change: ControlChange) -> ControlChangeView:
    """What a control request changed, and the orders it cancelled."""
    return ControlChangeView(
        event=change.event,
        subject=change.subject,
        before=change.before,
        after=change.after,
        reason=change.reason,
        cancelled_orders=[order_view(row) for row in change.cancelled],
    )


def state_view(row: TradingStateRow) -> TradingStateView:
    """A stored trading state."""
    return TradingStateView(
        scope=row.scope,
        key=row.key,
        state=row.state,
        reason=row.reason,
        set_by=row.set_by,
        set_at=ns_to_rfc3339(row.set_at_ns),
    )


def standing_view(standing: AccountStanding) -> AccountControlView:
    """An account as compliance sees it."""
    return AccountControlView(
        **standing.view.model_dump(),
        user_id=standing.user_id,
        trading_permission=standing.trading_permission,
        account_trading_state=standing.account_state.value,
        open_orders=standing.open_orders,
        restrictions=list(standing.restrictions),
    )


def limit_view(limit: LimitValue) -> LimitView:
    """One limit as it applies now."""
    rule, override = limit.definition, limit.override
    return LimitView(
        scope=limit.scope,
        name=rule.public_name,
        unit=rule.public_unit,
        value=rule.shown(limit.value),
        default=rule.shown(limit.default),
        overridden=override is not None,
        updated_by=None if override is None else override.updated_by,
        updated_at=None if override is None else ns_to_rfc3339(override.updated_at_ns),
    )


def instrument_view(listing: Listing) -> InstrumentView:
    """An instrument, with the reference price the checks use now."""
    row, live = listing.row, listing.live
    reference = row.reference_price if live is None else live.reference_price
    reference_at = row.reference_at_ns if live is None else live.reference_at_ns
    return InstrumentView(
        symbol=row.symbol,
        name=row.name,
        tier=row.tier,
        tick_size=Price(row.tick_size),
        lot_size=row.lot_size,
        reference_price=None if reference is None else Price(reference),
        reference_at=None if reference_at is None else ns_to_rfc3339(reference_at),
        status=row.status,
        trading_state=listing.state.value,
        restricted=row.restricted,
        threshold=row.threshold,
        easy_to_borrow=row.easy_to_borrow,
    )


def locate_view(row: LocateRow, live: Locate | None, now_ns: int) -> LocateView:
    """A locate with the shares the checks still allow (``live``, when the desk holds it)."""
    quantity = row.quantity if live is None else live.quantity
    return LocateView(
        account_id=row.account_id,
        symbol=row.symbol,
        quantity=quantity,
        expires_at=ns_to_rfc3339(row.expires_at_ns),
        active=quantity > 0 and row.expires_at_ns > now_ns,
        granted_by=row.granted_by,
        granted_at=ns_to_rfc3339(row.granted_at_ns),
    )


def closeout_view(row: CloseoutObligationRow, *, threshold: bool) -> CloseoutView:
    """An open close-out obligation."""
    return CloseoutView(
        symbol=row.symbol,
        shares=row.shares,
        threshold=threshold,
        fails_since=ns_to_rfc3339(row.fails_since_ns),
        updated_by=row.updated_by,
        updated_at=ns_to_rfc3339(row.updated_at_ns),
    )
