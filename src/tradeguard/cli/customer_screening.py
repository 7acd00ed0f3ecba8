"""The server's sanctions screening over every customer, for ``tradeguard sanctions``.

Apart from the command module because it builds the application's services and a desk:
``sanctions screen`` (a batch file) needs none of it and starts without importing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tradeguard.app import build_services
from tradeguard.cases.service import Cases
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import SystemClock
from tradeguard.core.errors import TradeGuardError
from tradeguard.kyc.sanctions_alerts import SanctionsAlerts
from tradeguard.kyc.wiring import screening_of_customers
from tradeguard.risk.engine import RiskEngine
from tradeguard.screening.service import SanctionsScreening
from tradeguard.services import Services
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.client import DeskChannel, DeskUnreachableError
from tradeguard.trading.channel.remote import RemoteTradingControls
from tradeguard.trading.controls.trading_controls import TradingControls
from tradeguard.trading.desk_port import TradingControlsPort
from tradeguard.trading.wiring import build_trading_desk


@contextmanager
def customers_screening() -> Iterator[SanctionsScreening]:
    """The server's screening, its parties every customer: what a load or rescreen needs.

    Built as the server builds it (``screening_of_customers``): a hit puts the application
    up for review, alerts compliance and restricts the customer's account through the
    desk. The desk is the running desk process when its socket is there (it must answer),
    else one in this command over the database (no server running, or one that serves
    without a desk process: ``serve_workers`` 1).
    """
    services = build_services(load_settings(), clock=SystemClock(), engine=None)
    alerts = SanctionsAlerts(
        AlertStore(services.audit, services.clock), Cases(services.audit, services.clock)
    )
    try:
        controls, close = _controls(services, _running_desk(services.settings))
        try:
            yield screening_of_customers(services, alerts, controls)[0]
        finally:
            close()
    finally:
        services.engine.dispose()


def _controls(
    services: Services, channel: DeskChannel | None
) -> tuple[TradingControlsPort, Callable[[], None]]:
    """The running desk's controls, else those of a desk here; and how to let go of them."""
    if channel is not None:
        return RemoteTradingControls(channel), channel.close
    desk = build_trading_desk(services, RiskEngine(services.clock))
    return TradingControls(desk), desk.close


def _running_desk(settings: Settings) -> DeskChannel | None:
    path = settings.effective_desk_socket
    if not path.exists():
        return None
    channel = DeskChannel(path, desk_codec(), settings.desk_call_timeout_seconds)
    try:
        channel.call("desk.ping")
    except DeskUnreachableError as error:
        channel.close()
        raise TradeGuardError(
            f"the desk process on {path} does not answer ({error}): start the server, or "
            "remove the socket if no server runs"
        ) from None
    return channel
