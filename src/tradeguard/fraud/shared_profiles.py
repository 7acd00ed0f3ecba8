"""Profiles in Redis, so that every API node (and gateway worker) reads the same ones.

The fraud watcher, which runs in one process, is still the only writer; every process
reads. A profile is one JSON value per user, device or network under the installation's
key prefix. A write is read-modify-write of one key by that single writer. When the
watcher is rebuilt (start-up, a failed batch) it clears the profiles before replaying its
warm-up history, so nothing is counted twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, ClassVar

import redis

from tradeguard.fraud.events import FraudEvent, Kind
from tradeguard.fraud.profiles import (
    Occurrences,
    ProfileStore,
    SessionSeen,
    SharedProfile,
    UserProfile,
    update_user,
)

USER, DEVICE, NETWORK = "u", "d", "n"
SCAN_BATCH = 1000


class RedisProfileStore(ProfileStore):
    """The profile store in Redis: the same reads and the same ``apply`` as in process."""

    in_memory: ClassVar[bool] = False

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__()
        self.client = client
        # Apart from the locks (fraud:lock:): a rebuild clears the profiles, never a lock.
        self.prefix = f"{prefix}fraud:profile:"

    def user(self, user: str) -> UserProfile | None:
        """The user's profile, or None."""
        raw = self.client.get(self._key(USER, user))
        return None if raw is None else user_from_json(json.loads(raw))

    def device(self, device: str | None) -> SharedProfile | None:
        """The device's profile, or None."""
        return self._shared(DEVICE, device)

    def network(self, prefix: str | None) -> SharedProfile | None:
        """The network's profile, or None."""
        return self._shared(NETWORK, prefix)

    def parts(
        self, user: str, device: str | None, network: str | None
    ) -> tuple[UserProfile | None, SharedProfile | None, SharedProfile | None]:
        """The three profiles in one round trip (MGET)."""
        keys = [
            self._key(USER, user),
            self._key(DEVICE, device or ""),
            self._key(NETWORK, network or ""),
        ]
        raw_user, raw_device, raw_network = self.client.mget(keys)
        return (
            None if raw_user is None else user_from_json(json.loads(raw_user)),
            None if raw_device is None or not device else shared_from_json(json.loads(raw_device)),
            None
            if raw_network is None or not network
            else shared_from_json(json.loads(raw_network)),
        )

    def apply(self, event: FraudEvent) -> None:
        """Fold one event into its profiles in Redis (one writer: the fraud watcher)."""
        with self.lock:
            profile = self.user(event.user) or UserProfile(first_seen_ns=event.ts_ns)
            update_user(profile, event)
            writes = {self._key(USER, event.user): user_to_json(profile)}
            failed = event.kind in {Kind.LOGIN_FAILED, Kind.MFA_FAILED}
            for kind, name in ((DEVICE, event.device), (NETWORK, _prefix(event))):
                if name:
                    shared = self._shared(kind, name) or SharedProfile(event.ts_ns)
                    shared.users.add(event.user)
                    if failed and kind == NETWORK:
                        shared.failures.add(event.ts_ns)
                    writes[self._key(kind, name)] = shared_to_json(shared)
            self.client.mset({key: json.dumps(value) for key, value in writes.items()})

    def clear(self) -> None:
        """Forget every profile (before the watcher replays its warm-up history)."""
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=SCAN_BATCH))
        for start in range(0, len(keys), SCAN_BATCH):
            self.client.delete(*keys[start : start + SCAN_BATCH])

    def _shared(self, kind: str, name: str | None) -> SharedProfile | None:
        if not name:
            return None
        raw = self.client.get(self._key(kind, name))
        return None if raw is None else shared_from_json(json.loads(raw))

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"


def _prefix(event: FraudEvent) -> str | None:
    return event.network.prefix if event.network else None


def _occurrences_json(found: Occurrences) -> list[Any]:
    return [found.times, found.last_ns, found.total]


def _occurrences(doc: list[Any]) -> Occurrences:
    times, last, total = doc
    return Occurrences(list(times), last, int(total))


def user_to_json(profile: UserProfile) -> dict[str, Any]:
    """A user profile as JSON members."""
    return {
        "first": profile.first_seen_ns,
        "kinds": {kind.value: _occurrences_json(o) for kind, o in profile.kinds.items() if o.total},
        "devices": profile.devices,
        "networks": profile.networks,
        "countries": profile.countries,
        "symbols": profile.symbols,
        "sessions": {k: [s.device, s.network, s.started_ns] for k, s in profile.sessions.items()},
        "last_country": profile.last_login_country,
        "last_login": profile.last_login_ns,
        "previous_country": profile.previous_login_country,
        "weak_factor": profile.weak_factor_ns,
        "money": [
            profile.withdrawn_cents,
            profile.max_withdrawal_cents,
            profile.deposited_cents,
            profile.last_deposit_cents,
            profile.order_quantity_total,
        ],
    }


def user_from_json(doc: dict[str, Any]) -> UserProfile:
    """The user profile of ``user_to_json``'s members."""
    kinds: defaultdict[Kind, Occurrences] = defaultdict(Occurrences)
    for name, found in doc["kinds"].items():
        kinds[Kind(name)] = _occurrences(found)
    withdrawn, largest, deposited, last_deposit, quantity = doc["money"]
    return UserProfile(
        first_seen_ns=doc["first"],
        kinds=kinds,
        devices=doc["devices"],
        networks=doc["networks"],
        countries=doc["countries"],
        symbols=doc["symbols"],
        sessions={k: SessionSeen(d, n, s) for k, (d, n, s) in doc["sessions"].items()},
        last_login_country=doc["last_country"],
        last_login_ns=doc["last_login"],
        previous_login_country=doc["previous_country"],
        weak_factor_ns=doc["weak_factor"],
        withdrawn_cents=withdrawn,
        max_withdrawal_cents=largest,
        deposited_cents=deposited,
        last_deposit_cents=last_deposit,
        order_quantity_total=quantity,
    )


def shared_to_json(profile: SharedProfile) -> dict[str, Any]:
    """A device or network profile as JSON members."""
    return {
        "first": profile.first_seen_ns,
        "users": sorted(profile.users),
        "failures": _occurrences_json(profile.failures),
    }


def shared_from_json(doc: dict[str, Any]) -> SharedProfile:
    """The device or network profile of ``shared_to_json``'s members."""
    return SharedProfile(doc["first"], set(doc["users"]), _occurrences(doc["failures"]))
