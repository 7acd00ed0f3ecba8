"""The rate-limit decisions: per IP before authentication, per user and API key after it.

``RateLimits`` is built once per application (``Registry.rate_limits``). The middleware
calls ``admit_address`` for each request and ``observe`` after its answer; the gateway
calls ``admit_caller`` once it knows who is calling. Verdicts of a request are kept on
its scope state so that the answer carries the RateLimit headers of the tightest limit.
Health probes are never limited; order cancels only per address, and only for callers
that do not authenticate (``OWNER_FREE``): the middleware counts those without
credentials, and the gateway charges ``charge_unauthenticated`` for refused ones. A
store that cannot be reached refuses the request (503 ``RATE_LIMIT_UNAVAILABLE``):
limits fail closed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.requests import Request

from tradeguard.core.clock import Clock
from tradeguard.core.errors import ProblemError
from tradeguard.logs import get_logger
from tradeguard.ratelimit.adaptive import AdaptiveThrottle, LevelChange, level_key
from tradeguard.ratelimit.clients import Client, LimitScope, address_key
from tradeguard.ratelimit.counters import (
    STORAGE_ERRORS,
    CounterCall,
    Counters,
    awaited_runner,
    expiry,
    get,
    incr,
    runner,
)
from tradeguard.ratelimit.episodes import ThrottleEpisodes
from tradeguard.ratelimit.events import RELAXED, TIGHTENED, ClientEvent, EventSink
from tradeguard.ratelimit.policy import Limit, LimitPolicy
from tradeguard.ratelimit.route_classes import OWNER_FREE, UNLIMITED, RouteClass, classify
from tradeguard.ratelimit.shedding import LoadShedder
from tradeguard.ratelimit.verdicts import (
    Verdict,
    limit_headers,
    limits_unavailable,
    rate_limited,
    tightest,
)

ROUTE_CLASS = "rate_limit_class"
VERDICTS = "rate_limit_verdicts"
CALLER = "rate_limit_caller"
ADDRESS = "rate_limit_address"

log = get_logger("tradeguard.ratelimit")
State = MutableMapping[str, Any]
Changes = list[LevelChange | None]


@contextmanager
def _closed_on_failure() -> Iterator[None]:
    """Limits fail closed: a store that fails refuses the request (503)."""
    try:
        yield
    except STORAGE_ERRORS:
        log.exception("ratelimit.store_failed")
        raise limits_unavailable() from None


@dataclass(slots=True)
class _Counting:
    """One request's counting: the limited clients and the store calls, in their order."""

    route_class: RouteClass
    limited: list[tuple[Client, Limit]] = field(default_factory=list)
    calls: list[CounterCall] = field(default_factory=list)


class RateLimits:
    """Counts requests per address, user and API key against the configured limits."""

    def __init__(  # noqa: PLR0913 - the collaborators of the decision, injected
        self,
        policy: LimitPolicy,
        counters: Counters,
        adaptive: AdaptiveThrottle | None,
        episodes: ThrottleEpisodes,
        *,
        sink: EventSink,
        clock: Clock,
        enabled: bool = True,
        remote: bool = False,
        shedder: LoadShedder | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.enabled = enabled
        self.remote = remote  # counters across the network: the middleware leaves the loop
        self.shedder = shedder
        self.policy = policy
        self.counters = counters
        self.adaptive = adaptive
        self.episodes = episodes
        self._sink = sink
        self._clock = clock
        self._wall = wall

    @property
    def counters(self) -> Counters:
        """Where the counts are kept."""
        return self._counters

    @counters.setter
    def counters(self, counters: Counters) -> None:
        self._counters = counters
        self._run = runner(counters)
        self._run_awaited = awaited_runner(counters)

    @property
    def awaitable(self) -> bool:
        """Whether an event loop can await the counters (``admit_address_async``)."""
        return self._run_awaited is not None

    def admit_address(self, state: State, ip: str | None, route_class: RouteClass) -> None:
        """Count a request from ``ip`` against its class's per-address limit; 429 when over."""
        address = self._address(state, ip, route_class)
        if address is not None:
            self._guarded(state, [address], route_class)

    async def admit_address_async(
        self, state: State, ip: str | None, route_class: RouteClass
    ) -> None:
        """``admit_address`` awaiting the counters on the event loop (when ``awaitable``)."""
        address = self._address(state, ip, route_class)
        if address is not None:
            await self._guarded_async(state, [address], route_class)

    def _address(self, state: State, ip: str | None, route_class: RouteClass) -> Client | None:
        """The address a request of ``route_class`` is counted for (kept on its state)."""
        if not self.enabled or route_class in UNLIMITED:
            return None
        address = state[ADDRESS] = Client(LimitScope.IP, address_key(ip), ip)
        return address

    def charge_unauthenticated(self, request: Request) -> None:
        """Charge a request whose credentials were refused to its address, if not yet counted.

        Only the ``OWNER_FREE`` classes need it (the others are counted on arrival): their
        requests with credentials pass the middleware uncounted, since an authenticated
        caller is never refused. Raises the 429 when the address's budget is spent.
        """
        scope = request.scope
        state = scope.setdefault("state", {})
        route_class = state.get(ROUTE_CLASS) or classify(scope["method"], scope["path"])
        if route_class not in OWNER_FREE or ADDRESS in state:
            return
        peer = scope.get("client")
        self.admit_address(state, peer[0] if peer else None, route_class)

    def admit_caller(self, request: Request, *, user_id: str, api_key_id: str | None) -> None:
        """Count an authenticated request against the user's (and API key's) limits.

        Raises a ``ProblemError`` 429 ``RATE_LIMITED`` with ``Retry-After`` and RateLimit
        headers when a limit is exceeded; order cancels are never refused. A second call
        for the same request counts nothing.
        """
        state, route_class, ip = _request_facts(request)
        self.count_caller(state, route_class, user_id=user_id, api_key_id=api_key_id, ip=ip)

    async def admit_caller_async(
        self, request: Request, *, user_id: str, api_key_id: str | None
    ) -> None:
        """``admit_caller`` awaiting the counters on the event loop (when ``awaitable``)."""
        state, route_class, ip = _request_facts(request)
        callers = self._callers(state, route_class, user_id=user_id, api_key_id=api_key_id, ip=ip)
        if callers:
            await self._guarded_async(state, callers, route_class)

    def count_caller(
        self,
        state: State,
        route_class: RouteClass,
        *,
        user_id: str,
        api_key_id: str | None,
        ip: str | None,
    ) -> None:
        """Count one call of ``route_class`` by the user (and key) whose ``state`` this is."""
        callers = self._callers(state, route_class, user_id=user_id, api_key_id=api_key_id, ip=ip)
        if callers:
            self._guarded(state, callers, route_class)

    def _callers(
        self,
        state: State,
        route_class: RouteClass,
        *,
        user_id: str,
        api_key_id: str | None,
        ip: str | None,
    ) -> list[Client]:
        """The user (and key) to count for this request; none if counted already or unlimited."""
        if CALLER in state:
            return []
        user = state[CALLER] = Client(LimitScope.USER, user_id, ip)
        if not self.enabled or route_class in UNLIMITED or route_class in OWNER_FREE:
            return []
        if api_key_id is None:
            return [user]
        return [user, Client(LimitScope.API_KEY, api_key_id, ip)]

    def observe(self, state: State, ip: str | None, *, rejected: bool) -> None:
        """Judge one answered request of the address (and the user, if known)."""
        if not self.enabled or self.adaptive is None:
            return
        clients = _observed(state, ip)
        try:
            changes = self.adaptive.observe(
                [client.subject for client in clients], rejected=rejected
            )
        except STORAGE_ERRORS:
            log.exception("ratelimit.observe_failed")
            return
        self._audit_changes(state, clients, changes)

    async def observe_async(
        self,
        state: State,
        ip: str | None,
        *,
        rejected: bool,
        in_thread: Callable[[Callable[[], Changes]], Awaitable[Changes]],
    ) -> None:
        """``observe`` awaiting the counts on the event loop (when ``awaitable``).

        The rare judgement of a level, which reads and writes the store, runs ``in_thread``.
        """
        adaptive, run = self.adaptive, self._run_awaited
        if not self.enabled or adaptive is None or run is None:
            return
        clients = _observed(state, ip)
        subjects = [client.subject for client in clients]
        try:
            answers = await run(adaptive.observation(subjects, rejected=rejected))
            if not adaptive.judging(answers, rejected=rejected):
                return
            changes = await in_thread(
                partial(adaptive.judged, subjects, answers, rejected=rejected)
            )
        except STORAGE_ERRORS:
            log.exception("ratelimit.observe_failed")
            return
        self._audit_changes(state, clients, changes)

    def _audit_changes(self, state: State, clients: list[Client], changes: Changes) -> None:
        for client, change in zip(clients, changes, strict=True):
            if change is not None:
                self._audit_change(change, client, state)

    def headers(self, state: State) -> dict[str, str]:
        """The RateLimit headers of the request's tightest limit (none when unlimited)."""
        verdicts: list[Verdict] | None = state.get(VERDICTS)
        if not verdicts:
            return {}
        verdict = tightest(verdicts)
        return limit_headers(verdict, verdict.resets_at - self._wall())

    def close_ended_episodes(self) -> None:
        """Audit the release of clients whose throttled windows are over."""
        self.episodes.close_ended()

    def _guarded(self, state: State, clients: list[Client], route_class: RouteClass) -> None:
        counting = self._counting(clients, route_class)
        with _closed_on_failure():
            answers = self._run(counting.calls) if counting.calls else []
        self._judge(state, counting, answers)

    async def _guarded_async(
        self, state: State, clients: list[Client], route_class: RouteClass
    ) -> None:
        run = self._run_awaited
        if run is None:
            raise TypeError("these counters cannot be awaited")
        counting = self._counting(clients, route_class)
        with _closed_on_failure():
            answers = await run(counting.calls) if counting.calls else []
        self._judge(state, counting, answers)

    def _counting(self, clients: list[Client], route_class: RouteClass) -> _Counting:
        """The limited clients and the store calls that count them (level, count, window end)."""
        counting = _Counting(route_class)
        for client in clients:
            limit = self.policy.limit(client.scope, route_class)
            if limit is None:
                continue
            counting.limited.append((client, limit))
            if self._adapting(client) is not None:
                counting.calls.append(get(level_key(client.subject)))
            key = limit.prefix + client.id
            counting.calls += (incr(key, limit.window_seconds), expiry(key))
        return counting

    def _judge(self, state: State, counting: _Counting, answers: list[float]) -> None:
        """Keep the verdicts the store's answers give; raise the 429 if one refuses."""
        verdicts: list[Verdict] = state.setdefault(VERDICTS, [])
        refused = []
        given = iter(answers)
        for client, limit in counting.limited:
            adaptive = self._adapting(client)
            level = 0 if adaptive is None else adaptive.capped(int(next(given)))
            count, resets_at = int(next(given)), next(given)
            amount = limit.adapted(level) if level else limit.amount
            key, window = limit.prefix + client.id, limit.window_seconds
            verdict = Verdict(
                client, counting.route_class, key, amount, window, count, level, resets_at
            )
            verdicts.append(verdict)
            if verdict.count > verdict.limit:
                refused.append(verdict)
        if refused:
            raise self._refusal(state, refused)

    def _adapting(self, client: Client) -> AdaptiveThrottle | None:
        """The throttle that adapts ``client``'s limits (API keys keep theirs)."""
        return None if client.scope is LimitScope.API_KEY else self.adaptive

    def _refusal(self, state: State, refused: list[Verdict]) -> ProblemError:
        """The 429 of the refusing limit that ends last; every refusal joins its episode."""
        request_id = state.get("request_id")
        for verdict in refused:
            self.episodes.refused(verdict, verdict.resets_at, request_id)
        last = max(refused, key=lambda verdict: verdict.resets_at)
        return rate_limited(last, last.resets_at - self._wall())

    def _audit_change(self, change: LevelChange, client: Client, state: State) -> None:
        data = {
            "limit_scope": client.scope.value,
            "level_before": change.before,
            "level_after": change.after,
            "answered": change.answered,
            "rejected": change.rejected,
            "window_seconds": change.window_seconds,
        }
        event_type = TIGHTENED if change.tightened else RELAXED
        self._sink(
            ClientEvent(event_type, client, data, self._clock.now_ns(), state.get("request_id"))
        )


def _request_facts(request: Request) -> tuple[State, RouteClass, str | None]:
    """The request's state, its route class and the peer's address."""
    scope = request.scope
    state = scope.setdefault("state", {})
    route_class = state.get(ROUTE_CLASS) or classify(scope["method"], scope["path"])
    peer = scope.get("client")
    return state, route_class, peer[0] if peer else None


def _observed(state: State, ip: str | None) -> list[Client]:
    """The clients an answered request is judged for: its address, and its user if known."""
    clients = [state.get(ADDRESS) or Client(LimitScope.IP, address_key(ip), ip)]
    caller: Client | None = state.get(CALLER)
    if caller is not None:
        clients.append(caller)
    return clients
