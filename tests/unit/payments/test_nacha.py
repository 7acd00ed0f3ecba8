"""The NACHA file: record lengths, blocking, totals, entry hash and transaction codes."""

from __future__ import annotations

from datetime import UTC, datetime

from tradeguard.payments.nacha import AchEntry, Originator, nacha_file

FIRM = Originator("091000019", "1234567890", "TradeGuard Securities", "Example Bank")
WHEN = datetime(2026, 11, 23, 15, 4, tzinfo=UTC)


def _entry(amount: int, *, credit: bool, routing: str = "021000021") -> AchEntry:
    return AchEntry(routing, "9876543210123", "checking", amount, credit, "W-1", "Ann Lee")


def test_file_when_a_credit_and_a_debit_then_totals_hash_and_codes_follow_the_rules() -> None:
    entries = [_entry(20_000, credit=True), _entry(5_000, credit=False, routing="011000015")]
    lines = nacha_file(FIRM, entries, WHEN, WHEN).splitlines()
    assert len(lines) == 10
    assert all(len(line) == 94 for line in lines)
    assert [line[0] for line in lines[:6]] == ["1", "5", "6", "6", "8", "9"]
    assert lines[0][3:13] == " 091000019"
    assert lines[0][23:33] == "2611231504"
    assert lines[1][1:4] == "200"
    assert lines[1][50:53] == "PPD"
    credit, debit = lines[2], lines[3]
    assert (credit[1:3], debit[1:3]) == ("22", "27")
    assert credit[3:12] == "021000021"
    assert credit[12:29] == "9876543210123    "
    assert credit[29:39] == "0000020000"
    assert credit[79:94] == "091000010000001"
    control = lines[4]
    assert control[4:10] == "000002"
    assert control[10:20] == str(2100002 + 1100001).zfill(10)
    assert (control[20:32], control[32:44]) == ("000000005000", "000000020000")
    assert lines[5][1:7] == "000001"
    assert lines[5][7:13] == "000001"
    assert lines[6:] == ["9" * 94] * 4
