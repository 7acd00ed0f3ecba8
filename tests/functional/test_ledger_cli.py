"""``tradeguard ledger verify``: an opened account's deposit is journaled; a difference fails."""

from __future__ import annotations

import pytest
from identity_flows import Person
from sqlalchemy import text
from test_trading_cli import Tradeguard, alice, keys, tradeguard

from support import TestDatabase

__all__ = ["alice", "keys", "tradeguard"]  # the fixtures this module borrows


@pytest.mark.usefixtures("keys")
def test_ledger_verify_when_deposit_journaled_then_agrees_and_when_changed_then_exit_one(
    tradeguard: Tradeguard, alice: Person, clean_database: TestDatabase
) -> None:
    code, _, err = tradeguard(
        "accounts", "open", alice.email, "--kind", "cash", "--deposit", "250.00"
    )
    assert code == 0, err
    code, out, err = tradeguard("ledger", "verify")
    assert (code, out) == (0, "ledger verified: 1 entries, 2 lines, all balances agree\n"), err
    with clean_database.engine.begin() as connection:
        connection.execute(text("UPDATE trading_accounts SET settled_cash_cents = 30000"))
    code, _, err = tradeguard("ledger", "verify")
    assert code == 1
    assert "settled cash: stored 300.00, journal 250.00 (differs by 50.00)" in err
    assert "ledger verify FAILED: 1 difference(s)" in err
