"""The hand-written features: device, session, location, credentials, money, trading, context.

Each is a small pure function of a ``Snapshot``; its docstring is its documented
definition. ``NAMED`` lists them with their families, in a fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tradeguard.fraud.context import Action
from tradeguard.fraud.events import Kind
from tradeguard.fraud.features import (
    DAY_NS,
    IMPOSSIBLE_TRAVEL_HOURS,
    NEVER_HOURS,
    Feature,
    Snapshot,
    hours,
    ratio,
    since_hours,
)
from tradeguard.fraud.geo import LOCAL_COUNTRY, UNKNOWN_COUNTRY

Compute = Callable[[Snapshot], float]
RECENT_HOURS = 24.0
NAMED: list[Feature] = []
CREDENTIAL_KINDS = (
    Kind.PASSWORD_CHANGE,
    Kind.PASSWORD_RESET,
    Kind.EMAIL_CHANGE,
    Kind.PHONE_CHANGE,
    Kind.FACTOR_ADDED,
    Kind.FACTOR_REMOVED,
)


def feature(family: str) -> Callable[[Compute], Compute]:
    """Register the decorated function as a feature of ``family`` (its docstring defines it)."""

    def register(compute: Compute) -> Compute:
        definition = " ".join((compute.__doc__ or "").split())
        NAMED.append(Feature(compute.__name__, family, definition, compute))
        return compute

    return register


def _flag(condition: bool) -> float:  # noqa: FBT001 - a condition as 0/1
    return 1.0 if condition else 0.0


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


# -- device and session ---------------------------------------------------------------


@feature("device")
def device_is_new(snap: Snapshot) -> float:
    """1 when the customer never signed in from this device (or it sent no device id)."""
    return _flag(snap.ctx.device is None or snap.ctx.device not in snap.user.devices)


@feature("device")
def device_missing(snap: Snapshot) -> float:
    """1 when the request carries no device identifier."""
    return _flag(snap.ctx.device is None)


@feature("device")
def device_age_hours(snap: Snapshot) -> float:
    """Hours since this customer first signed in from this device (0 when new)."""
    first = snap.user.devices.get(snap.ctx.device or "")
    return 0.0 if first is None else since_hours(snap, first)


@feature("device")
def device_user_count(snap: Snapshot) -> float:
    """Number of customers seen on this device (shared devices: mule farms)."""
    return float(len(snap.device.users)) if snap.device else 0.0


@feature("device")
def device_other_user_count(snap: Snapshot) -> float:
    """Number of other customers seen on this device."""
    users = snap.device.users if snap.device else set()
    return float(len(users - {snap.ctx.user}))


@feature("device")
def known_device_count(snap: Snapshot) -> float:
    """Number of devices the customer has signed in from."""
    return float(len(snap.user.devices))


@feature("session")
def session_age_minutes(snap: Snapshot) -> float:
    """Minutes since the session signed in (0 for a sign-in, or an unknown session)."""
    seen = snap.user.sessions.get(snap.ctx.session or "")
    return 0.0 if seen is None else max(snap.ctx.ts_ns - seen.started_ns, 0) / 60e9


@feature("session")
def session_unknown(snap: Snapshot) -> float:
    """1 when a session acts whose sign-in the profile never saw."""
    return _flag(snap.ctx.session is not None and snap.ctx.session not in snap.user.sessions)


@feature("session")
def session_device_mismatch(snap: Snapshot) -> float:
    """1 when the session is used from another device than the one it signed in on (both known)."""
    seen = snap.user.sessions.get(snap.ctx.session or "")
    device = snap.ctx.device
    return _flag(seen is not None and None not in {seen.device, device} and seen.device != device)


@feature("session")
def session_network_mismatch(snap: Snapshot) -> float:
    """1 when the session is used from another network than the one it signed in from."""
    seen = snap.user.sessions.get(snap.ctx.session or "")
    prefix = snap.ctx.network.prefix if snap.ctx.network else None
    return _flag(seen is not None and seen.network is not None and seen.network != prefix)


# -- location ---------------------------------------------------------------------------


@feature("location")
def network_is_new(snap: Snapshot) -> float:
    """1 when the customer never signed in from this network (/24 or /48)."""
    network = snap.ctx.network
    return _flag(network is None or network.prefix not in snap.user.networks)


@feature("location")
def country_is_new(snap: Snapshot) -> float:
    """1 when the customer never signed in from this country."""
    network = snap.ctx.network
    return _flag(network is None or network.country not in snap.user.countries)


@feature("location")
def country_unknown(snap: Snapshot) -> float:
    """1 when the address's country is unknown (no address, or in no configured block)."""
    return _flag(snap.ctx.network is None or snap.ctx.network.country == UNKNOWN_COUNTRY)


@feature("location")
def network_is_local(snap: Snapshot) -> float:
    """1 when the address is private or loopback (the installation's own networks)."""
    return _flag(snap.ctx.network is not None and snap.ctx.network.country == LOCAL_COUNTRY)


@feature("location")
def known_country_count(snap: Snapshot) -> float:
    """Number of countries the customer has signed in from."""
    return float(len(snap.user.countries))


@feature("location")
def known_network_count(snap: Snapshot) -> float:
    """Number of networks the customer has signed in from."""
    return float(len(snap.user.networks))


@feature("location")
def network_user_count(snap: Snapshot) -> float:
    """Number of customers seen on this network."""
    return float(len(snap.network.users)) if snap.network else 0.0


@feature("location")
def network_failed_logins_1h(snap: Snapshot) -> float:
    """Failed sign-ins and second-factor answers from this network in the last hour (any user)."""
    return (
        float(snap.network.failures.within(snap.ctx.ts_ns, DAY_NS // 24)) if snap.network else 0.0
    )


@feature("location")
def network_failed_logins_24h(snap: Snapshot) -> float:
    """Failed sign-ins and second-factor answers from this network in the last day (any user)."""
    return float(snap.network.failures.within(snap.ctx.ts_ns, DAY_NS)) if snap.network else 0.0


@feature("location")
def country_differs_from_last_login(snap: Snapshot) -> float:
    """1 when the country differs from the customer's last sign-in's."""
    last = snap.user.last_login_country
    network = snap.ctx.network
    return _flag(last is not None and network is not None and network.country != last)


@feature("location")
def impossible_travel(snap: Snapshot) -> float:
    """1 when the country changed less than two hours after a sign-in from another country."""
    moved = country_differs_from_last_login(snap) > 0
    return _flag(moved and since_hours(snap, snap.user.last_login_ns) < IMPOSSIBLE_TRAVEL_HOURS)


@feature("location")
def last_login_country_changed(snap: Snapshot) -> float:
    """1 when the last two sign-ins were from different countries."""
    previous, last = snap.user.previous_login_country, snap.user.last_login_country
    return _flag(previous is not None and last is not None and previous != last)


# -- credentials and profile ------------------------------------------------------------


@feature("credentials")
def credential_changes_24h(snap: Snapshot) -> float:
    """Password, reset, email, phone and second-factor changes in the last day, together."""
    now = snap.ctx.ts_ns
    return float(sum(snap.user.occurrences(kind).within(now, DAY_NS) for kind in CREDENTIAL_KINDS))


def latest_credential_change_ns(snap: Snapshot) -> int | None:
    """When the latest password, reset, email, phone or factor change happened, or None."""
    lasts = [snap.user.occurrences(kind).last_ns for kind in CREDENTIAL_KINDS]
    known = [last for last in lasts if last is not None]
    return max(known) if known else None


@feature("credentials")
def hours_since_any_credential_change(snap: Snapshot) -> float:
    """Hours since the latest password, email, phone or factor change."""
    return since_hours(snap, latest_credential_change_ns(snap))


@feature("credentials")
def weak_factor_enrolled_7d(snap: Snapshot) -> float:
    """1 when an SMS or email second factor was enrolled in the last week (downgrade)."""
    return _flag(since_hours(snap, snap.user.weak_factor_ns) < 7 * 24)


@feature("credentials")
def factor_removed_then_weak_added(snap: Snapshot) -> float:
    """1 when a factor was removed in the last week and an SMS or email one enrolled."""
    removed = snap.user.occurrences(Kind.FACTOR_REMOVED).within(snap.ctx.ts_ns, 7 * DAY_NS)
    return _flag(removed > 0 and weak_factor_enrolled_7d(snap) > 0)


@feature("credentials")
def contact_changed_on_new_device(snap: Snapshot) -> float:
    """1 when email or phone changed in the last day and this device is new."""
    now = snap.ctx.ts_ns
    changed = sum(
        snap.user.occurrences(k).within(now, DAY_NS) for k in (Kind.EMAIL_CHANGE, Kind.PHONE_CHANGE)
    )
    return _flag(changed > 0 and device_is_new(snap) > 0)


# -- money movement ---------------------------------------------------------------------


@feature("money")
def amount_log(snap: Snapshot) -> float:
    """log(1 + amount in dollars) of the withdrawal, order notional or deposit at stake."""
    return _log(snap.ctx.amount_cents / 100)


@feature("money")
def amount_vs_balance(snap: Snapshot) -> float:
    """Amount over the account's balance (0 when the balance is not known)."""
    balance = snap.ctx.balance_cents
    return 0.0 if balance is None else min(ratio(snap.ctx.amount_cents, balance), 10.0)


@feature("money")
def amount_vs_max_withdrawal(snap: Snapshot) -> float:
    """Amount over the customer's largest withdrawal so far (10 when none)."""
    return min(ratio(snap.ctx.amount_cents, snap.user.max_withdrawal_cents), 10.0)


@feature("money")
def amount_vs_mean_withdrawal(snap: Snapshot) -> float:
    """Amount over the customer's mean withdrawal (10 when none)."""
    count = snap.user.occurrences(Kind.WITHDRAWAL).total
    mean = snap.user.withdrawn_cents / count if count else 0.0
    return min(ratio(snap.ctx.amount_cents, mean), 10.0)


@feature("money")
def amount_vs_deposits(snap: Snapshot) -> float:
    """Amount over everything the customer ever deposited (10 when nothing)."""
    return min(ratio(snap.ctx.amount_cents, snap.user.deposited_cents), 10.0)


@feature("money")
def amount_vs_last_deposit(snap: Snapshot) -> float:
    """Amount over the last deposit (deposit in, the same out: mule turnaround)."""
    return min(ratio(snap.ctx.amount_cents, snap.user.last_deposit_cents), 10.0)


@feature("money")
def first_withdrawal(snap: Snapshot) -> float:
    """1 when the customer never withdrew before."""
    return _flag(snap.user.occurrences(Kind.WITHDRAWAL).total == 0)


@feature("money")
def deposit_to_withdrawal_hours(snap: Snapshot) -> float:
    """For a withdrawal, hours since the last deposit (one year otherwise)."""
    if snap.action is not Action.WITHDRAWAL:
        return NEVER_HOURS
    return since_hours(snap, snap.user.occurrences(Kind.DEPOSIT).last_ns)


@feature("money")
def bank_link_age_hours(snap: Snapshot) -> float:
    """Hours since the newest bank link (a new link then a withdrawal)."""
    return since_hours(snap, snap.user.occurrences(Kind.BANK_LINK).last_ns)


@feature("money")
def withdrawal_after_credential_change(snap: Snapshot) -> float:
    """1 for a withdrawal within a day of a password, email, phone or factor change."""
    recent = hours_since_any_credential_change(snap) < RECENT_HOURS
    return _flag(snap.action is Action.WITHDRAWAL and recent)


@feature("money")
def withdrawal_after_liquidation(snap: Snapshot) -> float:
    """Sell orders in the last day, for a withdrawal (liquidate then withdraw)."""
    if snap.action is not Action.WITHDRAWAL:
        return 0.0
    return float(snap.user.occurrences(Kind.SELL_ORDER).within(snap.ctx.ts_ns, DAY_NS))


@feature("money")
def withdrawn_total_log(snap: Snapshot) -> float:
    """log(1 + dollars withdrawn ever)."""
    return _log(snap.user.withdrawn_cents / 100)


@feature("money")
def deposited_total_log(snap: Snapshot) -> float:
    """log(1 + dollars deposited ever)."""
    return _log(snap.user.deposited_cents / 100)


# -- trading ----------------------------------------------------------------------------


@feature("trading")
def order_rate_vs_baseline(snap: Snapshot) -> float:
    """Orders in the last hour over the customer's hourly mean of the last week."""
    orders = snap.user.occurrences(Kind.ORDER)
    last_hour = orders.within(snap.ctx.ts_ns, DAY_NS // 24)
    weekly_mean = orders.within(snap.ctx.ts_ns, 7 * DAY_NS) / (7 * 24)
    return min(ratio(last_hour, weekly_mean), 100.0)


@feature("trading")
def symbol_is_new(snap: Snapshot) -> float:
    """1 for an order in a symbol the customer never traded."""
    symbol = snap.ctx.symbol
    return _flag(symbol is not None and symbol not in snap.user.symbols)


@feature("trading")
def first_order(snap: Snapshot) -> float:
    """1 for the customer's first order ever."""
    return _flag(snap.action is Action.ORDER and snap.user.occurrences(Kind.ORDER).total == 0)


@feature("trading")
def order_is_sell(snap: Snapshot) -> float:
    """1 for a sell order."""
    return _flag(snap.action is Action.ORDER and snap.ctx.sell)


@feature("trading")
def sell_share_24h(snap: Snapshot) -> float:
    """Share of the last day's orders that were sells."""
    now = snap.ctx.ts_ns
    orders = snap.user.occurrences(Kind.ORDER).within(now, DAY_NS)
    return (
        ratio(snap.user.occurrences(Kind.SELL_ORDER).within(now, DAY_NS), orders) if orders else 0.0
    )


@feature("trading")
def quantity_vs_mean(snap: Snapshot) -> float:
    """Order quantity over the customer's mean order quantity (10 when no orders)."""
    count = snap.user.occurrences(Kind.ORDER).total
    mean = snap.user.order_quantity_total / count if count else 0.0
    return min(ratio(snap.ctx.quantity, mean), 10.0)


@feature("trading")
def flagged_symbol(snap: Snapshot) -> float:
    """1 when the symbol is thin and traded by accounts under review."""
    return _flag(snap.ctx.flagged_symbol)


@feature("trading")
def known_symbol_count(snap: Snapshot) -> float:
    """Number of symbols the customer has traded."""
    return float(len(snap.user.symbols))


@feature("trading")
def sell_on_new_device(snap: Snapshot) -> float:
    """1 for a sell order from a device the customer never signed in from."""
    return _flag(order_is_sell(snap) > 0 and device_is_new(snap) > 0)


# -- context ----------------------------------------------------------------------------


@feature("context")
def account_age_days(snap: Snapshot) -> float:
    """Days since the account was opened (else since the customer was first seen)."""
    opened = snap.ctx.account_created_ns or snap.user.first_seen_ns
    return max(hours(snap.ctx.ts_ns - opened), 0.0) / 24


@feature("context")
def kyc_risk(snap: Snapshot) -> float:
    """The onboarding risk rating: 0 low, 1 medium, 2 high."""
    return float(snap.ctx.kyc_risk)


@feature("context")
def linked_accounts_under_review(snap: Snapshot) -> float:
    """Accounts linked to the customer (device, bank, address) with an open case."""
    return float(snap.ctx.linked_under_review)


@feature("context")
def hour_of_day_utc(snap: Snapshot) -> float:
    """Hour of the day (UTC) of the request."""
    return float((snap.ctx.ts_ns // (DAY_NS // 24)) % 24)


@feature("context")
def activity_gap_days(snap: Snapshot) -> float:
    """Days since the customer's last sign-in (a dormant account waking up)."""
    return since_hours(snap, snap.user.last_login_ns) / 24
