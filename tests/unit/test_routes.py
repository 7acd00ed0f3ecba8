"""The order of ``ROUTERS``: routers placed early for speed must not take another's paths."""

from __future__ import annotations

from fastapi import APIRouter

from tradeguard.routes import ROUTERS
from tradeguard.trading.orders import api as trading_api

EARLY = (trading_api.router,)
"""Routers moved ahead of their place among the others (the busiest paths)."""


def _segments(router: APIRouter) -> list[tuple[str, ...]]:
    return [tuple(route.path.split("/")) for route in router.routes if hasattr(route, "path")]


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one request path could match both templates (a parameter matches anything)."""
    return len(a) == len(b) and all(
        x == y or "{" in x or "{" in y for x, y in zip(a, b, strict=True)
    )


def test_routers_when_placed_early_then_no_other_router_has_an_overlapping_path() -> None:
    others = [path for router in ROUTERS if router not in EARLY for path in _segments(router)]
    overlaps = [
        ("/".join(early), "/".join(other))
        for router in EARLY
        for early in _segments(router)
        for other in others
        if _overlap(early, other)
    ]
    assert overlaps == []


def test_overlap_when_a_parameter_meets_a_literal_then_found() -> None:
    assert _overlap(("", "v1", "orders", "{order_id}"), ("", "v1", "orders", "batch"))
    assert not _overlap(("", "v1", "orders", "{order_id}"), ("", "v1", "orders"))
