"""Profiles in Redis give the same features as in process, and clear before a rebuild."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from support import SharedRedis
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent
from tradeguard.fraud.catalog import vector
from tradeguard.fraud.features import snapshot
from tradeguard.fraud.geo import GeoLocator
from tradeguard.fraud.locks import RedisLocks
from tradeguard.fraud.profiles import ProfileStore
from tradeguard.fraud.shared_profiles import RedisProfileStore
from tradeguard.fraud.synthetic import simulate
from tradeguard.fraud.watcher import FraudWatcher


@pytest.fixture
def client(shared_redis: SharedRedis) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(shared_redis.url)
    yield connection
    connection.close()


def test_redis_store_when_same_events_applied_then_same_features(
    client: redis.Redis, shared_redis: SharedRedis
) -> None:
    sim = simulate(21, 12, fraud_share=0.5)
    shared = RedisProfileStore(client, shared_redis.prefix)
    in_process = ProfileStore()
    for event in sim.events:
        shared.apply(event)
        in_process.apply(event)
    for sample in sim.samples[-60:]:
        expected = vector(snapshot(in_process, sample.action, sample.context))
        assert vector(snapshot(shared, sample.action, sample.context)) == expected


def test_watcher_when_rebuilt_then_clears_the_shared_profiles_but_never_a_lock(
    client: redis.Redis, shared_redis: SharedRedis
) -> None:
    shared = RedisProfileStore(client, shared_redis.prefix)
    for event in simulate(22, 3).events[:5]:
        shared.apply(event)
    RedisLocks(client, shared_redis.prefix).extend("u-locked", 2 * 10**18, 10**18)
    keys = f"{shared_redis.prefix}fraud:profile:*"
    FraudWatcher(shared, GeoLocator())  # built to read its name only: nothing cleared
    assert list(client.scan_iter(match=keys))
    login = AuditEvent(
        seq=1,
        event_id="e1",
        ts_ns=10**18,
        event_type="auth.login.succeeded",
        actor=Actor("user", "u-new", ip="198.51.100.7", session_id="s1", device_id="d1"),
        subject="u-new",
        request_id=None,
        data={},
        personal=None,
    )
    FraudWatcher(shared, GeoLocator()).observe(login)
    remaining = {key.decode() for key in client.scan_iter(match=keys)}
    assert remaining == {
        f"{shared_redis.prefix}fraud:profile:u:u-new",
        f"{shared_redis.prefix}fraud:profile:d:d1",
        f"{shared_redis.prefix}fraud:profile:n:198.51.100.0/24",
    }
    assert RedisLocks(client, shared_redis.prefix).until("u-locked") == 2 * 10**18


def test_redis_locks_when_extended_then_seen_by_another_client_and_never_shortened(
    client: redis.Redis, shared_redis: SharedRedis
) -> None:
    now = 10**18
    first = RedisLocks(client, shared_redis.prefix)
    other = RedisLocks(redis.Redis.from_url(shared_redis.url), shared_redis.prefix)
    assert first.extend("u1", now + 60 * 10**9, now) == now + 60 * 10**9
    assert first.extend("u1", now + 10**9, now) == now + 60 * 10**9
    assert other.until("u1") == now + 60 * 10**9
    assert other.release("u1") == now + 60 * 10**9
    assert first.until("u1") == 0
