"""A seeded generator of customers, accounts and transactions with labelled typologies and traps.

It writes a replay directory (the contract's three files) plus ``labels.json``: the
customers each typology was planted on, and the cash days a CTR is due for. Ordinary
customers carry the traps: payroll by ACH just under $10,000 (not cash), one large
legitimate cash deposit (a CTR, not structuring), small-business owners with many payers,
and active traders who deposit, trade a lot and withdraw; day traders who buy and sell
listed shares priced well above $5 within the day, and penny-stock buyers who hold.
Trades of the low-priced plants and of those traps name their security and share price
(the contract's optional ``symbol`` and ``price``); other trades do not.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradeguard.aml.transactions import NS_PER_DAY, format_dollars

START = int(datetime(2026, 3, 2, 14, tzinfo=UTC).timestamp()) * 10**9
HOUR = NS_PER_DAY // 24
SAFE_COUNTRIES = ("US", "CA", "GB", "DE", "FR", "JP", "AU", "MX")
CASH_SHARE = 0.3
"""Ordinary customers who make one small cash deposit."""
TOKEN_TRADE_SHARE = 0.5
"""Rapid movers who make one token trade."""
LISTED_COUNTRIES = ("IR", "KP", "MM", "VE", "SY", "YE", "HT", "LB")


@dataclass
class Book:
    """What the generator has produced so far."""

    rng: random.Random
    days: int
    customers: list[dict[str, str]] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    txns: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)

    def customer(
        self, kind: str, occupation: str, income: int, source: str, n_acc: int = 1
    ) -> list[str]:
        """Add a customer; their account ids."""
        cid = f"C{len(self.customers) + 1:05d}"
        name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        r = self.rng.randint
        dob = f"{r(1950, 2003)}-{r(1, 12):02d}-{r(1, 28):02d}"
        self.customers.append({"customer": cid, "name": name, "dob": dob, "country": "US",
                               "occupation": occupation, "annual_income": f"{income}.00",
                               "source_of_funds": source, "_kind": kind})  # fmt: skip
        ids = [f"A{len(self.accounts) + i + 1:06d}" for i in range(n_acc)]
        self.accounts.extend((a, cid, "2024-01-15") for a in ids)
        return ids

    def add(self, ts: int, account: str, kind: str, method: str, cents: int, **extra: str) -> None:
        """Add one transaction."""
        self.txns.append({"ts": ts, "account": account, "kind": kind, "method": method,
                          "amount": format_dollars(cents), **extra})  # fmt: skip

    def label(self, typology: str, accounts: list[str]) -> None:
        """Record that ``typology`` was planted on the customer of ``accounts``."""
        owner = next(c for a, c, _ in self.accounts if a == accounts[0])
        self.labels.setdefault(typology, []).append(owner)

    def moment(self, day: int | None = None) -> int:
        """A time during business hours (New York) on ``day`` (random when None)."""
        d = self.rng.randrange(self.days) if day is None else day
        return START + d * NS_PER_DAY + self.rng.randrange(8 * HOUR)


FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon")
LAST = ("Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Rossi", "Tanaka", "Silva")


def _salary(b: Book, account: str, monthly: int, employer: str) -> None:
    for day in range(0, b.days, 14):
        b.add(b.moment(day), account, "deposit", "ach", monthly // 2, counterparty=employer,
              counterparty_country="US")  # fmt: skip


def _trades(b: Book, account: str, count: int, size: int) -> None:
    for _ in range(count):
        kind = b.rng.choice(("buy", "sell"))
        b.add(b.moment(), account, kind, "trade", b.rng.randint(size // 4, size))


def ordinary(b: Book) -> None:
    """A salaried customer: payroll, a few trades, the odd withdrawal."""
    income = b.rng.randint(40_000, 180_000)
    (acc,) = b.customer("ordinary", "engineer", income, "salary")
    _salary(b, acc, income * 100 // 12, f"EMP{b.rng.randint(1, 400)}")
    _trades(b, acc, b.rng.randint(2, 15), 500_000)
    for _ in range(b.rng.randint(0, 2)):
        b.add(b.moment(), acc, "withdrawal", "ach", b.rng.randint(20_000, 300_000),
              counterparty=f"BANK-{acc}", counterparty_country="US")  # fmt: skip
    if b.rng.random() < CASH_SHARE:
        b.add(b.moment(), acc, "deposit", "cash", b.rng.randint(20_000, 400_000))


def payroll_just_under(b: Book) -> None:
    """Trap: payroll by ACH of $9,500-$9,990 twice a month is not cash, so not structuring."""
    (acc,) = b.customer("payroll_trap", "surgeon", 480_000, "salary")
    for day in range(0, b.days, 14):
        b.add(b.moment(day), acc, "deposit", "ach", b.rng.randint(950_000, 999_000),
              counterparty="HOSPITAL-1", counterparty_country="US")  # fmt: skip


def large_cash(b: Book) -> None:
    """Trap: one large legitimate cash deposit: a CTR, no structuring."""
    (acc,) = b.customer("large_cash", "dentist", 250_000, "sale of a car")
    b.add(b.moment(), acc, "deposit", "cash", b.rng.randint(1_200_000, 3_000_000))
    _salary(b, acc, 2_000_000, "CLINIC-9")


def small_business(b: Book) -> None:
    """Trap: a restaurant owner paid by many customers and paying many suppliers."""
    (acc,) = b.customer("business", "restaurant owner", 150_000, "business income")
    for day in range(b.days):
        for _ in range(b.rng.randint(0, 3)):
            b.add(b.moment(day), acc, "deposit", b.rng.choice(("ach", "check")),
                  b.rng.randint(5_000, 150_000), counterparty=f"PAYER{b.rng.randint(1, 300)}",
                  counterparty_country="US")  # fmt: skip
    for _ in range(b.rng.randint(4, 10)):
        b.add(b.moment(), acc, "withdrawal", "ach", b.rng.randint(50_000, 500_000),
              counterparty=f"SUPPLIER{b.rng.randint(1, 6)}", counterparty_country="US")  # fmt: skip


def active_trader(b: Book) -> None:
    """Trap: deposits, heavy trading, withdrawals within days."""
    (acc,) = b.customer("trader", "trader", 300_000, "investments")
    for week in range(0, b.days - 7, 10):
        amount = b.rng.randint(1_000_000, 5_000_000)
        b.add(b.moment(week), acc, "deposit", "wire", amount, counterparty=f"BANK-{acc}",
              counterparty_country="US")  # fmt: skip
        for _ in range(b.rng.randint(10, 30)):
            b.add(b.moment(week + b.rng.randint(0, 4)), acc, b.rng.choice(("buy", "sell")),
                  "trade", amount // 3)  # fmt: skip
        b.add(b.moment(week + 5), acc, "withdrawal", "wire", amount * 9 // 10,
              counterparty=f"BANK-{acc}", counterparty_country="US")  # fmt: skip


def structuring(b: Book) -> None:
    """Cash just under $10,000, on one or several days, spread over two or three accounts."""
    accs = b.customer("structurer", "consultant", 90_000, "salary", n_acc=b.rng.randint(1, 3))
    _salary(b, accs[0], 750_000, "FIRM-2")
    day, kind = b.rng.randrange(b.days - 8), b.rng.choice(("deposit", "withdrawal"))
    for _ in range(b.rng.randint(2, 5)):
        b.add(b.moment(day), b.rng.choice(accs), kind, "cash", b.rng.randint(850_000, 999_000))
        day += b.rng.randint(0, 2)
    b.label("structuring", accs)


def rapid_movement(b: Book) -> None:
    """Money in by wire or ACH and out again within days, with a token trade at most."""
    (acc,) = b.customer("rapid", "sales manager", 120_000, "salary")
    day, amount = b.rng.randrange(b.days - 6), b.rng.randint(1_500_000, 9_000_000)
    b.add(b.moment(day), acc, "deposit", "wire", amount, counterparty=f"ORIGIN-{acc}",
          counterparty_country="US")  # fmt: skip
    if b.rng.random() < TOKEN_TRADE_SHARE:
        b.add(b.moment(day + 1), acc, "buy", "trade", amount // 20)
    b.add(b.moment(day + b.rng.randint(1, 4)), acc, "withdrawal", "wire",
          amount * b.rng.randint(90, 100) // 100, counterparty=f"DEST-{acc}",
          counterparty_country="US")  # fmt: skip
    b.label("rapid_movement", [acc])


def fan(b: Book, kind: str) -> None:
    """Many distinct parties paying in (fan-in) or being paid (fan-out) within a few days."""
    (acc,) = b.customer("fan", "teacher", 70_000, "salary")
    day = b.rng.randrange(b.days - 5)
    for n in range(b.rng.randint(8, 16)):
        b.add(b.moment(day + b.rng.randint(0, 4)), acc, kind, b.rng.choice(("ach", "wire")),
              b.rng.randint(100_000, 900_000), counterparty=f"P-{acc}-{n}",
              counterparty_country="US")  # fmt: skip
    b.label("fan_in" if kind == "deposit" else "fan_out", [acc])


def high_risk_geography(b: Book) -> None:
    """A wire from or to a FATF-listed jurisdiction."""
    (acc,) = b.customer("geo", "importer", 110_000, "salary")
    kind = b.rng.choice(("deposit", "withdrawal"))
    b.add(b.moment(), acc, kind, "wire", b.rng.randint(200_000, 2_000_000),
          counterparty=f"X-{acc}", counterparty_country=b.rng.choice(LISTED_COUNTRIES))  # fmt: skip
    b.label("high_risk_geography", [acc])


def unusual_activity(b: Book) -> None:
    """A low declared income and several times that deposited within a month."""
    income = b.rng.randint(12_000, 35_000)
    (acc,) = b.customer("unusual", b.rng.choice(("student", "cashier", "unemployed")), income,
                        "savings")  # fmt: skip
    day = b.rng.randrange(b.days - 25)
    for _ in range(b.rng.randint(3, 6)):
        b.add(b.moment(day + b.rng.randint(0, 25)), acc, "deposit", b.rng.choice(("ach", "wire")),
              income * b.rng.randint(40, 90), counterparty=f"SRC-{acc}",
              counterparty_country="US")  # fmt: skip
    b.label("unusual_activity", [acc])


def _round_trip(b: Book, account: str, day: int, hold: int, *, price: str, symbol: str) -> None:  # noqa: PLR0913 - one trade's fields
    """Buy ``symbol`` on ``day`` and sell it ``hold`` days later, at about ``price``."""
    cents = b.rng.randint(500_000, 2_500_000)
    b.add(b.moment(day), account, "buy", "trade", cents, symbol=symbol, price=price)
    b.add(b.moment(day + hold) + HOUR * 9, account, "sell", "trade",
          cents * b.rng.randint(80, 160) // 100, symbol=symbol, price=price)  # fmt: skip


def _penny_price(b: Book) -> str:
    return f"{b.rng.randint(500, 45_000) / 10_000:.4f}"


def low_priced_trading(b: Book) -> None:
    """Penny stocks bought and sold within days, again and again, by a modest earner."""
    (acc,) = b.customer("penny", b.rng.choice(("clerk", "driver", "nurse")),
                        b.rng.randint(30_000, 70_000), "salary")  # fmt: skip
    _salary(b, acc, 400_000, "EMPLOYER-7")
    day = b.rng.randrange(b.days - 25)
    for n in range(b.rng.randint(3, 6)):
        _round_trip(b, acc, day + 4 * n, b.rng.randint(0, 3), price=_penny_price(b),
                    symbol=f"PNY{n}{acc}")  # fmt: skip
    b.label("low_priced_securities", [acc])


def day_trader(b: Book) -> None:
    """Trap: rapid round trips all month, in listed shares priced well above $5."""
    (acc,) = b.customer("day_trader", "software engineer", 220_000, "salary")
    for day in range(0, b.days - 2, 2):
        price = f"{b.rng.randint(20, 400)}.{b.rng.randint(0, 99):02d}"
        _round_trip(b, acc, day, b.rng.randint(0, 1), price=price,
                    symbol=b.rng.choice(("AAPL", "MSFT", "XOM")))  # fmt: skip


def penny_holder(b: Book) -> None:
    """Trap: penny stocks bought and held for weeks before selling."""
    (acc,) = b.customer("penny_holder", "retired", 60_000, "pension")
    for n in range(b.rng.randint(3, 5)):
        _round_trip(b, acc, b.rng.randrange(5), b.rng.randint(15, 40), price=_penny_price(b),
                    symbol=f"HLD{n}")  # fmt: skip


TRAPS = (
    ordinary, payroll_just_under, large_cash, small_business, active_trader, day_trader,
    penny_holder,
)  # fmt: skip


def generate(seed: int, customers: int = 400, days: int = 60) -> Book:
    """A book of ``customers`` customers over ``days`` days; about a tenth carry a typology."""
    b = Book(random.Random(seed), days)  # noqa: S311 - reproducible test data, not secrets
    plants = [structuring, rapid_movement, high_risk_geography, unusual_activity,
              low_priced_trading]  # fmt: skip
    for n in range(customers):
        if n % 10 == 0:
            choice = b.rng.randrange(len(plants) + 2)
            if choice < len(plants):
                plants[choice](b)
            else:
                fan(b, "deposit" if choice == len(plants) else "withdrawal")
        elif n % 10 in (1, 2, 3):
            b.rng.choice(TRAPS[1:])(b)
        else:
            ordinary(b)
    b.txns.sort(key=lambda t: t["ts"])
    for n, txn in enumerate(b.txns, 1):
        txn["txn_id"] = f"T{n:08d}"
    return b


def write(book: Book, directory: Path) -> None:
    """Write the replay directory and ``labels.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = (
        "customer",
        "name",
        "dob",
        "country",
        "occupation",
        "annual_income",
        "source_of_funds",
    )
    with (directory / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([c[k] for k in columns] for c in book.customers)
    with (directory / "accounts.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("account", "customer", "opened"), *book.accounts])
    with (directory / "transactions.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(t, separators=(",", ":")) + "\n" for t in book.txns)
    labels = {k: sorted(set(v)) for k, v in book.labels.items()}
    (directory / "labels.json").write_text(json.dumps(labels, indent=1), encoding="utf-8")
