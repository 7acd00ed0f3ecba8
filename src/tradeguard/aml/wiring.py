"""Starts the AML watcher in the server's embedded watcher loop."""

from __future__ import annotations

from tradeguard.aml.filer import filer_from
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.sar_service import SarReports
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.services import Services
from tradeguard.watch.service import WatchService


def register_aml_watcher(watchers: WatchService, parameters: MonitorParameters) -> None:
    """Run the AML monitors over the audit trail with ``parameters``."""
    watchers.register(lambda: AmlWatcher(parameters))


def build_sar_reports(services: Services) -> SarReports:
    """SAR drafting with the configured filer; XML files go to ``var_dir/aml``."""
    settings = services.settings
    return SarReports(
        services.audit, services.clock, filer_from(settings), settings.var_dir / "aml"
    )
