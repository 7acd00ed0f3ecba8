"""Feature drift: bins fixed at training, one character per feature, PSI against training."""

from __future__ import annotations

import random

import pytest

from tradeguard.fraud.drift import MAJOR, bins_of, codes, drift, level, profile, psi

NAMES = ("steady", "moving", "constant")


def rows(seed: int, shift: float, count: int = 2000) -> list[list[float]]:
    """Rows of three features: one steady, one whose mean moves by ``shift``, one constant."""
    draw = random.Random(seed)  # noqa: S311 - test data, not security
    return [[draw.gauss(0, 1), draw.gauss(shift, 1), 1.0] for _ in range(count)]


def test_profile_when_trained_then_ten_bins_sharing_the_rows_and_constant_has_one() -> None:
    bins = bins_of({"drift": profile(rows(1, 0.0), NAMES)}, NAMES)
    assert bins is not None
    steady, _, constant = bins
    assert len(steady.shares) == 10
    assert sum(steady.shares) == pytest.approx(1.0)
    assert max(steady.shares) < 0.11
    assert constant.edges == ()
    assert constant.shares == (1.0,)


def test_drift_when_one_feature_moved_then_it_ranks_first_and_only_it_shifted() -> None:
    bins = bins_of({"drift": profile(rows(1, 0.0), NAMES)}, NAMES)
    assert bins is not None
    recorded = [codes(bins, row) for row in rows(2, 1.0, 1000)]
    assert all(len(text) == len(NAMES) for text in recorded)
    seen, ranked = drift(bins, NAMES, recorded)
    assert seen == 1000
    assert ranked[0][0] == "moving"
    assert ranked[0][1] > MAJOR
    assert {name: level(index) for name, index in ranked[1:]} == {
        "steady": "stable",
        "constant": "stable",
    }


def test_drift_when_recorded_under_another_feature_list_then_skipped() -> None:
    bins = bins_of({"drift": profile(rows(1, 0.0), NAMES)}, NAMES)
    assert bins is not None
    seen, _ = drift(bins, NAMES, ["0000", "00"])
    assert seen == 0


def test_psi_when_same_shares_then_zero_and_when_emptied_bin_then_large() -> None:
    assert psi([0.5, 0.5], [50, 50]) == pytest.approx(0.0)
    assert psi([0.5, 0.5], [100, 0]) > 1.0
    assert psi([0.5, 0.5], [0, 0]) == 0.0


def test_bins_of_when_model_trained_without_then_none() -> None:
    assert bins_of({}, NAMES) is None
    assert bins_of({"drift": {"steady": {"edges": [], "shares": [1.0]}}}, NAMES) is None
