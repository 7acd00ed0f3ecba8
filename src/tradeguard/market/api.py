"""``GET /v1/market/quotes``: the consolidated quote, reference price and band per symbol."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.market.feed import MarketData
from tradeguard.market.quotes import MAX_SYMBOLS
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["Market data"])
Viewer = Annotated[Principal, require(Permission.ACCOUNT_VIEW)]
MarketDep = Annotated[MarketData, provided(MarketData)]
SYMBOL_LIST = r"^[A-Z0-9.\-]{1,16}(,[A-Z0-9.\-]{1,16}){0,199}$"
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token or signature (problem+json, AUTH_*, APIKEY_*)"},
    403: {"description": "Refused (ACCESS_DENIED, APIKEY_SCOPE)"},
    404: {"description": "A symbol the desk does not list (MARKET_UNKNOWN_SYMBOL)"},
    409: {"description": "The installation runs without market data (MARKET_DATA_OFF)"},
    422: {"description": "Invalid request (VALIDATION_FAILED)"},
    503: {"description": "The feed cannot be reached; retry (MARKET_DATA_UNAVAILABLE)"},
}


class QuoteView(BaseModel):
    """A symbol's national best bid and offer, with the desk's reference price and band."""

    symbol: str
    bid: str | None = Field(description="The best bid; null before the first quote")
    bid_size: int | None
    bid_venue: str | None = Field(description="The market whose quote at the best bid came first")
    ask: str | None = Field(description="The best offer; null before the first quote")
    ask_size: int | None
    ask_venue: str | None = Field(description="The market whose quote at the best offer came first")
    bid_venues: list[str] = Field(
        description="Every market quoting the best bid (for a provider's feed, the exchanges)"
    )
    ask_venues: list[str] = Field(description="Every market quoting the best offer")
    quoted_at: str | None = Field(description="When the older of the two best quotes was made")
    fresh: bool = Field(description="Uncrossed and no older than the reference age limit (5 s)")
    reference_price: str | None = Field(description="What market orders and collars go by")
    band_low: str | None = Field(description="The volatility band; null without one")
    band_high: str | None
    halted: bool = Field(description="A halt or a volatility pause is in force")


@router.get("/v1/market/quotes", summary="Quotes of listed symbols", responses=PROBLEMS)
def market_quotes(
    principal: Viewer,  # noqa: ARG001 - the permission is the point
    market: MarketDep,
    symbols: Annotated[
        str | None,
        Query(
            pattern=SYMBOL_LIST,
            description=f"Comma-separated symbols (at most {MAX_SYMBOLS}); "
            f"none: the first {MAX_SYMBOLS} listed, by symbol",
        ),
    ] = None,
) -> list[QuoteView]:
    """The NBBO per symbol as the feed last consolidated it, with the price checks' inputs."""
    asked = None if symbols is None else symbols.split(",")
    return [QuoteView.model_validate(row) for row in market.quotes(asked)]
