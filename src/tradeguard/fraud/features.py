"""Features of a decision: each a named, documented pure function of one snapshot.

A ``Snapshot`` is the decision's context with the profiles of its user, device and
network as they stand. This module holds the families generated per event kind: counts
in the last hour, day and week, hours since the last one, lifetime counts, and the
action itself; ``signals`` holds the hand-written ones and ``catalog`` the full list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.events import Kind
from tradeguard.fraud.profiles import HOUR_NS, ProfileStore, SharedProfile, UserProfile

NEVER_HOURS = 24.0 * 365
IMPOSSIBLE_TRAVEL_HOURS = 2.0
DAY_NS = 24 * HOUR_NS


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A decision's context and the profiles it is judged against."""

    action: Action
    ctx: DecisionContext
    user: UserProfile
    device: SharedProfile | None
    network: SharedProfile | None


@dataclass(frozen=True, slots=True)
class Feature:
    """One model input: its name, family, definition and how it is computed."""

    name: str
    family: str
    definition: str
    compute: Callable[[Snapshot], float]


def snapshot(store: ProfileStore, action: Action, ctx: DecisionContext) -> Snapshot:
    """The snapshot of ``ctx``: its profiles as they stand (a new user has an empty one)."""
    prefix = ctx.network.prefix if ctx.network else None
    user, device, network = store.parts(ctx.user, ctx.device, prefix)
    return Snapshot(action, ctx, user or UserProfile(first_seen_ns=ctx.ts_ns), device, network)


def hours(ns: int) -> float:
    """Nanoseconds as hours."""
    return ns / HOUR_NS


def since_hours(snap: Snapshot, then_ns: int | None) -> float:
    """Hours from ``then_ns`` to the decision, capped at a year (a year when never)."""
    if then_ns is None:
        return NEVER_HOURS
    return min(max(hours(snap.ctx.ts_ns - then_ns), 0.0), NEVER_HOURS)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; 10 (or 0 for a zero numerator) when there is no base."""
    return numerator / denominator if denominator > 0 else (10.0 if numerator > 0 else 0.0)


# -- counts in windows, hours since last, lifetime counts ------------------------------

WINDOWS = (("1h", HOUR_NS), ("24h", DAY_NS), ("7d", 7 * DAY_NS))
COUNTED = {
    Kind.LOGIN: "successful sign-ins",
    Kind.LOGIN_FAILED: "failed password sign-ins",
    Kind.MFA_FAILED: "wrong second-factor answers",
    Kind.NEW_DEVICE: "sign-ins from a device never seen before",
    Kind.PASSWORD_CHANGE: "password changes",
    Kind.PASSWORD_RESET: "password reset requests",
    Kind.EMAIL_CHANGE: "email address changes",
    Kind.PHONE_CHANGE: "phone number changes",
    Kind.FACTOR_ADDED: "second factors enrolled",
    Kind.FACTOR_REMOVED: "second factors removed",
    Kind.STEP_UP: "step-up verifications passed",
    Kind.ORDER: "orders placed (buy or sell)",
    Kind.SELL_ORDER: "sell orders placed",
    Kind.ORDER_DENIED: "orders denied by the pre-trade checks",
    Kind.WITHDRAWAL: "withdrawals requested",
    Kind.DEPOSIT: "deposits settled",
    Kind.BANK_LINK: "bank accounts linked",
}
SINCE = {
    Kind.LOGIN: "the last successful sign-in",
    Kind.LOGIN_FAILED: "the last failed sign-in",
    Kind.PASSWORD_CHANGE: "the last password change",
    Kind.PASSWORD_RESET: "the last password reset request",
    Kind.EMAIL_CHANGE: "the last email change",
    Kind.PHONE_CHANGE: "the last phone change",
    Kind.FACTOR_ADDED: "the last second factor enrolled",
    Kind.FACTOR_REMOVED: "the last second factor removed",
    Kind.NEW_DEVICE: "the last new-device sign-in",
    Kind.BANK_LINK: "the last bank link",
    Kind.DEPOSIT: "the last deposit",
    Kind.WITHDRAWAL: "the last withdrawal",
    Kind.ORDER: "the last order",
    Kind.STEP_UP: "the last step-up",
    Kind.ACH_RETURN: "the last ACH return",
}
LIFETIME = {
    Kind.LOGIN: "successful sign-ins ever",
    Kind.ORDER: "orders ever",
    Kind.WITHDRAWAL: "withdrawals ever",
    Kind.DEPOSIT: "deposits ever",
    Kind.ACH_RETURN: "ACH returns ever",
    Kind.BANK_LINK: "bank links ever",
}


def _count_feature(kind: Kind, label: str, window: str, window_ns: int) -> Feature:
    def compute(snap: Snapshot) -> float:
        return float(snap.user.occurrences(kind).within(snap.ctx.ts_ns, window_ns))

    return Feature(
        f"{kind.value}_count_{window}",
        "velocity",
        f"Number of {label} in the last {window}.",
        compute,
    )


def _since_feature(kind: Kind, label: str) -> Feature:
    def compute(snap: Snapshot) -> float:
        return since_hours(snap, snap.user.occurrences(kind).last_ns)

    definition = f"Hours since {label} (capped at one year; one year when never)."
    return Feature(f"hours_since_{kind.value}", "recency", definition, compute)


def _lifetime_feature(kind: Kind, label: str) -> Feature:
    def compute(snap: Snapshot) -> float:
        return float(snap.user.occurrences(kind).total)

    return Feature(f"{kind.value}_total", "history", f"Number of {label}.", compute)


def _action_feature(action: Action) -> Feature:
    def compute(snap: Snapshot) -> float:
        return 1.0 if snap.action is action else 0.0

    return Feature(
        f"action_is_{action.value}", "context", f"1 when the decision is {action.value}.", compute
    )


GENERATED: list[Feature] = [
    *(
        _count_feature(kind, label, window, span)
        for kind, label in COUNTED.items()
        for window, span in WINDOWS
    ),
    *(_since_feature(kind, label) for kind, label in SINCE.items()),
    *(_lifetime_feature(kind, label) for kind, label in LIFETIME.items()),
    *(_action_feature(action) for action in Action),
]
