"""Reading a replay directory: customers.csv, accounts.csv and transactions.jsonl."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from tradeguard.aml.transactions import (
    AmlInputError,
    CustomerProfile,
    Kind,
    Method,
    Transaction,
    parse_cents,
    parse_micros,
)

CUSTOMER_COLUMNS = (
    "customer", "name", "dob", "country", "occupation", "annual_income", "source_of_funds",
)  # fmt: skip
ACCOUNT_COLUMNS = ("account", "customer", "opened")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KINDS = {k.value: k for k in Kind}
_METHODS = {m.value: m for m in Method}
BATCH_BYTES = 1 << 20
"""About how much of ``transactions.jsonl`` is read and parsed at a time."""
_MIN_CENT_DIGITS, _MAX_CENT_DIGITS = 3, 15
"""``parse_cents``'s limits: one to 13 whole digits, and two of cents."""
_new_tuple = tuple.__new__
"""Builds a ``Transaction`` from its fields without the named tuple's Python-level ``__new__``."""


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise AmlInputError(f"{path.name} is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise AmlInputError(f"{path.name} lacks columns {sorted(missing)}")
        yield from reader


def read_customers(path: Path) -> dict[str, CustomerProfile]:
    """The customers' declared profiles by customer id."""
    return {
        row["customer"]: _profile(row, n) for n, row in enumerate(_rows(path, CUSTOMER_COLUMNS), 2)
    }


def _profile(row: dict[str, str], line: int) -> CustomerProfile:
    dob = (row["dob"] or "").strip()
    if dob and not _DATE.fullmatch(dob):
        raise AmlInputError(f"customers.csv line {line}: dob {dob!r} is not YYYY-MM-DD")
    income = (row["annual_income"] or "").strip()
    try:
        income_cents = parse_cents(income) if income else 0
    except AmlInputError as exc:
        raise AmlInputError(f"customers.csv line {line}: {exc}") from None
    return CustomerProfile(
        customer=row["customer"], name=row["name"] or "", dob=dob,
        country=(row["country"] or "").strip(), occupation=row["occupation"] or "",
        annual_income_cents=income_cents, source_of_funds=row["source_of_funds"] or "",
    )  # fmt: skip


def read_accounts(path: Path) -> dict[str, str]:
    """Which customer holds each account."""
    return {row["account"]: row["customer"] for row in _rows(path, ACCOUNT_COLUMNS)}


def read_transactions(path: Path, owners: dict[str, str]) -> Iterator[Transaction]:
    """The transactions of ``path`` in file order, each with its account's customer."""
    for batch in read_transaction_batches(path, owners):
        yield from batch


def read_transaction_batches(path: Path, owners: dict[str, str]) -> Iterator[list[Transaction]]:
    """The transactions of ``path`` in file order, about ``BATCH_BYTES`` at a time."""
    if not path.is_file():
        raise AmlInputError(f"{path.name} is missing")
    with path.open("rb") as handle:
        first = 1
        while lines := handle.readlines(BATCH_BYTES):
            try:
                yield _batch(lines, owners)
            except (ValueError, KeyError, TypeError, AttributeError, AmlInputError, IndexError):
                yield _checked_batch(lines, first, owners)  # names the line that is wrong
            first += len(lines)


def _batch(lines: list[bytes], owners: dict[str, str]) -> list[Transaction]:
    """The lines' transactions, for well-formed lines only: anything else raises.

    The same fields as ``_transaction`` with the loop's lookups bound once; a blank or bad
    line makes the caller read the batch again line by line, for the error's line number.
    """
    loads, kinds, methods, cents_of, new = orjson.loads, _KINDS, _METHODS, _cents, _new_tuple
    batch: list[Transaction] = []
    append = batch.append
    for line in lines:
        raw = loads(line)
        account, price = raw["account"], raw.get("price")
        append(new(Transaction, (
            int(raw["ts"]), str(raw["txn_id"]), account, owners[account],
            kinds[raw["kind"]], methods[raw["method"]], cents_of(raw["amount"]),
            raw.get("counterparty") or None, raw.get("counterparty_country") or None,
            raw.get("symbol") or None, parse_micros(price) if price else 0,
        )))  # fmt: skip
    return batch


def _cents(text: str) -> int:
    """``parse_cents`` for the common ``dddd.cc`` shape in one step; the others through it."""
    digits = text.replace(".", "", 1)
    if (
        text[-3:-2] == "."
        and digits.isdigit()
        and digits.isascii()
        and _MIN_CENT_DIGITS <= len(digits) <= _MAX_CENT_DIGITS
    ):
        return int(digits)
    return parse_cents(text)


def _checked_batch(lines: list[bytes], first: int, owners: dict[str, str]) -> list[Transaction]:
    return [
        _transaction(line, number, owners)
        for number, line in enumerate(lines, first)
        if line.strip()
    ]


def _transaction(line: bytes, number: int, owners: dict[str, str]) -> Transaction:
    try:
        raw = orjson.loads(line)
        account = raw["account"]
        price = raw.get("price")
        fields = (
            int(raw["ts"]),
            str(raw["txn_id"]),
            account,
            owners[account],
            _KINDS[raw["kind"]],
            _METHODS[raw["method"]],
            parse_cents(raw["amount"]),
            raw.get("counterparty") or None,
            raw.get("counterparty_country") or None,
            raw.get("symbol") or None,
            parse_micros(price) if price else 0,
        )
        return _new_tuple(Transaction, fields)
    except (ValueError, KeyError, TypeError, AttributeError, AmlInputError) as exc:
        raise AmlInputError(f"transactions.jsonl line {number}: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"unknown or missing {exc.args[0]!r}"
    return str(exc)
