"""The registry: every service of one application, built once by ``create_app``.

Routes ask for a service by the type it is declared as here (``web.provide.provided``);
builders and background tasks take the registry or the services they need as arguments.
Nothing else keeps services on the application.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, get_type_hints

from tradeguard.access.account_search import AccountSearch
from tradeguard.access.admin import Administration, RuntimeConfiguration
from tradeguard.access.alerts import AccessAlerts, MonitoredCheckLog
from tradeguard.access.grants import Grants
from tradeguard.access.staff_enrolment import StaffEnrolment
from tradeguard.access.staff_invites import StaffInvites
from tradeguard.access.support import SupportDesk
from tradeguard.aml.batches import FilingBatches
from tradeguard.aml.ctr_service import CtrReports
from tradeguard.aml.parameter_book import ParameterBook
from tradeguard.aml.retention import AmlRetention
from tradeguard.aml.sar_service import SarReports
from tradeguard.apikeys.service import ApiKeyService
from tradeguard.apikeys.verifier import RequestVerifier
from tradeguard.cards.service import CardVault
from tradeguard.cases.service import Cases
from tradeguard.cases.store import AlertStore
from tradeguard.fraud.guard import FraudGuard
from tradeguard.gateway.guard import Gateway
from tradeguard.identity.kit import Identity
from tradeguard.identity.service import IdentityService
from tradeguard.kyc.documents import Documents
from tradeguard.kyc.review import Review
from tradeguard.kyc.service import Onboarding
from tradeguard.market.feed import MarketData
from tradeguard.payments.service import Payments
from tradeguard.ratelimit.limiter import RateLimits
from tradeguard.risk.engine import RiskEngine
from tradeguard.screening.service import SanctionsScreening
from tradeguard.services import Services
from tradeguard.trading.desk_port import DeskLink, DeskPort, RiskControlsPort, TradingControlsPort
from tradeguard.trading.feed.hub import FeedHub
from tradeguard.trading.feed.protocol import FeedAdmission
from tradeguard.trading.orders.account_reads import AccountReads
from tradeguard.watch.service import WatchService
from tradeguard.web.routing import RouteGate

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Registry:
    """The application's services, each findable by the type its field is declared as."""

    services: Services
    identity: Identity
    identity_service: IdentityService
    access_checks: MonitoredCheckLog
    access_alerts: AccessAlerts
    administration: Administration
    runtime_configuration: RuntimeConfiguration
    grants: Grants
    support_desk: SupportDesk
    account_search: AccountSearch
    staff_invites: StaffInvites
    staff_enrolment: StaffEnrolment
    rate_limits: RateLimits
    api_keys: ApiKeyService
    api_key_verifier: RequestVerifier
    risk_engine: RiskEngine
    trading_desk: DeskPort
    account_reads: AccountReads
    trading_controls: TradingControlsPort
    risk_controls: RiskControlsPort
    desk_link: DeskLink
    trading_feed: FeedHub
    onboarding: Onboarding
    kyc_documents: Documents
    kyc_review: Review
    market_data: MarketData
    gateway: Gateway
    route_gate: RouteGate
    feed_gate: FeedAdmission
    sanctions_screening: SanctionsScreening
    alert_store: AlertStore
    cases: Cases
    watchers: WatchService
    sar_reports: SarReports
    aml_parameters: ParameterBook
    ctr_reports: CtrReports
    aml_retention: AmlRetention
    aml_batches: FilingBatches
    card_vault: CardVault
    payments: Payments
    fraud_guard: FraudGuard
    _by_type: dict[Any, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_type", self._index())

    def find(self, kind: type[T]) -> T:
        """The service registered as ``kind``; ``LookupError`` names a missing one."""
        try:
            found: T = self._by_type[kind]  # type: ignore[assignment] # keyed by declared type
        except KeyError:
            raise LookupError(f"no service of type {kind.__name__} is registered") from None
        return found

    def _index(self) -> dict[Any, object]:
        """Each field's value under its declared type, the core services' too.

        Two fields declared as one type would make a lookup ambiguous: refused.
        """
        index: dict[Any, object] = {}
        for owner in (self, self.services):
            hints = get_type_hints(type(owner))
            for spec in fields(owner):
                key = _key(hints[spec.name])
                if spec.name.startswith("_"):
                    continue
                if key in index:
                    raise TypeError(f"two services are registered as {key.__name__}")
                index[key] = getattr(owner, spec.name)
        return index


def _key(declared: Any) -> Any:  # noqa: ANN401 - a type or a parametrised generic
    """The lookup key of a declared type: ``sessionmaker[Session]`` is ``sessionmaker``."""
    return getattr(declared, "__origin__", declared)
