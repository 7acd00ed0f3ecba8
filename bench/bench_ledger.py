"""Cash journal: postings per second (bulk, as the desk posts a batch) and ``ledger verify``."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text

from measure import Measurement, scratch_postgres
from tradeguard.core.ids import new_id
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.ledger.desk_cash import desk_entry
from tradeguard.ledger.journal import EntryKind, post
from tradeguard.ledger.verify import verify

POST_ENTRIES = 50_000
PER_BATCH = 256
VERIFY_ENTRIES = 1_000_000
VERIFY_ACCOUNTS = 1_000
LINE_CENTS = 100


def _posting_rate(engine: Engine) -> float:
    """Entries per second posted in desk-sized batches of three-line entries, committed."""
    sessions = session_factory(engine)
    started = time.perf_counter()
    for first in range(0, POST_ENTRIES, PER_BATCH):
        entries = [
            desk_entry(str(new_id()), EntryKind.TRADE, f"a{n % 500}", (-1500, 700))
            for n in range(first, min(first + PER_BATCH, POST_ENTRIES))
        ]
        with transaction(sessions) as db:
            post(db, entries, 0)
    return POST_ENTRIES / (time.perf_counter() - started)


def _fill_million(engine: Engine) -> None:
    """A million two-line entries over a thousand accounts whose rows agree with them."""
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE ledger_lines, ledger_entries"))
        connection.execute(text("SET session_replication_role = replica"))  # no users rows
        connection.execute(
            text(
                "INSERT INTO ledger_entries (id, kind, account_id, posted_at_ns)"
                " SELECT lpad(g::text, 36, '0'), 'trade', 'acct-' || (g % :n), g"
                " FROM generate_series(1, :entries) g"
            ),
            {"n": VERIFY_ACCOUNTS, "entries": VERIFY_ENTRIES},
        )
        connection.execute(
            text(
                "INSERT INTO ledger_lines (entry_id, line, ledger_account, amount_cents)"
                " SELECT lpad(g::text, 36, '0'), s, CASE s WHEN 0 THEN"
                r" 'customer:acct-' || (g % :n) || '\:settled' ELSE 'firm:clearing' END,"
                " CASE s WHEN 0 THEN -:cents ELSE :cents END"
                " FROM generate_series(1, :entries) g, generate_series(0, 1) s"
            ),
            {"n": VERIFY_ACCOUNTS, "entries": VERIFY_ENTRIES, "cents": LINE_CENTS},
        )
        per_account = VERIFY_ENTRIES // VERIFY_ACCOUNTS * LINE_CENTS
        connection.execute(
            text(
                "INSERT INTO trading_accounts (id, user_id, kind, status, trading_permission,"
                " settled_cash_cents, unsettled_cash_cents, reserved_cents, equity_cents,"
                " risk_state, created_at_ns, updated_at_ns)"
                " SELECT 'acct-' || a, 'user-' || a, 'cash', 'active', true, :cash, 0, 0, :cash,"
                " '{}', 0, 0 FROM generate_series(0, :last) a"
            ),
            {"cash": per_account, "last": VERIFY_ACCOUNTS - 1},
        )
        connection.execute(text("ANALYZE"))


def _verify_seconds(engine: Engine) -> float:
    sessions = session_factory(engine)
    started = time.perf_counter()
    with sessions() as db:
        result = verify(db)
    elapsed = time.perf_counter() - started
    if not result.agrees or result.entries != VERIFY_ENTRIES:
        raise AssertionError(f"the benchmark journal should verify: {result.differences[:3]}")
    return elapsed


def run() -> list[Measurement]:
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as directory:
        engine = build_engine(f"sqlite:///{Path(directory) / 'ledger.db'}")
        migrate.upgrade(engine)
        rate = _posting_rate(engine)
        results.append(
            Measurement("ledger postings, SQLite", rate, "entries/s", lower_is_better=False)
        )
        engine.dispose()
    with scratch_postgres() as url:
        if url is not None:
            engine = build_engine(url)
            migrate.upgrade(engine)
            rate = _posting_rate(engine)
            results.append(
                Measurement("ledger postings, PostgreSQL", rate, "entries/s", lower_is_better=False)
            )
            _fill_million(engine)
            seconds = _verify_seconds(engine)
            results.append(Measurement("ledger verify, 1M entries, PostgreSQL", seconds, "s"))
            engine.dispose()
    return results
