"""Building the payments service and its periodic settle job."""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from tradeguard.cases.service import Cases
from tradeguard.cases.store import AlertStore
from tradeguard.identity.kit import Identity
from tradeguard.logs import get_logger
from tradeguard.payments.decision_points import DecisionPoints
from tradeguard.payments.kit import PaymentsKit
from tradeguard.payments.service import Payments
from tradeguard.services import Services
from tradeguard.trading.wiring import TradingPorts

log = get_logger("tradeguard.payments")


def build_payments(
    services: Services,
    identity: Identity,
    trading: TradingPorts,
    alerts: AlertStore,
    decisions: DecisionPoints | None = None,
) -> Payments:
    """Payments over the desk's ports; decision points switched on by the settings."""
    settings = services.settings
    points = decisions or DecisionPoints(
        fraud_on=settings.payments_fraud_decision, aml_on=settings.payments_aml_decision
    )
    kit = PaymentsKit(
        settings=settings,
        clock=services.clock,
        sessions=services.sessions,
        audit=services.audit,
        crypto=services.crypto,
        notices=identity.notices,
        codes=identity.codes,
        desk=trading.desk,
        controls=trading.controls,
        alerts=alerts,
        cases=Cases(services.audit, services.clock),
        decisions=points,
    )
    return Payments.of(kit)


async def settle_deposits_periodically(payments: Payments) -> None:
    """In the desk's process: settle the due ACH pulls every ``payments_settle_seconds``."""
    while True:
        await asyncio.sleep(payments.kit.settings.payments_settle_seconds)
        try:
            await run_in_threadpool(payments.settle_due)
        except Exception:
            log.exception("payments.settle_failed")
