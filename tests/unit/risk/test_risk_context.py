import pytest
from risk_kit import ACCOUNT, REFERENCE, SYMBOL, kit, order

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.context import UnknownOrderError
from tradeguard.risk.model import AccountKind, Locate
from tradeguard.risk.order_terms import Side


def test_fill_when_partial_fills_then_cents_rounded_once_per_order() -> None:
    risk = kit(settled_cash_cents=1_000_000)
    order_id = risk.place(order(quantity=3, limit_price=1_000_100))
    assert risk.account.reserved_cents == 30_003
    for _ in range(3):
        risk.ctx.fill(order_id, 1, 1_000_033)
    assert risk.account.settled_cash_cents == 1_000_000 - 30_001  # 300.0099 rounds up once
    assert risk.account.reserved_cents == 0
    assert risk.account.open_orders == {}
    assert risk.account.positions[SYMBOL].quantity == 3


def test_fill_when_sold_at_gain_then_equity_grows_by_realised_profit() -> None:
    risk = kit()
    risk.hold(SYMBOL, 10)
    equity = risk.account.equity_cents
    risk.ctx.fill(risk.place(order(side=Side.SELL, quantity=4)), 4, REFERENCE + 10_000)
    assert risk.account.equity_cents == equity + 4 * 100
    assert risk.account.positions[SYMBOL].cost_cents == 6 * 10_000
    assert risk.account.gross_cost_cents == 60_000


def test_fill_when_short_sale_then_locate_used_and_position_negative() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 100, risk.clock.now_ns() + NS_PER_SECOND))
    risk.ctx.fill(risk.place(order(side=Side.SELL_SHORT, quantity=30)), 30, REFERENCE)
    assert risk.account.locates[SYMBOL].quantity == 70
    assert risk.account.positions[SYMBOL].quantity == -30
    assert risk.account.positions[SYMBOL].cost_cents == -300_000


def test_fill_when_buy_covers_short_opened_today_then_day_trade_counted() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 100, risk.clock.now_ns() + NS_PER_SECOND))
    risk.ctx.fill(risk.place(order(side=Side.SELL_SHORT, quantity=30)), 30, REFERENCE)
    covered = risk.place(order(side=Side.BUY, quantity=30))
    risk.ctx.fill(covered, 10, REFERENCE)
    risk.ctx.fill(covered, 20, REFERENCE)
    assert len(risk.account.day_trade_days) == 1
    assert risk.account.positions[SYMBOL].quantity == 0


def test_cancel_when_open_then_everything_released() -> None:
    risk = kit()
    order_id = risk.place(order(quantity=10))
    risk.ctx.cancel(order_id)
    assert (risk.account.reserved_cents, risk.account.open_notional_cents) == (0, 0)
    assert risk.account.open_quantities[SYMBOL].buy == 0
    with pytest.raises(UnknownOrderError):
        risk.ctx.cancel(order_id)


def test_fill_when_more_than_remaining_then_refused() -> None:
    risk = kit()
    order_id = risk.place(order(quantity=10))
    with pytest.raises(ValueError, match="does not fit"):
        risk.ctx.fill(order_id, 11, REFERENCE)


def test_restore_when_reopening_a_stored_order_then_held_at_its_price_and_not_counted_as_flow() -> (
    None
):
    risk = kit(kind=AccountKind.MARGIN, settled_cash_cents=10_000_000)
    stored = order(side=Side.SELL_SHORT, quantity=10, limit_price=REFERENCE)
    risk.ctx.restore(stored, "stored-1", reserve_at=REFERENCE + 50_000)
    held = risk.ctx.open_order("stored-1")
    assert held.price == REFERENCE + 50_000
    assert risk.account.open_notional_cents == 10 * (REFERENCE + 50_000) // 100
    assert not risk.account.recent_order_ns
    assert not risk.account.recent_fingerprints
