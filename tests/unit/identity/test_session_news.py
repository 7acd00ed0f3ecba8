"""The session-state cache: kept long while news is heard, a second otherwise."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from live_api import eventually
from support import REDIS_URL, require_service
from tradeguard.core.principal import SessionState
from tradeguard.identity.session_news import EVERY_SESSION, RedisSessionNews, SessionStateCache

LONG, SHORT = 60.0, 1.0


@dataclass
class FakeNews:
    """A link whose state the test sets; records what it was told."""

    listening: bool = True
    told: list[str] = field(default_factory=list)

    failures: int = 0
    """How many sends fail before one goes through."""

    def tell(self, key: str) -> bool:
        if self.failures:
            self.failures -= 1
            return False
        self.told.append(key)
        return True


@dataclass
class Loads:
    """Counts the loads from the database."""

    count: int = 0

    def __call__(self) -> SessionState | None:
        self.count += 1
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache(news: FakeNews | None) -> tuple[SessionStateCache, Clock]:
    clock = Clock()
    cache = SessionStateCache(LONG, SHORT, clock)
    cache.news = news
    return cache, clock


def test_state_when_news_heard_then_kept_for_the_long_time() -> None:
    cache, clock = _cache(FakeNews())
    loads = Loads()
    cache.get("s1", loads)
    clock.now = LONG - 1
    cache.get("s1", loads)
    assert loads.count == 1
    clock.now = LONG + 1
    cache.get("s1", loads)
    assert loads.count == 2


def test_state_when_no_news_link_or_link_down_then_kept_a_second() -> None:
    down = FakeNews(listening=False)
    for news in (None, down):
        cache, clock = _cache(news)
        loads = Loads()
        cache.get("s1", loads)
        clock.now = SHORT + 0.1
        cache.get("s1", loads)
        assert loads.count == 2


def test_news_when_heard_then_that_state_reloaded_and_others_kept() -> None:
    cache, _ = _cache(FakeNews())
    first, second = Loads(), Loads()
    cache.get("s1", first)
    cache.get("s2", second)
    cache.forget("s1")
    cache.get("s1", first)
    cache.get("s2", second)
    assert (first.count, second.count) == (2, 1)
    cache.forget(EVERY_SESSION)
    cache.get("s2", second)
    assert second.count == 2


def test_change_when_made_here_then_dropped_and_told_to_every_process() -> None:
    news = FakeNews()
    cache, _ = _cache(news)
    loads = Loads()
    cache.get("s1", loads)
    cache.changed("s1")
    cache.get("s1", loads)
    assert loads.count == 2
    assert news.told == ["s1"]


def test_change_when_its_transaction_commits_then_told_and_when_rolled_back_then_not() -> None:
    news = FakeNews()
    cache, _ = _cache(news)
    engine = create_engine("sqlite://")
    with Session(engine) as db:
        db.connection()
        cache.changed_on_commit(db, "s1")
        assert news.told == []  # another process must not reload before the commit
        db.commit()
    with Session(engine) as db:
        db.connection()
        cache.changed_on_commit(db, "s2")
        db.rollback()
    assert news.told == ["s1"]


def test_redis_news_when_told_by_one_process_then_heard_by_the_other() -> None:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=1.0, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as error:
        require_service(f"Redis not reachable at {REDIS_URL}: {error}")
    channel = f"test-session-news-{uuid.uuid4().hex}"
    heard: list[str] = []
    listener = RedisSessionNews(client, channel, heard.append)
    teller = RedisSessionNews(client, channel, lambda _key: None)
    listener.start()
    try:
        eventually(lambda: listener.listening)
        assert heard == [EVERY_SESSION]  # a new subscription forgets what it may have missed
        teller.tell("s1")
        eventually(lambda: heard == [EVERY_SESSION, "s1"])
    finally:
        listener.stop()


def test_news_that_failed_to_send_when_the_link_works_again_then_is_sent() -> None:
    news = FakeNews(failures=2)
    cache = SessionStateCache(LONG, SHORT, Clock(), retry_seconds=0.01)
    cache.news = news
    cache.changed("s1")
    eventually(lambda: news.told == ["s1"], seconds=5)


def test_news_failing_while_the_link_is_down_when_many_then_one_thread_sends_it_all() -> None:
    news = FakeNews(failures=1_000_000)
    cache = SessionStateCache(LONG, SHORT, Clock(), retry_seconds=0.01)
    cache.news = news
    keys = [f"s{n}" for n in range(50)]
    for key in keys:
        cache.changed(key)
    resending = [t for t in threading.enumerate() if t.name == "session-news-again"]
    assert len(resending) == 1
    news.failures = 0
    eventually(lambda: sorted(news.told) == sorted(keys), seconds=5)
    eventually(lambda: not resending[0].is_alive(), seconds=5)
