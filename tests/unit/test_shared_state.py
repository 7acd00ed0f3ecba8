"""Shared state: Redis is checked at start-up, and keys carry the configured prefix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from support import SharedRedis
from tradeguard.config import Settings
from tradeguard.core.errors import StartupError
from tradeguard.shared_state import connect_redis, shared_key


def test_connect_redis_when_unset_then_state_stays_in_process(
    settings_for: Callable[..., Settings],
) -> None:
    assert connect_redis(settings_for()) is None


def test_connect_redis_when_nothing_listens_then_start_up_is_refused(
    settings_for: Callable[..., Settings],
) -> None:
    with pytest.raises(StartupError, match="Redis does not answer"):
        connect_redis(settings_for(redis_url="redis://127.0.0.1:1/0"))


def test_connect_redis_when_reachable_then_keys_are_prefixed(
    settings_for: Callable[..., Settings], shared_redis: SharedRedis
) -> None:
    settings = settings_for(redis_url=shared_redis.url, redis_key_prefix=shared_redis.prefix)
    client = connect_redis(settings)
    assert client is not None
    key = shared_key(settings, "nonce", "k1", "n1")
    assert key == f"{shared_redis.prefix}nonce:k1:n1"
    client.set(key, b"1", px=5000)
    assert client.get(key) == b"1"
