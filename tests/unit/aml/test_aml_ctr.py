"""Currency transaction reports: the aggregation rule and FinCEN's CTRX schema."""

from datetime import date

from aml_kit import FILER, HOUR, Txns, schema_errors
from lxml import etree

from tradeguard.aml.ctr_xml import CurrencyReport, build_ctr
from tradeguard.aml.currency_reports import CashDay, CashLedger
from tradeguard.aml.fincen_xml import NAMESPACE
from tradeguard.aml.transactions import CustomerProfile, Transaction

PROFILE = CustomerProfile("C1", name="Ana Maria de Souza", dob="1980-02-29", country="US")


def reportable(txns: list[Transaction]) -> list[CashDay]:
    """The CTR days of ``txns``."""
    ledger = CashLedger()
    for txn in txns:
        ledger.add(txn)
    return ledger.reportable()


def test_ctr_when_exactly_ten_thousand_then_none_and_one_cent_more_then_one() -> None:
    t = Txns()
    assert reportable([t.make(0, "deposit", "6000"), t.make(0.1, "deposit", "4000")]) == []
    (day,) = reportable([t.make(0, "deposit", "6000"), t.make(0.1, "deposit", "4000.01")])
    assert day.cash_in.cents == 1_000_001


def test_ctr_when_cash_in_and_out_then_never_netted() -> None:
    t = Txns()
    (day,) = reportable([t.make(0, "deposit", "12000"), t.make(0.1, "withdrawal", "11000")])
    assert (day.cash_in.cents, day.cash_out.cents) == (1_200_000, 1_100_000)
    assert day.reportable_in()
    assert day.reportable_out()


def test_ctr_when_cash_spread_over_accounts_then_aggregated_per_customer() -> None:
    t = Txns()
    (day,) = reportable(
        [t.make(0, "deposit", "6000", account="A1"), t.make(0.1, "deposit", "6000", account="A2")]
    )
    assert day.cash_in.accounts == {"A1": 600_000, "A2": 600_000}


def test_ctr_when_not_cash_then_not_counted() -> None:
    t = Txns()
    assert (
        reportable([t.make(0, "deposit", "60000", "wire"), t.make(0, "sell", "60000", "trade")])
        == []
    )


def test_ctr_days_are_new_york_dates() -> None:
    t = Txns()
    late = t.make(0.4, "deposit", "6000")  # 21:36 New York (02:36 UTC the next day)
    next_day = t.make(0.55, "deposit", "6000")  # 01:12 New York the next day
    assert reportable([late, next_day]) == []
    (day,) = reportable([late, t.make(0.45, "deposit", "6000")])
    assert day.day == date(2026, 3, 2)
    assert late.ts // HOUR % 24 == 2


def _document(report: CurrencyReport) -> etree._Element:
    data = build_ctr(report, FILER, date(2026, 3, 5))
    assert schema_errors("CTRX", data) == []
    return etree.fromstring(data)


def _text(root: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in root.iter(f"{{{NAMESPACE}}}{name}")]


def test_ctr_xml_when_cash_in_only_then_valid_with_whole_dollars_rounded_up() -> None:
    t = Txns()
    (day,) = reportable(
        [
            t.make(0, "deposit", "6000.01", account="A1"),
            t.make(0.1, "deposit", "5000", account="A2"),
        ]
    )
    root = _document(CurrencyReport(PROFILE, day, report_in=True, report_out=False))
    assert _text(root, "TotalCashInReceiveAmountText") == ["11001"]
    assert _text(root, "TotalCashOutAmountText") == [""]
    assert root.get("TotalAmount") == "11001"
    assert _text(root, "AccountNumberText") == ["A1", "A2"]
    assert _text(root, "RawEntityIndividualLastName")[-1] == "Souza"
    assert _text(root, "AggregateTransactionIndicator") == ["Y"]
    assert _text(root, "TransactionDateText") == ["20260302"]


def test_ctr_xml_when_both_directions_then_both_reported() -> None:
    t = Txns()
    (day,) = reportable([t.make(0, "deposit", "12000"), t.make(0.1, "withdrawal", "11000")])
    root = _document(CurrencyReport(PROFILE, day, report_in=True, report_out=True))
    assert _text(root, "DetailTransactionAmountText") == ["12000", "11000"]
    assert root.get("TotalAmount") == "23000"


def test_ctr_xml_when_names_hold_odd_characters_then_still_valid() -> None:
    t = Txns()
    (day,) = reportable([t.make(0, "deposit", "12000")])
    odd = CustomerProfile("C1", name="  Zoë\t\x07O'Brien   " + "x" * 300, dob="", country="")
    root = _document(CurrencyReport(odd, day, report_in=True, report_out=False))
    assert _text(root, "RawIndividualFirstName")[-1] == "Zoë"


def test_ctr_xml_when_tampered_then_schema_refuses_it() -> None:
    t = Txns()
    (day,) = reportable([t.make(0, "deposit", "12000")])
    data = build_ctr(
        CurrencyReport(PROFILE, day, report_in=True, report_out=False), FILER, date(2026, 3, 5)
    )
    assert schema_errors("CTRX", data.replace(b"<fc2:FormTypeCode>CTRX", b"<fc2:FormTypeCode>SARX"))
    assert schema_errors("CTRX", data.replace(b">20260302<", b">2026-03-02<"))
