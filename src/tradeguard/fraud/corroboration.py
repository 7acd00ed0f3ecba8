"""Corroboration of a withdrawal after a credential change or a liquidation (decision 87).

A password, email, phone or factor change followed by a withdrawal is common among
legitimate customers; so is selling and withdrawing the proceeds. FINRA Regulatory Notice
21-18 describes the takeover around them: a sign-in from an unfamiliar device or place,
contact details or credentials changed, a new bank link, then liquidation and withdrawal.
The two withdrawal rules therefore act on the change (or the liquidation) only with the
rest of that pattern. Each piece of evidence is *strong* (a step-up can no longer be
trusted, or money leaves to where the customer never sent it) or *weak*; any strong one,
or two weak ones, block; one weak one steps up; none leaves the decision to the score.

Every piece is read relative to an *anchor*: the latest credential change, or the first
sell of the liquidation. Nothing here scans history: the profile's devices and networks
are the customer's bounded sets, the event times its bounded recent windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tradeguard.fraud.events import Kind
from tradeguard.fraud.features import DAY_NS, Snapshot
from tradeguard.fraud.profiles import HOUR_NS
from tradeguard.fraud.signals import CREDENTIAL_KINDS, latest_credential_change_ns

UNFAMILIAR_BEFORE_NS = 24 * HOUR_NS
"""A device or network first seen this long before the anchor, or later, is unfamiliar."""
FACTOR_WINDOW_NS = 7 * DAY_NS
"""A second factor removed, or an SMS or email one enrolled, this recently is a downgrade."""
CONTACT_WINDOW_NS = DAY_NS
"""An email or phone change this recently took the customer's warning channel."""
NEW_BANK_LINK_NS = 7 * DAY_NS
"""A bank link younger than this is new even when it predates the anchor."""
CREDENTIAL_WINDOW_NS = DAY_NS
"""A credential change this recently corroborates a liquidation."""

CONTACT_KINDS = (Kind.EMAIL_CHANGE, Kind.PHONE_CHANGE)

Evidence = Callable[[Snapshot, int], bool]


@dataclass(frozen=True, slots=True)
class Corroboration:
    """The evidence found beside a credential change or a liquidation."""

    strong: tuple[str, ...]
    weak: tuple[str, ...]

    @property
    def blocks(self) -> bool:
        """Any strong piece, or two weak ones: the withdrawal is held for review."""
        return bool(self.strong) or len(self.weak) >= 2  # noqa: PLR2004 - two weak ones

    @property
    def names(self) -> tuple[str, ...]:
        """Every piece found, strong first."""
        return (*self.strong, *self.weak)


def _within(snap: Snapshot, kinds: tuple[Kind, ...], window_ns: int) -> bool:
    now = snap.ctx.ts_ns
    return any(snap.user.occurrences(kind).within(now, window_ns) for kind in kinds)


def unfamiliar_access(snap: Snapshot, anchor_ns: int) -> bool:
    """The request's device or network was never used, or one was first used near the anchor.

    The withdrawal's own device and network count when the request names them; the
    change's are the customer's newest devices and networks (the change was made in a
    session signed in from one of them).
    """
    devices, networks = snap.user.devices, snap.user.networks
    device, network = snap.ctx.device, snap.ctx.network
    if (device is not None and device not in devices) or (
        network is not None and network.prefix not in networks
    ):
        return True
    newest = max((*devices.values(), *networks.values()), default=None)
    return newest is not None and newest >= anchor_ns - UNFAMILIAR_BEFORE_NS


def factor_weakened(snap: Snapshot, _anchor_ns: int) -> bool:
    """A second factor was removed, or an SMS or email one enrolled, in the last week."""
    weak = snap.user.weak_factor_ns
    recent_weak = weak is not None and snap.ctx.ts_ns - weak < FACTOR_WINDOW_NS
    return recent_weak or _within(snap, (Kind.FACTOR_REMOVED,), FACTOR_WINDOW_NS)


def bank_link_after(snap: Snapshot, anchor_ns: int) -> bool:
    """A bank account was linked at or after the anchor (the destination may be it)."""
    last = snap.user.occurrences(Kind.BANK_LINK).last_ns
    return last is not None and last >= anchor_ns


def bank_link_new(snap: Snapshot, _anchor_ns: int) -> bool:
    """A bank account was linked in the last week."""
    return _within(snap, (Kind.BANK_LINK,), NEW_BANK_LINK_NS)


def contact_changed(snap: Snapshot, _anchor_ns: int) -> bool:
    """The email address or phone number changed in the last day."""
    return _within(snap, CONTACT_KINDS, CONTACT_WINDOW_NS)


def credential_changed(snap: Snapshot, _anchor_ns: int) -> bool:
    """A password, email, phone or factor change in the last day."""
    return _within(snap, CREDENTIAL_KINDS, CREDENTIAL_WINDOW_NS)


STRONG: tuple[tuple[str, Evidence], ...] = (
    ("unfamiliar_access", unfamiliar_access),
    ("factor_weakened", factor_weakened),
    ("bank_link_after", bank_link_after),
)
WEAK: tuple[tuple[str, Evidence], ...] = (
    ("contact_changed", contact_changed),
    ("bank_link_new", bank_link_new),
)
SCORE = "score_elevated"
"""The model's probability reached the step-up threshold (strong)."""


def corroborate(
    snap: Snapshot,
    anchor_ns: int,
    *,
    elevated: bool,
    weak_extra: tuple[tuple[str, Evidence], ...] = (),
) -> Corroboration:
    """The evidence of ``snap`` relative to ``anchor_ns``; ``elevated``: the score's part."""
    strong = tuple(name for name, found in STRONG if found(snap, anchor_ns))
    weak = tuple(name for name, found in (*WEAK, *weak_extra) if found(snap, anchor_ns))
    return Corroboration((*strong, *((SCORE,) if elevated else ())), weak)


def after_credential_change(snap: Snapshot, *, elevated: bool) -> Corroboration | None:
    """The corroboration of a withdrawal within a day of a change; None without a change."""
    anchor = latest_credential_change_ns(snap)
    if anchor is None or snap.ctx.ts_ns - anchor >= CREDENTIAL_WINDOW_NS:
        return None
    return corroborate(snap, anchor, elevated=elevated)


LIQUIDATION_SELLS = 3
"""Sell orders in the last day that make a liquidation."""


def after_liquidation(snap: Snapshot, *, elevated: bool) -> Corroboration | None:
    """The corroboration of a withdrawal after 3+ sells in a day; None without them."""
    sells = snap.user.occurrences(Kind.SELL_ORDER)
    anchor = sells.first_within(snap.ctx.ts_ns, DAY_NS)
    if anchor is None or sells.within(snap.ctx.ts_ns, DAY_NS) < LIQUIDATION_SELLS:
        return None
    extra = (("credential_changed", credential_changed),)
    return corroborate(snap, anchor, elevated=elevated, weak_extra=extra)
