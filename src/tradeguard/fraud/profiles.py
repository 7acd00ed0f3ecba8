"""Per-entity profiles (user, device, network), kept up to date one event at a time.

A profile is bounded state: per event kind the times of the last week (at most
``MAX_TIMES`` of them), the last time and the lifetime count; the devices, networks,
countries and symbols seen with their first sighting; running sums of amounts. The
features read these in constant or logarithmic time: nothing on the scoring path scans
history. ``ProfileStore.apply`` is the one place a profile changes.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

from tradeguard.fraud.events import WEAK_FACTORS, FraudEvent, Kind

NS = 1_000_000_000
HOUR_NS = 3600 * NS
RETENTION_NS = 8 * 24 * HOUR_NS
MAX_TIMES = 512
MAX_SESSIONS = 64


@dataclass(slots=True)
class Occurrences:
    """When events of one kind happened: recent times, the last time, the lifetime count."""

    times: list[int] = field(default_factory=list)
    last_ns: int | None = None
    total: int = 0

    def add(self, ts_ns: int) -> None:
        """Count one more event at ``ts_ns`` and forget times older than the retention."""
        bisect.insort(self.times, ts_ns)
        self.total += 1
        self.last_ns = ts_ns if self.last_ns is None else max(self.last_ns, ts_ns)
        cutoff = bisect.bisect_left(self.times, self.last_ns - RETENTION_NS)
        excess = max(cutoff, len(self.times) - MAX_TIMES)
        if excess:
            del self.times[:excess]

    def within(self, now_ns: int, window_ns: int) -> int:
        """How many happened in ``(now - window, now]``."""
        low = bisect.bisect_right(self.times, now_ns - window_ns)
        high = bisect.bisect_right(self.times, now_ns)
        return high - low

    def first_within(self, now_ns: int, window_ns: int) -> int | None:
        """The earliest time in ``(now - window, now]``, or None when there is none."""
        low = bisect.bisect_right(self.times, now_ns - window_ns)
        return self.times[low] if low < bisect.bisect_right(self.times, now_ns) else None


@dataclass(frozen=True, slots=True)
class SessionSeen:
    """Where a session signed in from."""

    device: str | None
    network: str | None
    started_ns: int


@dataclass(slots=True)
class UserProfile:
    """What a customer usually does, as of the last event applied."""

    first_seen_ns: int
    kinds: dict[Kind, Occurrences] = field(default_factory=lambda: defaultdict(Occurrences))
    devices: dict[str, int] = field(default_factory=dict)
    networks: dict[str, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)
    symbols: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, SessionSeen] = field(default_factory=dict)
    last_login_country: str | None = None
    last_login_ns: int | None = None
    previous_login_country: str | None = None
    weak_factor_ns: int | None = None
    withdrawn_cents: int = 0
    max_withdrawal_cents: int = 0
    deposited_cents: int = 0
    last_deposit_cents: int = 0
    order_quantity_total: int = 0

    def occurrences(self, kind: Kind) -> Occurrences:
        """The occurrences of ``kind`` (empty when never seen)."""
        return self.kinds[kind]


@dataclass(slots=True)
class SharedProfile:
    """A device or a network: the users seen on it and its failed sign-ins."""

    first_seen_ns: int
    users: set[str] = field(default_factory=set)
    failures: Occurrences = field(default_factory=Occurrences)


class ProfileStore:
    """Every profile of this process, changed only by ``apply`` (thread-safe)."""

    in_memory: ClassVar[bool] = True
    """Whether reading a profile stays in this process (never waits for the network)."""

    def __init__(self) -> None:
        self.users: dict[str, UserProfile] = {}
        self.devices: dict[str, SharedProfile] = {}
        self.networks: dict[str, SharedProfile] = {}
        self.lock = threading.Lock()

    def user(self, user: str) -> UserProfile | None:
        """The user's profile, or None if nothing of theirs was seen."""
        return self.users.get(user)

    def device(self, device: str | None) -> SharedProfile | None:
        """The device's profile, or None."""
        return self.devices.get(device) if device else None

    def network(self, prefix: str | None) -> SharedProfile | None:
        """The network's profile, or None."""
        return self.networks.get(prefix) if prefix else None

    def parts(
        self, user: str, device: str | None, network: str | None
    ) -> tuple[UserProfile | None, SharedProfile | None, SharedProfile | None]:
        """The user's, device's and network's profiles at once."""
        return self.user(user), self.device(device), self.network(network)

    def apply(self, event: FraudEvent) -> None:
        """Fold one event into the profiles it concerns."""
        with self.lock:
            profile = self.users.get(event.user)
            if profile is None:
                profile = self.users[event.user] = UserProfile(first_seen_ns=event.ts_ns)
            update_user(profile, event)
            self._update_shared(event)

    def clear(self) -> None:
        """Forget every profile."""
        with self.lock:
            self.users.clear()
            self.devices.clear()
            self.networks.clear()

    def _update_shared(self, event: FraudEvent) -> None:
        failed = event.kind in {Kind.LOGIN_FAILED, Kind.MFA_FAILED}
        if event.device:
            device = self.devices.setdefault(event.device, SharedProfile(event.ts_ns))
            device.users.add(event.user)
        if event.network is not None:
            network = self.networks.setdefault(event.network.prefix, SharedProfile(event.ts_ns))
            network.users.add(event.user)
            if failed:
                network.failures.add(event.ts_ns)


def update_user(profile: UserProfile, event: FraudEvent) -> None:
    """Fold ``event`` into ``profile``."""
    profile.occurrences(event.kind).add(event.ts_ns)
    if event.kind is Kind.SELL_ORDER:
        profile.occurrences(Kind.ORDER).add(event.ts_ns)
    if event.kind is Kind.LOGIN:
        _login(profile, event)
    _money(profile, event)
    if event.kind in {Kind.ORDER, Kind.SELL_ORDER}:
        profile.order_quantity_total += event.quantity
        if event.symbol:
            profile.symbols.setdefault(event.symbol, event.ts_ns)
    if event.kind is Kind.FACTOR_ADDED and event.method in WEAK_FACTORS:
        profile.weak_factor_ns = event.ts_ns


def _login(profile: UserProfile, event: FraudEvent) -> None:
    if event.device:
        profile.devices.setdefault(event.device, event.ts_ns)
    if event.network is not None:
        profile.networks.setdefault(event.network.prefix, event.ts_ns)
        profile.countries.setdefault(event.network.country, event.ts_ns)
        profile.previous_login_country = profile.last_login_country
        profile.last_login_country = event.network.country
    profile.last_login_ns = event.ts_ns
    if event.session:
        prefix = event.network.prefix if event.network else None
        profile.sessions[event.session] = SessionSeen(event.device, prefix, event.ts_ns)
        while len(profile.sessions) > MAX_SESSIONS:
            del profile.sessions[next(iter(profile.sessions))]


def _money(profile: UserProfile, event: FraudEvent) -> None:
    if event.kind is Kind.WITHDRAWAL:
        profile.withdrawn_cents += event.amount_cents
        profile.max_withdrawal_cents = max(profile.max_withdrawal_cents, event.amount_cents)
    elif event.kind is Kind.DEPOSIT:
        profile.deposited_cents += event.amount_cents
        profile.last_deposit_cents = event.amount_cents
