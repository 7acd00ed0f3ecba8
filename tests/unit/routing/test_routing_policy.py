"""The best-execution policy: price first, internalise only at or better than the NBBO,
never a venue worse than a reachable better one, ties by size, fill rate, speed, fee."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.market.rule606 import OrderKind
from tradeguard.routing.policy import (
    FeeTerms,
    Market,
    Reason,
    RouteAsk,
    VenueQuote,
    VenueTerms,
    decide,
    order_kind,
    rest_at,
)

BUY, SELL = True, False
TERMS = {code: VenueTerms(code, code) for code in ("XNYS", "XNAS", "ARCX")}


def quote(venue: str, bid: int, ask: int, size: int = 500) -> VenueQuote:
    return VenueQuote(venue, bid, size, ask, size)


def market(*quotes: VenueQuote, depth: tuple[tuple[int, int], ...] = ()) -> Market:
    bid = max((item.bid for item in quotes), default=None)
    ask = min((item.ask for item in quotes), default=None)
    return Market(bid, ask, quotes, depth)


def test_a_market_buy_goes_to_the_venue_with_the_lowest_offer() -> None:
    seen = market(quote("XNYS", 9_990, 10_010), quote("XNAS", 9_995, 10_005))
    decision = decide(RouteAsk(BUY, quantity=100, limit=None), seen, TERMS)
    assert decision.venue == "XNAS"
    assert Reason.AT_NBBO in decision.reasons


def test_a_market_sell_goes_to_the_venue_with_the_highest_bid() -> None:
    seen = market(quote("XNYS", 9_995, 10_010), quote("XNAS", 9_990, 10_005))
    assert decide(RouteAsk(SELL, quantity=100, limit=None), seen, TERMS).venue == "XNYS"


def test_the_internal_book_takes_the_order_only_when_it_fills_all_at_or_better_than_nbbo() -> None:
    quotes = (quote("XNAS", 9_995, 10_005),)
    better = decide(RouteAsk(BUY, 100, None), market(*quotes, depth=((10_000, 100),)), TERMS)
    assert better.internal
    assert better.cap == 10_005  # a market order is capped at the NBBO
    assert better.reasons == (Reason.INTERNAL_IMPROVES,)
    too_small = decide(RouteAsk(BUY, 200, None), market(*quotes, depth=((10_000, 100),)), TERMS)
    assert too_small.venue == "XNAS"
    worse = decide(RouteAsk(BUY, 100, None), market(*quotes, depth=((10_010, 900),)), TERMS)
    assert worse.venue == "XNAS"


def test_a_non_marketable_limit_rests_internally() -> None:
    seen = market(quote("XNAS", 9_995, 10_005))
    decision = decide(RouteAsk(BUY, 100, 9_990), seen, TERMS)
    assert decision.internal
    assert decision.reasons == (Reason.NOT_MARKETABLE,)


def test_no_venue_reachable_fails_closed_at_the_nbbo() -> None:
    seen = Market(9_995, 10_005, (), ())
    decision = decide(RouteAsk(BUY, 100, None), seen, TERMS)
    assert decision.internal
    assert decision.cap == 10_005
    assert decision.reasons == (Reason.NO_VENUE,)


def test_when_the_nbbo_venue_is_unreachable_the_best_reachable_price_wins() -> None:
    seen = Market(9_995, 10_005, (quote("XNYS", 9_980, 10_020), quote("ARCX", 9_990, 10_010)), ())
    decision = decide(RouteAsk(BUY, 100, None), seen, TERMS)
    assert decision.venue == "ARCX"
    assert Reason.NBBO_VENUE_UNREACHABLE in decision.reasons


def test_a_limit_the_reachable_venues_cannot_meet_is_kept_internally() -> None:
    seen = Market(9_995, 10_005, (quote("XNYS", 9_980, 10_020),), ())
    decision = decide(RouteAsk(BUY, 100, 10_010), seen, TERMS)
    assert decision.internal
    assert decision.reasons == (Reason.NO_VENUE,)


def test_ties_on_price_go_to_size_then_fill_rate_then_speed_then_fee() -> None:
    terms = {
        "A": VenueTerms("A", "A", access_fee=30, fill_rate_pct=90, latency_us=500),
        "B": VenueTerms("B", "B", access_fee=10, fill_rate_pct=90, latency_us=500),
        "C": VenueTerms("C", "C", access_fee=0, fill_rate_pct=80, latency_us=100),
    }
    bigger = market(quote("A", 99, 101, size=100), quote("B", 99, 101, size=300))
    assert decide(RouteAsk(BUY, 300, None), bigger, terms).reasons[-1] is Reason.LARGER_SIZE
    assert decide(RouteAsk(BUY, 300, None), bigger, terms).venue == "B"
    same = market(quote("A", 99, 101), quote("B", 99, 101), quote("C", 99, 101))
    chosen = decide(RouteAsk(BUY, 100, None), same, terms)
    assert (chosen.venue, chosen.reasons[-1]) == ("B", Reason.LOWER_FEE)


def test_the_tie_break_named_is_against_the_runner_up_wherever_its_quote_comes() -> None:
    terms = {
        "A": VenueTerms("A", "A", access_fee=10),
        "B": VenueTerms("B", "B", access_fee=10, fill_rate_pct=80),
        "C": VenueTerms("C", "C", access_fee=20),
    }
    for order in ("ABC", "ACB", "BAC", "BCA", "CAB", "CBA"):
        same = market(*(quote(code, 99, 101) for code in order))
        chosen = decide(RouteAsk(BUY, 100, None), same, terms)
        assert (chosen.venue, chosen.reasons[-1]) == ("A", Reason.LOWER_FEE), order


def test_payment_for_order_flow_never_decides_a_route() -> None:
    terms = {
        "PAYS": VenueTerms("PAYS", "PAYS", pfof=50),
        "FAIR": VenueTerms("FAIR", "FAIR", pfof=0),
    }
    seen = market(quote("PAYS", 99, 102), quote("FAIR", 99, 101))
    assert decide(RouteAsk(BUY, 100, None), seen, terms).venue == "FAIR"


def test_the_fee_that_breaks_a_tie_is_the_one_for_the_orders_type() -> None:
    cheap_for_market = {OrderKind.MARKET: FeeTerms(access_fee=5)}
    cheap_for_limits = {OrderKind.MARKETABLE_LIMIT: FeeTerms(access_fee=5)}
    terms = {
        "A": VenueTerms("A", "A", access_fee=30, by_kind=cheap_for_market),
        "B": VenueTerms("B", "B", access_fee=30, by_kind=cheap_for_limits),
    }
    same = market(quote("A", 99, 101), quote("B", 99, 101))
    assert decide(RouteAsk(BUY, 100, None), same, terms).venue == "A"
    assert decide(RouteAsk(BUY, 100, 101), same, terms).venue == "B"


def test_a_venues_terms_for_a_type_replace_its_own_and_the_others_keep_them() -> None:
    venue = VenueTerms("A", "A", access_fee=30, rebate=2, pfof=10, by_kind={
        OrderKind.NON_MARKETABLE_LIMIT: FeeTerms(access_fee=0, rebate=20, pfof=10),
    })  # fmt: skip
    assert venue.fees(OrderKind.NON_MARKETABLE_LIMIT).net_payment == 30  # received
    assert venue.fees(OrderKind.MARKET) == FeeTerms(30, 2, 10)
    assert venue.fees(OrderKind.MARKET).net_payment == -18  # paid: fee above the rest


def test_an_orders_606_type_is_read_against_the_best_opposite_price_on_receipt() -> None:
    assert order_kind(RouteAsk(BUY, 100, None), 101) is OrderKind.MARKET
    assert order_kind(RouteAsk(BUY, 100, 101), 101) is OrderKind.MARKETABLE_LIMIT
    assert order_kind(RouteAsk(BUY, 100, 100), 101) is OrderKind.NON_MARKETABLE_LIMIT
    assert order_kind(RouteAsk(SELL, 100, 99), 99) is OrderKind.MARKETABLE_LIMIT
    assert order_kind(RouteAsk(SELL, 100, 100), 99) is OrderKind.NON_MARKETABLE_LIMIT
    assert order_kind(RouteAsk(SELL, 100, 100), None) is OrderKind.NON_MARKETABLE_LIMIT


QUOTES = st.lists(
    st.tuples(
        st.sampled_from(["XNYS", "XNAS", "ARCX"]),
        st.integers(9_900, 10_000),
        st.integers(1, 50),
        st.integers(0, 1_000),
        st.integers(0, 1_000),
    ),
    max_size=3,
    unique_by=lambda item: item[0],
)


@given(
    QUOTES,
    st.booleans(),
    st.integers(1, 2_000),
    st.one_of(st.none(), st.integers(9_850, 10_100)),
    st.lists(st.tuples(st.integers(9_850, 10_100), st.integers(1, 500)), max_size=4),
)
def test_never_a_worse_price_when_a_better_one_is_reachable(
    drawn: list[tuple[str, int, int, int, int]],
    buy: bool,  # noqa: FBT001 - drawn
    quantity: int,
    limit: int | None,
    levels: list[tuple[int, int]],
) -> None:
    quotes = tuple(
        VenueQuote(v, bid, bid_size, bid + gap, ask_size)
        for v, bid, gap, bid_size, ask_size in drawn
    )
    depth = tuple(sorted(levels, reverse=not buy))
    nbbo_bid = max((q.bid for q in quotes), default=None)
    nbbo_ask = min((q.ask for q in quotes), default=None)
    decision = decide(
        RouteAsk(buy, quantity, limit), Market(nbbo_bid, nbbo_ask, quotes, depth), TERMS
    )
    if decision.internal:
        if decision.cap is not None:  # never beyond the NBBO on the order's side
            assert decision.cap == (nbbo_ask if buy else nbbo_bid)
        return
    price = {q.venue: (q.ask if buy else q.bid) for q in quotes}
    quoting = [price[q.venue] for q in quotes if (q.ask_size if buy else q.bid_size) > 0]
    best = min(quoting) if buy else max(quoting)
    assert price[decision.venue] == best
    if limit is not None:
        assert (best <= limit) if buy else (best >= limit)


def test_a_non_marketable_order_rests_at_the_resting_venue_when_one_is_given() -> None:
    seen = market(quote("XNYS", 9_990, 10_010), quote("XNAS", 9_995, 10_005))
    inside = decide(RouteAsk(BUY, quantity=100, limit=9_900), seen, TERMS)
    assert inside.internal
    rests = rest_at(inside, "ARCX")
    assert (rests.venue, rests.reasons) == ("ARCX", (Reason.REST_AT_VENUE,))
    assert rest_at(inside, None) == inside  # no venue to rest at: the internal book


@given(st.integers(9_800, 10_200), st.sampled_from([BUY, SELL]))
def test_resting_never_takes_a_marketable_order_away_from_the_best_price(
    limit: int,
    buy: bool,  # noqa: FBT001 - drawn by hypothesis
) -> None:
    seen = market(quote("XNYS", 9_990, 10_010), quote("XNAS", 9_995, 10_005))
    decided = decide(RouteAsk(buy, quantity=100, limit=limit), seen, TERMS)
    rested = rest_at(decided, "XNYS")
    if decided.reasons != (Reason.NOT_MARKETABLE,):
        assert rested == decided
    else:
        assert rested.venue == "XNYS"


VENUE_TERMS = st.builds(
    lambda fill, latency, fee, rebate, market_fee: {
        "fill_rate_pct": fill,
        "latency_us": latency,
        "access_fee": fee,
        "rebate": rebate,
        "by_kind": {} if market_fee is None else {OrderKind.MARKET: FeeTerms(market_fee)},
    },
    st.sampled_from([90, 100]),
    st.sampled_from([100, 500]),
    st.integers(0, 3),
    st.integers(0, 2),
    st.one_of(st.none(), st.integers(0, 3)),
)
CLOSE_QUOTES = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C", "D"]),
        st.just(100),
        st.sampled_from([0, 0, 1]),
        st.sampled_from([0, 100, 300]),
    ),
    max_size=4,
    unique_by=lambda item: item[0],
)


@settings(max_examples=1_000)
@given(
    st.dictionaries(st.sampled_from(["A", "B", "C"]), VENUE_TERMS),
    CLOSE_QUOTES,
    st.booleans(),
    st.sampled_from([100, 200, 400]),
    st.one_of(st.none(), st.integers(99, 101)),
)
def test_the_venue_chosen_is_the_first_of_the_venues_at_the_best_price_ranked_in_full(
    drawn_terms: dict[str, dict[str, Any]],
    drawn: list[tuple[str, int, int, int]],
    buy: bool,  # noqa: FBT001 - drawn
    quantity: int,
    limit: int | None,
) -> None:
    terms = {code: VenueTerms(code, code, **fields) for code, fields in drawn_terms.items()}
    quotes = tuple(VenueQuote(v, bid, size, bid + gap, size) for v, bid, gap, size in drawn)
    ask, seen = RouteAsk(buy, quantity, limit), market(*quotes)
    decision = decide(ask, seen, terms)
    quoting = [q for q in quotes if q.venue in terms and q.bid_size > 0]
    price = {q.venue: q.ask if buy else q.bid for q in quoting}
    top = (min if buy else max)(price.values(), default=None)
    if top is None or (limit is not None and (top > limit if buy else top < limit)):
        assert decision.internal
        return

    def rank(venue: str) -> tuple[int, int, int, int]:
        shown, own = min(q.bid_size for q in quoting if q.venue == venue), terms[venue]
        net_fee = own.fees(ask.marketable_kind).net_fee
        return (-min(shown, quantity), -own.fill_rate_pct, own.latency_us, net_fee)

    ranked = sorted((q.venue for q in quoting if price[q.venue] == top), key=rank)  # stable
    assert decision.venue == ranked[0]
    at_nbbo = top == (seen.nbbo_ask if buy else seen.nbbo_bid)
    assert decision.reasons[:2] == (
        Reason.AT_NBBO if at_nbbo else Reason.NBBO_VENUE_UNREACHABLE,
        Reason.BEST_PRICE,
    )
    if len(ranked) == 1:
        assert len(decision.reasons) == 2
        return
    first, second = rank(ranked[0]), rank(ranked[1])
    differs = next((index for index in range(3) if first[index] != second[index]), 3)
    reasons = (Reason.LARGER_SIZE, Reason.FILL_RATE, Reason.FASTER, Reason.LOWER_FEE)
    assert decision.reasons[2] is reasons[differs]


def test_a_venues_terms_for_each_type_and_its_rank_are_read_once_when_made() -> None:
    by_kind = {OrderKind.MARKETABLE_LIMIT: FeeTerms(access_fee=5, rebate=1)}
    venue = VenueTerms("A", "A", access_fee=30, rebate=2, fill_rate_pct=90, latency_us=400,
                       by_kind=by_kind)  # fmt: skip
    assert venue.rank(OrderKind.MARKET) == (-90, 400, 28)
    assert venue.rank(OrderKind.MARKETABLE_LIMIT) == (-90, 400, 4)
    assert [venue.fees(kind) for kind in OrderKind] == [
        FeeTerms(30, 2),
        FeeTerms(5, 1),
        FeeTerms(30, 2),
        FeeTerms(30, 2),
    ]
    assert venue == VenueTerms("A", "A", 30, 2, 0, 90, 400, by_kind)
