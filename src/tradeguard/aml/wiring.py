"""Starts the AML watcher in the server's embedded watcher loop; builds the AML services."""

from __future__ import annotations

from tradeguard.aml.batches import FilingBatches
from tradeguard.aml.ctr_service import CtrReports
from tradeguard.aml.filer import filer_from
from tradeguard.aml.parameter_book import ParameterBook
from tradeguard.aml.profiles import DeclaredProfiles, approved_profile
from tradeguard.aml.retention import AmlRetention
from tradeguard.aml.sar_service import SarReports
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.services import Services
from tradeguard.watch.service import WatchService


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
    return SarReports(services.audit, services.clock, filer_from(settings), out_dir)


def build_ctr_reports(services: Services) -> CtrReports:
    """CTRs of a day with the configured filer; files go to ``var_dir/aml/ctr``."""
    settings = services.settings
    out_dir = settings.var_dir / "aml"
    return CtrReports(services.audit, services.clock, filer_from(settings), out_dir)


def build_aml_retention(services: Services) -> AmlRetention:
    """Deletion of SARs and CTRs past their five-year retention, files under ``var_dir/aml``."""
    return AmlRetention(services.audit, services.settings.var_dir / "aml")


def build_filing_batches(services: Services) -> FilingBatches:
    """Batches of SARs or CTRs ready to file, written under ``var_dir/aml/batches``."""
    return FilingBatches(services.audit, services.clock, services.settings.var_dir / "aml")
