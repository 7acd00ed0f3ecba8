"""Registers the surveillance watcher and its actions on a server's watch service."""

from __future__ import annotations

from collections.abc import Callable

from tradeguard.cases.notify import HighScoreEmail
from tradeguard.cases.store import AlertStore
from tradeguard.identity.notices import Notices
from tradeguard.services import Services
from tradeguard.surveillance.actions import ActionRule, AlertActions
from tradeguard.surveillance.alerting import SOURCE
from tradeguard.surveillance.presentation import present_surveillance
from tradeguard.surveillance.profiles import load_directory, load_parameters
from tradeguard.surveillance.watcher import SurveillanceWatcher
from tradeguard.trading.desk_port import TradingControlsPort
from tradeguard.watch.cursor import give_way
from tradeguard.watch.service import WatchService


def surveillance_factory(services: Services) -> Callable[[], SurveillanceWatcher]:
    """A factory of watchers that read the stored profiles, links and parameters when built."""

    def build() -> SurveillanceWatcher:
        with services.sessions() as db:
            give_way(db)
            return SurveillanceWatcher(load_directory(db), load_parameters(db))

    return build


def install_surveillance(
    services: Services,
    watchers: WatchService,
    store: AlertStore,
    controls: TradingControlsPort,
    notices: Notices,
) -> None:
    """The watcher, the compliance email for high scores and the automatic actions."""
    settings = services.settings
    store.listen(HighScoreEmail(notices, settings.compliance_email, settings.alert_email_min_score))
    rules = [ActionRule.parse(text) for text in settings.surveillance_actions]
    store.after_commit(AlertActions(services.sessions, controls, rules, notices))
    store.present_with(SOURCE, present_surveillance)
    watchers.register(surveillance_factory(services))
