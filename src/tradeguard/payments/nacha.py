"""NACHA files: the fixed-width ACH format banks take (94-character records, blocks of 10).

One file holds one batch of PPD entries: credits to customers' accounts (withdrawals)
and debits of them (ACH pulls). The layout follows the NACHA Operating Rules: a file
header (1), a batch header (5), entry details (6), a batch control (8) and a file
control (9), padded with records of nines to a multiple of ten. The entry hash is the
sum of the receiving banks' eight-digit routing prefixes, its last ten digits kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from anyascii import anyascii

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
CREDIT_CODES = {"checking": "22", "savings": "32"}
DEBIT_CODES = {"checking": "27", "savings": "37"}


@dataclass(frozen=True, slots=True)
class Originator:
    """The firm as the bank knows it."""

    bank_routing: str
    """The originating bank (ODFI), nine digits."""
    company_id: str
    """Ten characters, often "1" and the employer identification number."""
    company_name: str
    bank_name: str


@dataclass(frozen=True, slots=True)
class AchEntry:
    """One entry: money to (credit) or from (debit) a customer's bank account."""

    routing_number: str
    account_number: str
    account_type: str
    amount_cents: int
    credit: bool
    individual_id: str
    individual_name: str


def _alpha(text: str, width: int) -> str:
    return anyascii(text).upper()[:width].ljust(width)


def _number(value: int, width: int) -> str:
    text = str(value)
    if value < 0 or len(text) > width:
        raise ValueError(f"{value} does not fit {width} digits")
    return text.zfill(width)


def nacha_file(  # noqa: PLR0913 - what a file is made of
    originator: Originator,
    entries: Sequence[AchEntry],
    created: datetime,
    effective: datetime,
    *,
    description: str = "BROKERAGE",
    file_id: str = "A",
) -> str:
    """The whole file, lines joined by newlines (each exactly 94 characters)."""
    odfi = originator.bank_routing[:8]
    details = [_entry(entry, odfi, number) for number, entry in enumerate(entries, start=1)]
    debit = sum(e.amount_cents for e in entries if not e.credit)
    credit = sum(e.amount_cents for e in entries if e.credit)
    entry_hash = sum(int(e.routing_number[:8]) for e in entries) % 10**10
    service = "200" if debit and credit else ("225" if debit else "220")
    records = [
        _file_header(originator, created, file_id),
        _batch_header(originator, service, description, effective),
        *details,
        "8"
        + service
        + _number(len(entries), 6)
        + _number(entry_hash, 10)
        + _number(debit, 12)
        + _number(credit, 12)
        + _alpha(originator.company_id, 10)
        + " " * 25
        + odfi
        + _number(1, 7),
    ]
    blocks = -(-(len(records) + 1) // BLOCKING_FACTOR)
    records.append(
        "9"
        + _number(1, 6)
        + _number(blocks, 6)
        + _number(len(entries), 8)
        + _number(entry_hash, 10)
        + _number(debit, 12)
        + _number(credit, 12)
        + " " * 39
    )
    records += ["9" * RECORD_LENGTH] * (blocks * BLOCKING_FACTOR - len(records))
    if any(len(record) != RECORD_LENGTH for record in records):
        raise ValueError("a NACHA record is not 94 characters")
    return "\n".join(records) + "\n"


def _file_header(originator: Originator, created: datetime, file_id: str) -> str:
    return (
        "101"
        " "
        + originator.bank_routing
        + _alpha(originator.company_id, 10)
        + created.strftime("%y%m%d%H%M")
        + file_id
        + "094"
        + "10"
        + "1"
        + _alpha(originator.bank_name, 23)
        + _alpha(originator.company_name, 23)
        + " " * 8
    )


def _batch_header(
    originator: Originator, service: str, description: str, effective: datetime
) -> str:
    return (
        "5"
        + service
        + _alpha(originator.company_name, 16)
        + " " * 20
        + _alpha(originator.company_id, 10)
        + "PPD"
        + _alpha(description, 10)
        + " " * 6
        + effective.strftime("%y%m%d")
        + " " * 3
        + "1"
        + originator.bank_routing[:8]
        + _number(1, 7)
    )


def _entry(entry: AchEntry, odfi: str, number: int) -> str:
    codes = CREDIT_CODES if entry.credit else DEBIT_CODES
    return (
        "6"
        + codes[entry.account_type]
        + entry.routing_number
        + entry.account_number[:17].ljust(17)
        + _number(entry.amount_cents, 10)
        + _alpha(entry.individual_id, 15)
        + _alpha(entry.individual_name, 22)
        + "  "
        + "0"
        + odfi
        + _number(number, 7)
    )
