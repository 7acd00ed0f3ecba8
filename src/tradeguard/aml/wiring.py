"""Starts the AML watcher in the server's embedded watcher loop; builds the AML services.

The periodic AML job (``aml_jobs_periodically``) runs the SAR clock: deadline reminders
to compliance, the overdue alert and due continuing-activity reviews.
"""

from __future__ import annotations

import asyncio

from fastapi.concurrency import run_in_threadpool

from tradeguard.aml.batches import FilingBatches
from tradeguard.aml.ctr_service import CtrReports
from tradeguard.aml.filer import filer_from
from tradeguard.aml.parameter_book import ParameterBook
from tradeguard.aml.profiles import DeclaredProfiles, approved_profile
from tradeguard.aml.retention import AmlRetention
from tradeguard.aml.sar_clock import ClockRun, SarClock
from tradeguard.aml.sar_service import SarReports
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.aml.transactions import BusinessDays
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.audit.recorder import AuditTrail
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.keyring import Keyring
from tradeguard.db.session import transaction
from tradeguard.identity.notices import Notices
from tradeguard.logs import get_logger
from tradeguard.services import Services
from tradeguard.watch.service import WatchService

log = get_logger("tradeguard.aml")


def register_aml_watcher(watchers: WatchService, book: ParameterBook) -> None:
    """Run the AML monitors over the audit trail with the parameters in force.

    Customers' declared profiles come from their approved onboarding answers.

    A committed change of the parameters drops the live watcher; the runner rebuilds it
    from the recent trail with the new parameters on its next batch.
    """
    sessions = book.sessions
    runner = watchers.register(
        lambda: AmlWatcher(
            book.load(), DeclaredProfiles(lambda customer: approved_profile(sessions, customer))
        )
    )

    def rebuild() -> None:
        runner.watcher = None

    book.on_change(rebuild)


def build_parameter_book(services: Services) -> ParameterBook:
    """The monitors' parameters over the service's database and audit trail."""
    return ParameterBook(services.sessions, services.audit, services.clock)


def build_sar_reports(services: Services) -> SarReports:
    """SAR drafting with the configured filer; XML files go to ``var_dir/aml``."""
    settings = services.settings
    out_dir = settings.var_dir / "aml"
    files = SealedFiles(services.crypto.keyring)
    return SarReports(services.audit, services.clock, filer_from(settings), out_dir, files)


def build_ctr_reports(services: Services, alerts: AlertStore) -> CtrReports:
    """CTRs of a day with the configured filer; sealed files go to ``var_dir/aml/ctr``."""
    return ctr_reports_over(services.settings, services.audit, services.clock,
                            services.crypto.keyring, alerts)  # fmt: skip


def ctr_reports_over(
    settings: Settings, audit: AuditTrail, clock: Clock, keyring: Keyring, alerts: AlertStore
) -> CtrReports:
    """CTR reports over these collaborators (the server's and the ``aml ctr`` command's)."""
    files = SealedFiles(keyring)
    return CtrReports(audit, clock, filer_from(settings), settings.var_dir / "aml", files, alerts)


def build_aml_retention(services: Services) -> AmlRetention:
    """Deletion of SARs and CTRs past their five-year retention, files under ``var_dir/aml``."""
    return AmlRetention(services.audit, services.settings.var_dir / "aml")


def build_filing_batches(services: Services) -> FilingBatches:
    """Batches of SARs or CTRs ready to file, written under ``var_dir/aml/batches``."""
    settings, keyring = services.settings, services.crypto.keyring
    return filing_batches_over(settings, services.audit, services.clock, keyring)


def filing_batches_over(
    settings: Settings, audit: AuditTrail, clock: Clock, keyring: Keyring
) -> FilingBatches:
    """Filing batches over these collaborators (the server's and the ``aml`` commands')."""
    return FilingBatches(audit, clock, settings.var_dir / "aml", SealedFiles(keyring))


def build_sar_clock(services: Services, store: AlertStore, notices: Notices) -> SarClock:
    """The SAR clock with the configured compliance address and reminder days."""
    settings = services.settings
    return SarClock(services.audit, store, notices, settings.compliance_email,
                    settings.aml_sar_reminder_days)  # fmt: skip


def run_aml_jobs(services: Services, sar_clock: SarClock) -> ClockRun:
    """One run of the AML job, on today's New York date, in one transaction."""
    with transaction(services.sessions) as db:
        return sar_clock.run(db, BusinessDays().of(services.clock.now_ns()))


async def aml_jobs_periodically(services: Services, sar_clock: SarClock) -> None:
    """Run the AML job at start-up, then every ``aml_jobs_minutes``."""
    while True:
        try:
            await run_in_threadpool(run_aml_jobs, services, sar_clock)
        except Exception:
            log.exception("aml.jobs_failed")
        await asyncio.sleep(services.settings.aml_jobs_minutes * 60)
