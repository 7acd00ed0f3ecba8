"""Routing in the process that owns the desk: venues, FIX sessions, the router.

With ``routing_simulated_venues`` and a market-data feed, each of the simulator's
venues gets a simulated FIX acceptor on loopback (TLS), quoting what the feed says it
quotes, and an initiator session; the router takes the desk's marketable orders to
them under the best-execution policy. Otherwise the desk works as before: every order
in the internal book.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.market.rule606 import OrderKind
from tradeguard.market.simulator import SIMULATED_VENUES
from tradeguard.market.venue_book import VenueQuoteBook
from tradeguard.routing.fix.initiator import VenueLink
from tradeguard.routing.fix.tls import LOOPBACK
from tradeguard.routing.policy import FeeTerms, VenueQuote, VenueTerms
from tradeguard.routing.router import Router
from tradeguard.routing.venue import QuoteOf, SimulatedVenue, VenueBehaviour
from tradeguard.services import Services
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.trading.wiring import TradingPorts

LOGON_WAIT_SECONDS = 5.0
FeeItem = Literal["access_fee", "rebate", "pfof"]
MICROS_PER_MILLI = 1000
MILLIS_PER_SECOND = 1000


@dataclass(frozen=True, slots=True)
class Routing:
    """The router and the venues and sessions it runs over."""

    router: Router
    venues: dict[str, SimulatedVenue]
    links: dict[str, VenueLink]

    def stop(self) -> None:
        """Log out of every venue, stop the venues and the router."""
        self.router.stop()
        for link in self.links.values():
            link.stop()
        for venue in self.venues.values():
            venue.shut_down()


def configured_terms(settings: Settings) -> dict[str, VenueTerms]:
    """The terms of the venues this installation routes to (the simulated venues)."""
    return venue_terms(settings, SIMULATED_VENUES)


def venue_terms(settings: Settings, codes: tuple[str, ...]) -> dict[str, VenueTerms]:
    """Each venue's terms from the settings, with its terms per order type."""
    latency = round(settings.routing_venue_latency_ms * MICROS_PER_MILLI)
    terms = {}
    for code in codes:
        own = FeeTerms(
            settings.routing_access_fees.get(code, 0),
            settings.routing_rebates.get(code, 0),
            settings.routing_pfof.get(code, 0),
        )
        by_kind = _by_kind(settings.routing_order_type_terms, code, own)
        terms[code] = VenueTerms(
            code,
            f"{code} (simulated)",
            own.access_fee,
            own.rebate,
            own.pfof,
            latency_us=latency,
            by_kind=by_kind,
        )
    return terms


def _by_kind(
    configured: Mapping[str, Mapping[FeeItem, int]], code: str, own: FeeTerms
) -> dict[OrderKind, FeeTerms]:
    """The venue's terms of the order types configured apart (items left out: its own)."""
    by_kind = {}
    for key, items in configured.items():
        venue, kind = key.split(":")
        if venue == code:
            by_kind[OrderKind(kind)] = FeeTerms(
                items.get("access_fee", own.access_fee),
                items.get("rebate", own.rebate),
                items.get("pfof", own.pfof),
            )
    return by_kind


def install_routing(services: Services, trading: TradingPorts) -> TradingPorts:
    """Hook routing into the desk of ``trading`` when configured; the ports to use."""
    settings, desk, runner = services.settings, trading.desk, trading.market
    if not settings.routing_simulated_venues or runner is None:
        return trading
    if not isinstance(desk, TradingDesk):
        return trading
    quotes = VenueQuoteBook.replacing(runner.feed.book)
    runner.feed.book = quotes
    routing = start_routing(settings, services.clock, desk, quotes)
    return replace(trading, close=_then(routing.stop, trading.close))


def start_routing(
    settings: Settings, clock: Clock, desk: TradingDesk, quotes: VenueQuoteBook
) -> Routing:
    """Start a simulated venue and a session per venue, and route ``desk``'s orders."""
    behaviour = VenueBehaviour(
        latency_ms=settings.routing_venue_latency_ms,
        partial_fill_pct=settings.routing_venue_partial_fill_pct,
        reject_pct=settings.routing_venue_reject_pct,
    )
    router = Router(
        venue_terms(settings, SIMULATED_VENUES),
        quotes,
        clock,
        ack_timeout_seconds=settings.routing_ack_timeout_ms / MILLIS_PER_SECOND,
        rest_venue=settings.routing_rest_venue or None,
    )
    venues = {
        code: SimulatedVenue(code, quote_source(quotes, code), behaviour)
        for code in SIMULATED_VENUES
    }
    links = {
        code: VenueLink(
            code, (LOOPBACK, venue.start()), venue.certificate.client(), router.on_report
        )
        for code, venue in venues.items()
    }
    for code, link in links.items():
        link.on_cancel_reject = router.on_cancel_reject
        link.on_change = _reconciler(router, code)
    router.attach(desk, links, venues)
    desk.start()  # orders left at venues by an earlier run leave the internal book
    for link in links.values():
        link.start()
    for link in links.values():
        link.wait_up(LOGON_WAIT_SECONDS)
    router.start()
    return Routing(router, venues, links)


def quote_source(quotes: VenueQuoteBook, venue: str) -> QuoteOf:
    """What a simulated venue quotes: the feed's last quote from that venue."""

    def quote_of(symbol: str) -> VenueQuote | None:
        quote = quotes.venue_quote(symbol, venue)
        if quote is None:
            return None
        return VenueQuote(venue, quote.bid, quote.bid_size, quote.ask, quote.ask_size)

    return quote_of


def _reconciler(router: Router, venue: str) -> Callable[[bool], None]:
    """The link's callback: on logon, the router reconciles what rests at ``venue``."""

    def changed(up: bool) -> None:  # noqa: FBT001 - the link's callback
        router.venue_changed(venue, up)

    return changed


def _then(first: Callable[[], None], then: Callable[[], None] | None) -> Callable[[], None]:
    def both() -> None:
        first()
        if then is not None:
            then()

    return both
