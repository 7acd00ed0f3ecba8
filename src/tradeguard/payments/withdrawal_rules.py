"""The rules a withdrawal must pass, as pure functions of their inputs.

Limits are rolling windows ending now (any 24 hours, any 7 days), not calendar days: a
calendar day would let a customer (or someone holding their session) take the daily
limit twice across midnight. Every withdrawal that is not cancelled, rejected or
returned counts, from the moment it is requested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tradeguard.core.money import Money
from tradeguard.payments.problems import PaymentReason

HOUR_NS = 3600 * 10**9
DAY_NS = 24 * HOUR_NS
WEEK_NS = 7 * DAY_NS
COUNTING = ("requested", "verified", "in_review", "approved", "sent", "settled")


@dataclass(frozen=True, slots=True)
class Limits:
    """Rolling limits in cents."""

    daily_cents: int
    weekly_cents: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a rule refuses, with the inputs and threshold that decided it."""

    reason: PaymentReason
    detail: str
    facts: dict[str, str]


def limit_refusal(
    cents: int, earlier: Iterable[tuple[int, int]], now_ns: int, limits: Limits
) -> Refusal | None:
    """``earlier``: (requested at, cents) of counting withdrawals; the first limit passed."""
    day = week = 0
    for at_ns, amount in earlier:
        if at_ns > now_ns - WEEK_NS:
            week += amount
            if at_ns > now_ns - DAY_NS:
                day += amount
    return used_refusal(cents, day, week, limits)


def used_refusal(cents: int, day_used: int, week_used: int, limits: Limits) -> Refusal | None:
    """The first limit ``cents`` would pass, given what the last 24 hours and 7 days used."""
    windows = (
        (PaymentReason.LIMIT_DAILY, "24 hours", day_used, limits.daily_cents),
        (PaymentReason.LIMIT_WEEKLY, "7 days", week_used, limits.weekly_cents),
    )
    for reason, window, used, limit in windows:
        if used + cents > limit:
            facts = {"used": str(Money(used)), "limit": str(Money(limit)), "window": window}
            detail = f"{Money(used)} of {Money(limit)} already withdrawn in the last {window}"
            return Refusal(reason, detail, facts)
    return None


def cooling_refusal(changes_ns: Iterable[int | None], now_ns: int, hours: int) -> Refusal | None:
    """Refused within ``hours`` of the latest account-security change or new link."""
    latest = max((at for at in changes_ns if at is not None), default=None)
    if latest is None or now_ns >= latest + hours * HOUR_NS:
        return None
    ends = latest + hours * HOUR_NS
    return Refusal(
        PaymentReason.COOLING,
        f"withdrawals are held for {hours} hours after opening, a security change or a new link",
        {"ends_at_ns": str(ends)},
    )


def standing_refusal(status: str) -> Refusal | None:
    """Cash leaves only an active account: a restricted, suspended or closed one keeps it.

    An account is restricted after an ACH return, a surveillance action or a sanctions
    potential match, and suspended after a confirmed one: each holds the money in place
    until someone at the firm has decided.
    """
    if status == "active":
        return None
    return Refusal(
        PaymentReason.ACCOUNT_NOT_ACTIVE,
        f"the account is {status}: withdrawals wait until it is active again; contact support",
        {"account_status": status},
    )


def reviews_needed(cents: int, review_above: int, second_above: int) -> int:
    """0, 1 or 2 reviewers by amount."""
    if cents > second_above:
        return 2
    return 1 if cents > review_above else 0
