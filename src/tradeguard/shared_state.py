"""State every node must see alike (nonces, rate-limit counters, key revocations).

With ``TRADEGUARD_REDIS_URL`` set it lives in Redis, and the application refuses to start
when Redis does not answer; without it each process keeps its own (one node only).
"""

from __future__ import annotations

import redis

from tradeguard.config import Settings
from tradeguard.core.errors import StartupError

SOCKET_TIMEOUT_SECONDS = 1.0


def connect_redis(settings: Settings) -> redis.Redis | None:
    """A checked Redis client for the configured URL, or ``None`` for in-process state."""
    if settings.redis_url is None:
        return None
    client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise StartupError(f"Redis does not answer at the configured URL: {exc}") from None
    return client


def shared_key(settings: Settings, *parts: str) -> str:
    """A Redis key under the configured prefix, e.g. ``tradeguard:nonce:<key>:<nonce>``."""
    return settings.redis_key_prefix + ":".join(parts)
