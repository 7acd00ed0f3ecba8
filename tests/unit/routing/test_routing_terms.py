"""Venue terms from the settings: each venue's own, and its terms for one order type."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from support import make_settings
from tradeguard.market.rule606 import OrderKind
from tradeguard.routing.install import venue_terms
from tradeguard.routing.policy import FeeTerms


def test_a_venues_terms_for_one_order_type_replace_only_the_items_given(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        routing_access_fees={"XNYS": 30},
        routing_rebates={"XNYS": 2},
        routing_pfof={"XNYS": 10},
        routing_order_type_terms={"XNYS:non_marketable_limit": {"access_fee": 0, "rebate": 20}},
    )
    terms = venue_terms(settings, ("XNYS", "XNAS"))
    assert terms["XNYS"].fees(OrderKind.NON_MARKETABLE_LIMIT) == FeeTerms(0, 20, 10)
    assert terms["XNYS"].fees(OrderKind.MARKET) == FeeTerms(30, 2, 10)
    assert terms["XNAS"].fees(OrderKind.NON_MARKETABLE_LIMIT) == FeeTerms(0, 0, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"XNYS:limit": {"rebate": 1}},  # not a Rule 606 order type
        {"xnys:market": {"rebate": 1}},  # not a venue code
        {"XNYS": {"rebate": 1}},  # no order type
        {"XNYS:market": {"commission": 1}},  # not a term
        {"XNYS:market": {"rebate": -1}},  # a negative amount
        {"XNYS:market": {"rebate": 10_001}},  # above $1 a share
    ],
)
def test_terms_that_name_no_venue_type_or_term_are_refused(
    tmp_path: Path, bad: dict[str, dict[str, int]]
) -> None:
    with pytest.raises(ValidationError, match="routing_order_type_terms"):
        make_settings(tmp_path, routing_order_type_terms=bad)
