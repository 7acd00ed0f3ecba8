"""Every router of the application, in the order ``create_app`` includes them.

The permission matrix mounts the same list on a bare application, so the two can never
list different routes. A request is matched against the routers in this order, route by
route, so order entry (the busiest path) comes right after the health probes: no path
of any other router overlaps one of its paths (a unit test holds that), so the order
changes no request's route, only how many routes are tried before it.
"""

from __future__ import annotations

from fastapi import APIRouter

from tradeguard.access import (
    account_search_api,
    admin_api,
    grants_api,
    staff_api,
    staff_invites_api,
)
from tradeguard.aml import api as aml_api
from tradeguard.aml import pages as aml_pages
from tradeguard.apikeys import api as apikeys_api
from tradeguard.audit import api as audit_api
from tradeguard.cards import api as cards_api
from tradeguard.cards import pages as cards_pages
from tradeguard.cases import api as cases_api
from tradeguard.cases import pages as cases_pages
from tradeguard.crypto import api as crypto_api
from tradeguard.fraud import api as fraud_api
from tradeguard.fraud import pages as fraud_pages
from tradeguard.gateway import health
from tradeguard.identity import account_api
from tradeguard.identity import api as identity_api
from tradeguard.identity import pages as identity_pages
from tradeguard.kyc import api as kyc_api
from tradeguard.kyc import pages as kyc_pages
from tradeguard.kyc import review_api as kyc_review_api
from tradeguard.market import api as market_api
from tradeguard.market import pages as market_pages
from tradeguard.payments import api as payments_api
from tradeguard.payments import pages as payments_pages
from tradeguard.routing import api as routing_api
from tradeguard.routing import pages as routing_pages
from tradeguard.routing import reports_api
from tradeguard.screening import api as screening_api
from tradeguard.trading.controls import api as controls_api
from tradeguard.trading.controls import bust_api
from tradeguard.trading.feed import api as feed_api
from tradeguard.trading.orders import api as trading_api
from tradeguard.web import docs

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    trading_api.router,
    identity_api.router,
    identity_api.session_router,
    account_api.router,
    account_api.links_router,
    identity_pages.router,
    kyc_pages.router,
    cases_pages.router,
    aml_pages.router,
    cards_pages.router,
    payments_pages.router,
    fraud_pages.router,
    staff_invites_api.pages_router,
    staff_invites_api.enrolment_router,
    grants_api.router,
    staff_api.router,
    account_search_api.router,
    admin_api.router,
    staff_invites_api.admin_router,
    apikeys_api.router,
    apikeys_api.staff_router,
    reports_api.router,
    routing_api.router,
    reports_api.pages_router,
    controls_api.halts_router,
    controls_api.compliance_router,
    controls_api.locates_router,
    controls_api.instruments_router,
    feed_api.router,
    kyc_api.router,
    kyc_review_api.router,
    crypto_api.router,
    audit_api.router,
    screening_api.router,
    cases_api.router,
    aml_api.router,
    market_api.router,
    market_pages.router,
    routing_pages.router,
    cards_api.router,
    payments_api.router,
    fraud_api.router,
    bust_api.router,
    docs.router,
)
