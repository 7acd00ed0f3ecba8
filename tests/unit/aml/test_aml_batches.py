"""Filing batches: SARs or CTRs ready to file merged into one valid FinCEN batch with totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aml_kit import FILER, schema_errors
from lxml import etree

from tradeguard.aml.batches import merge
from tradeguard.aml.ctr_xml import CurrencyReport, build_ctr
from tradeguard.aml.currency_reports import CashLedger
from tradeguard.aml.findings import Typology
from tradeguard.aml.sar import SarDraft
from tradeguard.aml.sar_xml import build_sar
from tradeguard.aml.transactions import CustomerProfile, Kind, Method, Transaction

NOON = int(datetime(2026, 3, 2, 17, tzinfo=UTC).timestamp()) * 10**9
NS = "{www.fincen.gov/base}"


def ctr(customer: str, cents_in: int, cents_out: int) -> bytes:
    ledger = CashLedger()
    for n, (kind, cents) in enumerate(((Kind.DEPOSIT, cents_in), (Kind.WITHDRAWAL, cents_out))):
        if cents:
            ledger.add(
                Transaction(NOON + n, f"{customer}{n}", "A1", customer, kind, Method.CASH, cents)
            )
    (day,) = ledger.reportable()
    report = CurrencyReport(
        CustomerProfile(customer, name="Ann Lee"), day, day.reportable_in(), day.reportable_out()
    )
    return build_ctr(report, FILER, date(2026, 3, 5))


def sar(amount_cents: int) -> bytes:
    draft = SarDraft(
        subject=CustomerProfile("C1", name="Ann Lee", dob="1980-01-02"), accounts=("A1",),
        typologies=(Typology.STRUCTURING,), activity_from=date(2026, 3, 2),
        activity_to=date(2026, 3, 9), amount_cents=amount_cents, narrative="x" * 250,
        detected_on=date(2026, 3, 10),
    )  # fmt: skip
    return build_sar(draft, FILER, date(2026, 3, 12) + timedelta(days=1))


def test_merge_ctrs_when_three_ready_then_one_valid_batch_with_summed_totals() -> None:
    documents = [ctr("C1", 1_200_000, 0), ctr("C2", 0, 1_500_050), ctr("C3", 1_100_000, 1_300_000)]
    merged, totals = merge("CTRX", documents)
    assert schema_errors("CTRX", merged) == []
    assert totals == {
        "TotalAmount": 12_000 + 15_001 + 11_000 + 13_000,
        "PartyCount": 3,
        "ActivityCount": 3,
    }
    root = etree.fromstring(merged)
    assert len(root.findall(f"{NS}Activity")) == 3
    numbers = [node.get("SeqNum") for node in root.iter() if node.get("SeqNum")]
    assert len(numbers) == len(set(numbers))


def test_merge_sars_when_two_ready_then_one_valid_batch() -> None:
    merged, totals = merge("SARX", [sar(3_840_000), sar(1_000_000)])
    assert schema_errors("SARX", merged) == []
    assert (totals["ActivityCount"], totals["TotalAmount"]) == (2, 48_400)
