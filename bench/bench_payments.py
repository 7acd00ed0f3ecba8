"""Withdrawal decision with every check, in process: p50 and p99 (target p99 <= 5 ms).

The decision is what a withdrawal request runs before it is recorded: the customer's
lock row written, the account and the verified link read, the cooling period (password,
factors, email, links), the rolling 24-hour and 7-day limits over the customer's recent
withdrawals, and the withdrawable cash from the desk's memory less unsettled deposits.
Each decision runs in its own transaction, rolled back (so the holder row is created
each time, as on a customer's first withdrawal). Wall time, and the CPU time of this
thread (on PostgreSQL the server's own work is in its processes, not counted).
"""

from __future__ import annotations

import statistics
import time
import uuid

from apps import scratch_app
from bench_desk import _user as bench_user
from bench_desk import caller_of, registry_of
from measure import Measurement, scratch_postgres
from tradeguard.audit.records import Actor
from tradeguard.core.money import Money
from tradeguard.db.session import transaction
from tradeguard.payments.models import BankLinkRow, WithdrawalRow
from tradeguard.payments.service import Payments
from tradeguard.risk.model import AccountKind
from tradeguard.trading.orders.accounts import open_account

DECISIONS = 2_000
EARLIER_WITHDRAWALS = 20
NS_PER_HOUR = 3600 * 10**9


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _decision_times(overrides: dict[str, object]) -> tuple[list[float], list[float]]:
    with scratch_app(**overrides) as app:
        registry = registry_of(app)
        services, payments = registry.services, registry.find(Payments)
        now = services.clock.now_ns()
        with transaction(services.sessions) as db:
            user = bench_user(0, now)
            db.add(user)
            db.flush()
            account = open_account(
                db,
                services.audit,
                services.clock,
                Actor.system("bench"),
                user_id=user.id,
                kind=AccountKind.CASH,
                deposit_cents=Money.parse("1000000.00").cents,
            )
            link = BankLinkRow(
                id=str(uuid.uuid4()),
                user_id=user.id,
                status="verified",
                routing_number="021000021",
                account_type="checking",
                account_number="123456789",
                last4="6789",
                holder_name="Bench Trader",
                name_matches=True,
                micro_amounts="1,2",
                attempts=1,
                created_at_ns=now,
            )
            db.add(link)
            for number in range(EARLIER_WITHDRAWALS):
                at = now + number * NS_PER_HOUR
                db.add(_withdrawal(user.id, account.id, link.id, at))
        services.clock.advance(seconds=3 * 24 * 3600)  # type: ignore[attr-defined] # past the cooling
        caller = caller_of(user.id)
        registry.trading_desk.account_view(services.sessions(), caller)  # the desk knows it
        samples, cpu = [], []
        for _ in range(DECISIONS):
            started, cpu_started = time.perf_counter(), time.thread_time()
            with services.sessions() as db:
                payments.withdrawals.decide(db, caller, link.id, 10_000, services.clock.now_ns())
                db.rollback()
            cpu.append((time.thread_time() - cpu_started) * 1000)
            samples.append((time.perf_counter() - started) * 1000)
        return samples, cpu


def _withdrawal(user_id: str, account_id: str, link_id: str, at: int) -> WithdrawalRow:
    return WithdrawalRow(
        id=str(uuid.uuid4()),
        user_id=user_id,
        account_id=account_id,
        bank_link_id=link_id,
        amount_cents=10_000,
        status="settled",
        reviews_needed=0,
        reviewers="[]",
        created_at_ns=at,
        updated_at_ns=at,
    )


def _measured(backend: str, times: tuple[list[float], list[float]]) -> list[Measurement]:
    samples, cpu = times
    return [
        Measurement(f"withdrawal decision p50, {backend}", statistics.median(samples), "ms"),
        Measurement(f"withdrawal decision p99, {backend}", _percentile(samples, 0.99), "ms", 5.0),
        Measurement(f"withdrawal decision CPU p50, {backend}", statistics.median(cpu), "ms"),
        Measurement(f"withdrawal decision CPU p99, {backend}", _percentile(cpu, 0.99), "ms"),
    ]


def run() -> list[Measurement]:
    results = _measured("SQLite", _decision_times({}))
    with scratch_postgres() as url:
        if url is not None:
            results += _measured("PostgreSQL", _decision_times({"database_url": url}))
    return results
