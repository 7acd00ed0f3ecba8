"""A batch's cash: what units of work post themselves and the rest per account."""

from __future__ import annotations

import itertools
from typing import cast

import pytest
from sqlalchemy.orm import Session

from tradeguard.ledger import desk_cash
from tradeguard.ledger.desk_cash import DeskCash, desk_entry
from tradeguard.ledger.journal import (
    EntryKind,
    FirmAccount,
    JournalEntry,
    UnbalancedEntryError,
    settled_cash,
    transfer,
    unsettled_cash,
)


def test_desk_entry_when_a_buy_then_cash_leaves_to_clearing() -> None:
    entry = desk_entry("e1", EntryKind.TRADE, "a", (-1000, 0))
    assert entry.lines == ((settled_cash("a"), 1000), (FirmAccount.CLEARING.value, -1000))


def test_desk_entry_when_settling_then_unsettled_moves_to_settled_only() -> None:
    entry = desk_entry("e1", EntryKind.SETTLEMENT, "a", (500, -500))
    assert entry.lines == ((settled_cash("a"), -500), (unsettled_cash("a"), 500))


def test_entry_when_lines_do_not_sum_to_zero_then_refused() -> None:
    with pytest.raises(UnbalancedEntryError):
        JournalEntry("e", EntryKind.FEE, (("x", 1), ("y", -2)))
    with pytest.raises(UnbalancedEntryError):
        JournalEntry("e", EntryKind.FEE, (("x", 0),))


def test_desk_cash_when_a_deposit_was_posted_then_only_the_rest_is_journaled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[JournalEntry] = []
    monkeypatch.setattr(desk_cash, "post", lambda _db, entries, _now: written.extend(entries))
    cash = DeskCash()
    deposit = transfer(
        "d",
        EntryKind.DEPOSIT,
        FirmAccount.ACH_RECEIVABLE.value,
        settled_cash("a"),
        700,
        account_id="a",
    )
    cash.add(deposit)
    cash.observe("a", (1000, 0), (1500, 0))  # the deposit (+700) and a buy (-200)
    cash.observe("b", (0, 0), (0, 0))
    ids = (f"id{n}" for n in itertools.count())
    cash.write(cast("Session", None), {"a"}, lambda: next(ids), 0)
    assert written[0] is deposit
    assert written[1].lines == ((settled_cash("a"), 200), (FirmAccount.CLEARING.value, -200))
    assert len(written) == 2
