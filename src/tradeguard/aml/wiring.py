"""Starts the AML watcher in the server's embedded watcher loop."""

from __future__ import annotations

from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.watch.service import WatchService


def register_aml_watcher(watchers: WatchService, parameters: MonitorParameters) -> None:
    """Run the AML monitors over the audit trail with ``parameters``."""
    watchers.register(lambda: AmlWatcher(parameters))
