"""Volatility bands: the published percentages, the limit state, the pause and resumption."""

from __future__ import annotations

import pytest

from tradeguard.market.bands import (
    LIMIT_STATE_NS,
    PAUSE_NS,
    Band,
    BandEvent,
    VolatilityBands,
    band_width,
)
from tradeguard.market.events import Nbbo

SECOND = 1_000_000_000
START = 1_800_000_000 * SECOND
CENT = 100


@pytest.mark.parametrize(
    ("tier", "reference", "width"),
    [
        (1, 1_000_000, 50_000),  # $100.00: 5% for tier 1
        (2, 1_000_000, 100_000),  # 10% for tier 2
        (1, 30_001, 1_500),  # just above $3.00: still 5%
        (1, 30_000, 6_000),  # $3.00: 20% for both tiers
        (2, 7_500, 1_500),  # $0.75: 20%
        (1, 7_499, 1_500),  # below $0.75: the lesser of $0.15 ...
        (2, 1_000, 750),  # ... or 75%
    ],
)
def test_band_width_follows_the_published_percentages(
    tier: int, reference: int, width: int
) -> None:
    assert band_width(tier, reference) == width


def test_a_band_is_rounded_inward_to_the_tick() -> None:
    assert Band.around(1_000_050, 1, CENT) == Band(1_000_050, 950_100, 1_050_000)


def nbbo(bid: int, ask: int, at_ns: int) -> Nbbo:
    return Nbbo("ACME", bid, 100, "XNYS", ask, 100, "XNAS", at_ns)


def settled(bands: VolatilityBands, seconds: int = 60) -> int:
    """A minute of quotes around $100.00, one a second; returns the time after them."""
    now = START
    for _ in range(seconds):
        assert bands.observe(nbbo(999_900, 1_000_100, now), 1, CENT, now) is BandEvent.NONE
        now += SECOND
    return now


def test_the_band_is_set_around_the_five_minute_mean() -> None:
    bands = VolatilityBands()
    settled(bands)
    assert bands.band("ACME") == Band(1_000_000, 950_000, 1_050_000)


def test_the_band_moves_only_when_the_mean_moves_one_percent() -> None:
    bands = VolatilityBands()
    now = settled(bands, seconds=10)
    bands.observe(nbbo(1_009_900, 1_010_100, now), 1, CENT, now)  # mean moves 0.09%
    band = bands.band("ACME")
    assert band is not None
    assert band.reference == 1_000_000
    for step in range(1, 20):
        at = now + step * SECOND
        bands.observe(nbbo(1_019_900, 1_020_100, at), 1, CENT, at)
    band = bands.band("ACME")
    assert band is not None
    assert band.reference >= 1_010_000  # the mean moved 1%: a new band


def test_fifteen_seconds_at_the_band_pause_the_symbol_five_minutes() -> None:
    bands = VolatilityBands()
    now = settled(bands)
    at_upper = nbbo(1_050_000, 1_050_200, now)  # the best bid at the upper band
    assert bands.observe(at_upper, 1, CENT, now) is BandEvent.NONE
    almost = now + LIMIT_STATE_NS - 1
    assert bands.observe(nbbo(1_050_000, 1_050_200, almost), 1, CENT, almost) is BandEvent.NONE
    due = now + LIMIT_STATE_NS
    assert bands.observe(nbbo(1_050_000, 1_050_200, due), 1, CENT, due) is BandEvent.PAUSE
    assert bands.paused("ACME")
    early = due + PAUSE_NS - 1
    assert bands.observe(nbbo(1_050_000, 1_050_200, early), 1, CENT, early) is BandEvent.NONE
    over = due + PAUSE_NS
    assert bands.observe(nbbo(1_050_000, 1_050_200, over), 1, CENT, over) is BandEvent.RESUME
    assert not bands.paused("ACME")


def test_leaving_the_band_before_fifteen_seconds_ends_the_limit_state() -> None:
    bands = VolatilityBands()
    now = settled(bands)
    bands.observe(nbbo(949_800, 950_000, now), 1, CENT, now)  # the best offer at the lower band
    back = now + 10 * SECOND
    bands.observe(nbbo(999_900, 1_000_100, back), 1, CENT, back)
    again = now + LIMIT_STATE_NS
    assert bands.observe(nbbo(949_800, 950_000, again), 1, CENT, again) is BandEvent.NONE
    assert not bands.paused("ACME")


def test_a_crossed_nbbo_moves_nothing() -> None:
    bands = VolatilityBands()
    now = settled(bands)
    assert bands.observe(nbbo(1_200_000, 1_100_000, now), 1, CENT, now) is BandEvent.NONE
    assert bands.band("ACME") == Band(1_000_000, 950_000, 1_050_000)
