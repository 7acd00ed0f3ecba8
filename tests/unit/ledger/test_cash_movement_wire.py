"""A cash movement and the desk's answer cross the desk channel (gateway workers) intact."""

from __future__ import annotations

from tradeguard.ledger.journal import EntryKind, FirmAccount, settled_cash, transfer
from tradeguard.ledger.movements import CashMovement, CashPosted
from tradeguard.trading.channel.catalogue import desk_codec


def test_codec_when_a_cash_movement_and_its_answer_cross_then_equal_values_arrive() -> None:
    codec = desk_codec()
    entry = transfer(
        "e-1",
        EntryKind.WITHDRAWAL,
        settled_cash("a-1"),
        FirmAccount.WITHDRAWALS_PAYABLE.value,
        2_500,
        account_id="a-1",
        reference="withdrawal:w-1:debit",
    )
    sent = CashMovement(entry, keep_cents=700, may_overdraw=False)
    arrived = codec.decode(codec.encode(sent))
    assert arrived == sent
    assert arrived.change_cents == -2_500
    answer = CashPosted("e-1", posted=True, settled_cash_cents=100)
    assert codec.decode(codec.encode(answer)) == answer
