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
    if not path.is_file():
        raise AmlInputError(f"{path.name} is missing")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield _transaction(line, number, owners)


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
