"""Transactions for monitor tests, and FinCEN's schemas for validating generated reports."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from lxml import etree

from tradeguard.aml.filer import FilingInstitution
from tradeguard.aml.transactions import NS_PER_DAY, Kind, Method, Transaction, parse_cents

SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "schemas" / "fincen"
MONDAY_NOON_NY = int(datetime(2026, 3, 2, 17, tzinfo=UTC).timestamp()) * 10**9
HOUR = NS_PER_DAY // 24
FILER = FilingInstitution(
    "Example Securities LLC", "123456789", "1 Main St", "New York", "NY", "10001",
    "AML Office", "2125550100", "TCC12345",
)  # fmt: skip


@cache
def fincen_schema(form: str) -> etree.XMLSchema:
    """FinCEN's batch schema of ``form`` (``CTRX`` or ``SARX``), from the shared folder."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / f"EFL_{form}BatchSchema.xsd")))


def schema_errors(form: str, document: bytes) -> list[str]:
    """What FinCEN's schema finds wrong with ``document`` (empty when valid)."""
    schema = fincen_schema(form)
    valid = schema.validate(etree.fromstring(document))
    return [] if valid else [str(e) for e in schema.error_log]


class Txns:
    """Builds transactions with increasing ids at given day offsets from a Monday noon."""

    def __init__(self, customer: str = "C1") -> None:
        self.customer = customer
        self.count = 0

    def make(  # noqa: PLR0913 - a builder of test rows
        self,
        day: float,
        kind: str,
        amount: str,
        method: str = "cash",
        *,
        account: str = "A1",
        counterparty: str | None = None,
        country: str | None = None,
    ) -> Transaction:
        """One transaction ``day`` days after Monday noon (New York)."""
        self.count += 1
        return Transaction(
            ts=MONDAY_NOON_NY + int(day * NS_PER_DAY), txn_id=f"T{self.count}", account=account,
            customer=self.customer, kind=Kind(kind), method=Method(method),
            cents=parse_cents(amount), counterparty=counterparty, counterparty_country=country,
        )  # fmt: skip
