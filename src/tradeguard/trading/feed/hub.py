"""The order feed hub: each user's order and execution events, from any thread to the loop.

The trading desk publishes every committed order event to the order's owner with
``publish(user_id, event)``, from whichever worker thread committed it. The hub stamps
the event with the user's next ``seq``, encodes it once as JSON and hands it to each of
the user's subscriptions on the event loop that subscription lives on
(``loop.call_soon_threadsafe``). ``publish`` never waits for a reader, never raises, and
costs one dictionary lookup for a user nobody is watching.

A subscription holds at most ``max_pending`` undelivered events. One that falls further
behind is ended (``FEED_SLOW_CONSUMER``) instead of buffering without bound: its client
reconnects and reloads its orders through the REST API. ``seq`` counts per user while
the user has a subscription: every subscription learns the last ``seq`` when it starts,
and its events follow without a gap (an event that cannot be encoded is skipped but
uses its number, so the gap shows).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from tradeguard.config import Settings
from tradeguard.core.canonical_json import canonical_dumps
from tradeguard.core.errors import TradeGuardError
from tradeguard.logs import get_logger

SEQ = "seq"
EVERYONE = "*"
"""The user id under which a desk process relays market-wide news to gateway workers."""
log = get_logger("tradeguard.trading.feed.hub")


class FeedEndReason(StrEnum):
    """Why the hub ended or refused a subscription (the reason codes clients see)."""

    SLOW_CONSUMER = "FEED_SLOW_CONSUMER"
    TOO_MANY_CONNECTIONS = "FEED_TOO_MANY_CONNECTIONS"
    SESSION_REVOKED = "AUTH_SESSION_REVOKED"
    SHUTTING_DOWN = "FEED_SHUTTING_DOWN"


class FeedRefusedError(TradeGuardError):
    """A subscription the hub will not open: the user has too many, or the hub is closed."""

    def __init__(self, reason: FeedEndReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Subscription:
    """One reader of a user's feed: its undelivered events, in order, and why it ended.

    Everything but the constructor runs on the subscription's event loop.
    """

    def __init__(
        self, user_id: str, loop: asyncio.AbstractEventLoop, max_pending: int, start_seq: int
    ) -> None:
        self.user_id = user_id
        self.loop = loop
        self.start_seq = start_seq
        """The user's last ``seq`` when the subscription started; its first event has the next."""
        self.end_reason: FeedEndReason | None = None
        self._max_pending = max_pending
        self._pending: deque[str] = deque()
        self._changed = asyncio.Event()
        self._ended = asyncio.Event()

    async def next_event(self) -> str | None:
        """The next event as JSON text, waiting for one; ``None`` once the subscription ended."""
        while self.end_reason is None:
            if self._pending:
                return self._pending.popleft()
            self._changed.clear()
            await self._changed.wait()
        return None

    async def ended(self) -> FeedEndReason:
        """Wait until the hub ends this subscription; why it did."""
        await self._ended.wait()
        if self.end_reason is None:  # set before _ended is
            raise RuntimeError("a subscription ended without a reason")
        return self.end_reason

    @property
    def pending(self) -> int:
        """How many events wait to be read."""
        return len(self._pending)

    def deliver(self, text: str) -> bool:
        """Queue one event; ``False`` (and nothing queued) when the reader is too far behind."""
        if self.end_reason is not None:
            return True
        if len(self._pending) >= self._max_pending:
            return False
        self._pending.append(text)
        self._changed.set()
        return True

    def end(self, reason: FeedEndReason) -> None:
        """End the subscription: unread events are dropped and every waiter wakes."""
        if self.end_reason is not None:
            return
        self.end_reason = reason
        self._pending.clear()
        self._changed.set()
        self._ended.set()


@dataclass(slots=True)
class _UserFeed:
    """The live subscriptions of one user and the last ``seq`` handed out."""

    seq: int = 0
    subscriptions: list[Subscription] = field(default_factory=list)


class FeedHub:
    """Routes each user's events to that user's subscriptions, and only theirs."""

    def __init__(self, *, max_pending: int, max_per_user: int) -> None:
        if max_pending < 1 or max_per_user < 1:
            raise ValueError("max_pending and max_per_user must be positive")
        self._max_pending = max_pending
        self._max_per_user = max_per_user
        self._lock = threading.Lock()
        self._feeds: dict[str, _UserFeed] = {}
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedHub:
        """A hub with the configured per-connection backlog and per-user connection cap."""
        return cls(
            max_pending=settings.feed_max_pending_events,
            max_per_user=settings.feed_max_connections_per_user,
        )

    def publish(self, user_id: str, event: Mapping[str, object]) -> None:
        """Send ``event`` to ``user_id``'s subscriptions; callable from any thread, never blocks.

        The event gets the user's next ``seq`` (replacing any ``seq`` of its own). An event
        that cannot be encoded as JSON is logged and skipped; its ``seq`` is used up.
        """
        if user_id not in self._feeds:  # nobody watching: no lock, no work
            return
        with self._lock:
            feed = self._feeds.get(user_id)
            if feed is None:
                return
            feed.seq += 1
            text = _encoded(event, feed.seq)
            if text is not None:
                for subscription in list(feed.subscriptions):
                    self._post(feed, subscription, text)

    def has_subscribers(self, user_id: str) -> bool:
        """Whether ``user_id`` has a subscription now (no lock: ``publish`` checks again)."""
        return user_id in self._feeds

    def deliver(self, user_id: str, event: Mapping[str, object]) -> None:
        """An event relayed from the desk process: one user's, or everyone's (``EVERYONE``)."""
        if user_id == EVERYONE:
            self.broadcast(event)
        else:
            self.publish(user_id, event)

    def broadcast(self, event: Mapping[str, object]) -> None:
        """Send ``event`` to every user watching: market-wide news such as a halt."""
        for user_id in list(self._feeds):
            self.publish(user_id, event)

    @contextmanager
    def subscribe(self, user_id: str) -> Iterator[Subscription]:
        """A subscription to ``user_id``'s events on the running loop, ended on exit.

        ``FeedRefusedError`` when the user already has ``max_per_user`` subscriptions or
        the hub is closed.
        """
        subscription = self._open(user_id, asyncio.get_running_loop())
        try:
            yield subscription
        finally:
            self._remove(subscription)

    def watching(self, user_id: str) -> int:
        """How many live subscriptions ``user_id`` has."""
        with self._lock:
            feed = self._feeds.get(user_id)
            return 0 if feed is None else len(feed.subscriptions)

    def close_user(
        self, user_id: str, reason: FeedEndReason = FeedEndReason.SESSION_REVOKED
    ) -> None:
        """End every subscription of ``user_id`` now (sessions revoked); from any thread."""
        with self._lock:
            feed = self._feeds.pop(user_id, None)
        if feed is not None:
            _end_all(feed.subscriptions, reason)

    def close(self) -> None:
        """End every subscription and refuse new ones (application shutdown); any thread."""
        with self._lock:
            self._closed = True
            feeds, self._feeds = self._feeds, {}
        for feed in feeds.values():
            _end_all(feed.subscriptions, FeedEndReason.SHUTTING_DOWN)

    def _open(self, user_id: str, loop: asyncio.AbstractEventLoop) -> Subscription:
        with self._lock:
            if self._closed:
                raise FeedRefusedError(FeedEndReason.SHUTTING_DOWN, "the feed is shutting down")
            feed = self._feeds.setdefault(user_id, _UserFeed())
            if len(feed.subscriptions) >= self._max_per_user:
                raise FeedRefusedError(
                    FeedEndReason.TOO_MANY_CONNECTIONS,
                    f"at most {self._max_per_user} feed connections per user",
                )
            subscription = Subscription(user_id, loop, self._max_pending, feed.seq)
            feed.subscriptions.append(subscription)
            return subscription

    def _remove(self, subscription: Subscription) -> None:
        """Forget ``subscription``; a user left without one is forgotten (``seq`` restarts)."""
        with self._lock:
            feed = self._feeds.get(subscription.user_id)
            if feed is None or subscription not in feed.subscriptions:
                return
            feed.subscriptions.remove(subscription)
            if not feed.subscriptions:
                del self._feeds[subscription.user_id]

    def _post(self, feed: _UserFeed, subscription: Subscription, text: str) -> None:
        """Hand ``text`` to ``subscription`` on its loop (called with the lock held)."""
        try:
            subscription.loop.call_soon_threadsafe(self._deliver, subscription, text)
        except RuntimeError:  # its loop is closed: nobody will read it again
            feed.subscriptions.remove(subscription)
            if not feed.subscriptions:
                self._feeds.pop(subscription.user_id, None)

    def _deliver(self, subscription: Subscription, text: str) -> None:
        """On the subscription's loop: queue the event, or end a reader that fell behind."""
        if not subscription.deliver(text):
            log.info("feed.slow_consumer", user_id=subscription.user_id)
            subscription.end(FeedEndReason.SLOW_CONSUMER)
            self._remove(subscription)


def _encoded(event: Mapping[str, object], seq: int) -> str | None:
    """``event`` with its ``seq`` as JSON text, or ``None`` (logged) if it is not JSON."""
    try:
        return canonical_dumps({**event, SEQ: seq}).decode("utf-8")
    except ValueError:
        log.exception("feed.event_not_encodable", seq=seq, event_type=str(event.get("type")))
        return None


def _end_all(subscriptions: list[Subscription], reason: FeedEndReason) -> None:
    """End each subscription on its own loop (a closed loop has no reader left to tell)."""
    for subscription in subscriptions:
        try:
            subscription.loop.call_soon_threadsafe(subscription.end, reason)
        except RuntimeError:
            continue
