"""Session-state changes told to every process that caches session states.

Each request checks its session's state (revoked, suspended, idle clock, allowlist,
grants) from a per-process cache. A process that hears of every change keeps a state
for ``session_state_cache_seconds``; a change made anywhere (sign-out, revocation,
step-up, suspension, a role, allowlist or grant change) is told once it commits, and
every process drops that state at once. The news travels through Redis pub/sub when it
is configured, otherwise from a gateway worker through the desk process, which pushes
it to every worker. A process that cannot hear the news (no link, or the link is down)
keeps states for one second, as before; a link that comes back first forgets every
state, since news may have been missed while it was down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from tradeguard.core.principal import SessionState
from tradeguard.core.short_lived_cache import DEFAULT_TTL_SECONDS, ShortLivedCache
from tradeguard.logs import get_logger

SESSION_NEWS_CHANNEL = "session-news"
"""The Redis channel (under the key prefix) that carries the news."""
EVERY_SESSION = "*"
"""The news that every state may have changed (a user-wide change)."""
RETRY_SECONDS = 1.0
log = get_logger("tradeguard.identity.session_news")

Forget = Callable[[str], None]
"""Drop one session's cached state, or all of them for ``EVERY_SESSION``."""


class SessionNews(Protocol):
    """A link that tells every process of a session-state change and hears theirs."""

    @property
    def listening(self) -> bool:
        """Whether news reaches this process now (else states are kept a second)."""
        ...

    def tell(self, key: str) -> bool:
        """Tell every process that ``key``'s state (``EVERY_SESSION``: any) changed.

        False when the news could not be sent (the cache sends it again).
        """
        ...


class SessionStateCache(ShortLivedCache[SessionState | None]):
    """Session states per process: long while ``news`` is heard, a second otherwise.

    ``forget`` drops a state here only (news heard); ``changed`` drops it here and tells
    every process.
    """

    def __init__(
        self,
        long_ttl_seconds: float = DEFAULT_TTL_SECONDS,
        short_ttl_seconds: float = DEFAULT_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        super().__init__(short_ttl_seconds, monotonic)
        self._long_ttl = long_ttl_seconds
        self._short_ttl = short_ttl_seconds
        self._retry_seconds = retry_seconds
        self._unsent: dict[str, float] = {}
        """News not sent yet, with when to stop trying."""
        self._unsent_lock = threading.Lock()
        self._resending = False
        self.news: SessionNews | None = None

    def ttl(self) -> float:
        """How long a state is kept now."""
        news = self.news
        return self._long_ttl if news is not None and news.listening else self._short_ttl

    def forget(self, key: str) -> None:
        """Drop ``key``'s state here (``EVERY_SESSION``: every state)."""
        if key == EVERY_SESSION:
            super().clear()
        else:
            super().drop(key)

    def changed_on_commit(self, db: Session, key: str) -> None:
        """Drop ``key``'s state here now, and everywhere once ``db`` commits the change.

        Dropped before the commit too, so that this process never serves the old state
        to the one who made the change; told after it, so that no process reloads the
        state before the change is there to be read.
        """
        self.forget(key)
        event.listen(db, "after_commit", lambda _db: self.changed(key), once=True)

    def changed(self, key: str) -> None:
        """Drop ``key``'s state (``EVERY_SESSION``: all) here and in every process."""
        self.forget(key)
        news = self.news
        if news is not None and not news.tell(key):
            self._tell_again(news, key)

    def _tell_again(self, news: SessionNews, key: str) -> None:
        """Send news that failed again, every ``retry_seconds``, until it goes through.

        A link can fail to send while other processes still hear (a timeout, a partition
        of this process alone): they would keep the old state for the long time. Each
        piece of news is sent until it succeeds or the long time has passed, when every
        state cached before the change has expired anyway. One thread sends all that is
        pending, however many changes fail while the link is down.
        """
        with self._unsent_lock:
            self._unsent[key] = time.monotonic() + self._long_ttl
            if self._resending:
                return
            self._resending = True
        threading.Thread(
            target=self._resend, args=(news,), name="session-news-again", daemon=True
        ).start()

    def _resend(self, news: SessionNews) -> None:
        while True:
            time.sleep(self._retry_seconds)
            with self._unsent_lock:
                pending = dict(self._unsent)
            now = time.monotonic()
            done = [
                key for key, give_up_at in pending.items() if now >= give_up_at or news.tell(key)
            ]
            with self._unsent_lock:
                for key in done:
                    if self._unsent.get(key) == pending[key]:  # not failed again since
                        del self._unsent[key]
                if not self._unsent:
                    self._resending = False
                    return


class DeskSessionNews:
    """News through the desk process: told with a call, heard as the desk's push.

    ``tell`` is a callable that sends the news to the desk (which pushes it to every
    worker, this one included); ``connected`` says whether this worker's link is up.
    """

    def __init__(self, tell: Callable[[str], None], connected: Callable[[], bool]) -> None:
        self._tell = tell
        self._connected = connected

    @property
    def listening(self) -> bool:
        """Whether the desk connection is open."""
        return self._connected()

    def tell(self, key: str) -> bool:
        """Send the news; False if it could not be sent."""
        try:
            self._tell(key)
        except Exception:
            log.warning("identity.session_news_not_sent", exc_info=True)
            return False
        return True


class RedisSessionNews:
    """News through a Redis pub/sub channel, heard on a thread of its own."""

    def __init__(self, client: redis.Redis, channel: str, forget: Forget) -> None:
        self._client = client
        self._channel = channel
        self._forget = forget
        self._subscribed = threading.Event()
        self._stopped = threading.Event()

    @property
    def listening(self) -> bool:
        """Whether the subscription is up."""
        return self._subscribed.is_set()

    def start(self) -> None:
        """Listen in the background, subscribing again whenever the link drops."""
        threading.Thread(target=self._listen, name="session-news", daemon=True).start()

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stopped.set()

    def tell(self, key: str) -> bool:
        """Publish the news; False if Redis could not be reached."""
        try:
            self._client.publish(self._channel, key)
        except redis.RedisError:
            log.warning("identity.session_news_not_sent", exc_info=True)
            return False
        return True

    def _listen(self) -> None:
        while not self._stopped.is_set():
            try:
                self._subscription()
            except redis.RedisError:
                log.warning("identity.session_news_lost", exc_info=True)
            self._subscribed.clear()
            self._stopped.wait(RETRY_SECONDS)

    def _subscription(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=False)
        try:
            pubsub.subscribe(self._channel)
            while not self._stopped.is_set():
                message = pubsub.get_message(timeout=RETRY_SECONDS)
                if message is not None:
                    self._heard(message)
        finally:
            pubsub.close()

    def _heard(self, message: dict[str, object]) -> None:
        if message.get("type") == "subscribe":
            self._forget(EVERY_SESSION)  # news may have been missed while down
            self._subscribed.set()
            return
        data = message.get("data")
        if message.get("type") == "message" and isinstance(data, bytes):
            self._forget(data.decode())
