"""The quarterly Rule 606(a)(1) report as a readable page, read from its own XML.

The page shows what the XML says and nothing else: it is built by reading back the
report ``rule606.held_order_report`` made, so the two can never disagree. Only quarters
that have ended are published; the page offers the last twelve of them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from tradeguard.core.clock import ns_to_datetime
from tradeguard.market.rule606 import Quarter

PUBLISHED_QUARTERS = 12
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
ORDER_TYPES = (
    ("Market", "market"),
    ("Marketable limit", "marketableLimit"),
    ("Non-marketable limit", "nonMarketableLimit"),
    ("Other", "other"),
)
SUMMARY_TAGS = ("ndoMarketPct", "ndoMarketableLimitPct", "ndoNonmarketableLimitPct", "ndoOtherPct")
PAYMENT_KINDS = ("MarketOrders", "MarketableLimitOrders", "NonMarketableLimitOrders", "OtherOrders")


@dataclass(frozen=True, slots=True)
class VenueLine:
    """One venue of a section: its shares of the orders and the net payments per type."""

    name: str
    mic: str
    order_pct: str
    type_pcts: tuple[str, ...]
    payments_usd: tuple[str, ...]
    payments_cph: tuple[str, ...]
    material_aspects: str


@dataclass(frozen=True, slots=True)
class Section:
    """S&P 500 stocks or other stocks in one month."""

    title: str
    non_directed_pct: str
    type_pcts: tuple[str, ...]
    venues: tuple[VenueLine, ...]


@dataclass(frozen=True, slots=True)
class Month:
    """One month of the report; no section when no order was placed that month."""

    name: str
    sections: tuple[Section, ...]


@dataclass(frozen=True, slots=True)
class PublicReport:
    """The report as the page shows it."""

    broker: str
    year: str
    quarter: str
    generated: str
    months: tuple[Month, ...]


def published_quarters(now_ns: int) -> list[Quarter]:
    """The quarters that have ended, most recent first."""
    today = ns_to_datetime(now_ns)
    year, number = today.year, (today.month - 1) // 3  # the quarter before the current one
    quarters: list[Quarter] = []
    for _ in range(PUBLISHED_QUARTERS):
        if number == 0:
            year, number = year - 1, 4
        quarters.append(Quarter(year, number))
        number -= 1
    return quarters


def read_report(xml: bytes) -> PublicReport:
    """The page's view of a held-order report's XML."""
    root = ET.fromstring(xml)  # noqa: S314 - the bytes are the report this process just made
    return PublicReport(
        broker=_text(root, "bd"),
        year=_text(root, "year"),
        quarter=_text(root, "qtr"),
        generated=_text(root, "timestamp"),
        months=tuple(_month(element) for element in root.iter("rMonthly")),
    )


def _month(element: ET.Element) -> Month:
    sections = []
    for tag, title in (("rSP500", "S&P 500 stocks"), ("rOtherStocks", "Other stocks")):
        found = element.find(tag)
        if found is not None:
            sections.append(_section(found, title))
    return Month(MONTH_NAMES[int(_text(element, "mon")) - 1], tuple(sections))


def _section(element: ET.Element, title: str) -> Section:
    return Section(
        title=title,
        non_directed_pct=_text(element, "ndoPct"),
        type_pcts=tuple(_text(element, tag) for tag in SUMMARY_TAGS),
        venues=tuple(_venue(venue) for venue in element.iter("rVenue")),
    )


def _venue(element: ET.Element) -> VenueLine:
    return VenueLine(
        name=_text(element, "name"),
        mic=_text(element, "mic"),
        order_pct=_text(element, "orderPct"),
        type_pcts=tuple(_text(element, f"{prefix}Pct") for _, prefix in ORDER_TYPES),
        payments_usd=tuple(_text(element, f"netPmtPaidRecv{kind}Usd") for kind in PAYMENT_KINDS),
        payments_cph=tuple(_text(element, f"netPmtPaidRecv{kind}Cph") for kind in PAYMENT_KINDS),
        material_aspects=_text(element, "materialAspects"),
    )


def _text(element: ET.Element, tag: str) -> str:
    found = element.find(tag)
    return "" if found is None or found.text is None else found.text
