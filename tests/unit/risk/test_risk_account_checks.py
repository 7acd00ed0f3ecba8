import pytest
from risk_kit import SYMBOL, kit, order

from tradeguard.risk.model import AccountKind, AccountStatus, RiskReason
from tradeguard.risk.order_terms import Side


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (AccountStatus.CLOSED, RiskReason.ACCOUNT_CLOSED),
        (AccountStatus.SUSPENDED, RiskReason.ACCOUNT_SUSPENDED),
    ],
)
def test_account_standing_when_closed_or_suspended_then_denied(status, reason) -> None:
    denial = kit(status=status).check(order())
    assert denial is not None
    assert denial.reason_code == reason
    assert denial.inputs == {"status": status}
    assert denial.threshold == "active"


def test_account_standing_when_active_then_allowed() -> None:
    assert kit().check(order()) is None


def test_trading_permission_when_missing_then_denied() -> None:
    assert kit(trading_permission=False).reason(order()) == RiskReason.NO_TRADING_PERMISSION


def test_mfa_when_not_enrolled_then_denied() -> None:
    assert kit(mfa_enrolled=False).reason(order()) == RiskReason.MFA_REQUIRED


def test_restricted_account_when_order_adds_to_position_then_denied() -> None:
    risk = kit(status=AccountStatus.ACTIVE)
    risk.hold(SYMBOL, 100)
    risk.account.status = AccountStatus.RESTRICTED
    assert risk.reason(order(side=Side.BUY, quantity=1)) == RiskReason.ACCOUNT_RESTRICTED
    assert risk.reason(order(side=Side.SELL, quantity=101)) == RiskReason.ACCOUNT_RESTRICTED


def test_restricted_account_when_order_only_reduces_then_allowed() -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    risk.account.status = AccountStatus.RESTRICTED
    assert risk.check(order(side=Side.SELL, quantity=100)) is None


def test_modify_when_order_unknown_then_denied() -> None:
    denial = kit().check(order(modifies="nope"))
    assert denial is not None
    assert denial.reason_code == RiskReason.UNKNOWN_ORDER
    assert denial.inputs == {"modifies": "nope"}


def test_modify_when_side_changes_then_denied() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    order_id = risk.place(order(side=Side.BUY))
    assert risk.reason(order(side=Side.SELL_SHORT, modifies=order_id)) == RiskReason.INVALID_MODIFY


def test_modify_when_same_side_and_symbol_then_allowed_and_replaces() -> None:
    risk = kit()
    order_id = risk.place(order(quantity=10))
    modify = order(quantity=20, modifies=order_id)
    assert risk.check(modify) is None
    new_id = risk.ctx.accept(modify)
    assert list(risk.account.open_orders) == [new_id]
    assert risk.account.open_quantities[SYMBOL].buy == 20
    assert risk.account.reserved_cents == 20 * 10_000
