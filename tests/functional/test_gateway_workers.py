"""Gateway workers and the desk process, as real processes, behave as one service.

Two workers (A and B, each on its own port) and one desk process run over one
installation, on SQLite and on PostgreSQL. What one worker admits or changes, the other
sees at once: a signed request's nonce, an order, a halt, the order feed. The audit trail
written by all three processes stays one intact chain, and a ``kill -9`` of the desk
with orders in flight loses nothing that was acknowledged and leaves nothing half-written.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from test_trading_concurrency import postgres_database, tradable
from websockets.sync.client import connect
from worker_layout import Layout, worker_layout

from live_api import Api, Person
from support import TRADEGUARD, LiveServer, SharedRedis, running_server
from tradeguard.access.caller import Caller
from tradeguard.client import TradeGuardClient
from tradeguard.config import Settings
from tradeguard.core.money import Money, Price
from tradeguard.core.principal import Principal
from tradeguard.identity.origin import Origin
from tradeguard.risk.model import TradingState
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.client import DeskChannel
from tradeguard.trading.controls.trading_controls import StateTarget

pytestmark = pytest.mark.live_server
SETTINGS = {
    "RATE_LIMIT_USER_ORDER_ENTRY": "100000/minute",
    "RATE_LIMIT_IP_ORDER_ENTRY": "100000/minute",
    "RATE_LIMIT_USER_READ": "100000/minute",
    "RATE_LIMIT_IP_READ": "100000/minute",
}
PATIENCE_SECONDS = 15.0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def layout(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Layout]:
    """Workers A and B and a desk process on each database backend."""
    workdir = tmp_path_factory.mktemp(f"workers-{request.param}")
    settings = dict(SETTINGS)
    with ExitStack() as stack:
        if request.param == "postgresql":
            settings["DATABASE_URL"] = stack.enter_context(postgres_database())
        yield stack.enter_context(worker_layout(workdir, settings))


def trader(layout: Layout, deposit: str = "100000.00") -> tuple[Person, str]:
    """A person signed up through worker A with an opened, funded cash account."""
    person = Person()
    token = layout.api("A").sign_up_with_totp(person)["access_token"]
    layout.tradeguard("accounts", "open", person.email, "--kind", "cash", "--deposit", deposit)
    return person, token


def symbols_of(layout: Layout, count: int = 4) -> list[tuple[str, str]]:
    """Tradable symbols, each with a limit price 2% under its reference (orders rest).

    The desk takes at most 5 orders a second per account and symbol, and refuses the same
    terms twice within 2 seconds: the tests spread their orders and vary the quantity.
    """
    listing = json.loads(layout.tradeguard("instruments", "list", "--json"))
    found = sorted(tradable(listing).items())[:count]
    assert len(found) == count, listing
    return [
        (symbol, str(Price(reference.units * 98 // 10_000 * 100))) for symbol, reference in found
    ]


def symbol_of(layout: Layout) -> tuple[str, str]:
    """One tradable symbol and a resting limit price."""
    return symbols_of(layout, 1)[0]


def order_body(symbol: str, price: str, quantity: int = 1, prefix: str = "w") -> dict[str, Any]:
    return {
        "client_order_id": f"{prefix}-{uuid.uuid4().hex[:20]}",
        "symbol": symbol,
        "side": "buy",
        "type": "limit",
        "quantity": quantity,
        "limit_price": price,
    }


# -- shared state -------------------------------------------------------------------------


def signed_get(server: LiveServer, headers: dict[str, str], path: str) -> tuple[int, Any]:
    """Send a GET with the given signature headers to one worker."""
    connection = http.client.HTTPSConnection(
        "localhost", server.port, context=server.client_context(), timeout=15
    )
    try:
        connection.request("GET", path, headers=headers | {"User-Agent": "tradeguard-tests"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def api_key_of(layout: Layout, person: Person, token: str) -> TradeGuardClient:
    api = layout.api("A")
    api.step_up_with_totp(person, token)
    key = api.expect("POST", "/v1/api-keys", {"scope": "trading", "label": "bot"}, token)
    return TradeGuardClient("https://localhost", key["key_id"], key["secret"])


def assert_nonce_shared(layout: Layout, first: str, second: str) -> None:
    person, token = trader(layout)
    client = api_key_of(layout, person, token)
    headers = client.signing_headers("GET", "/v1/account", "", b"")
    assert signed_get(layout.server(first), headers, "/v1/account")[0] == 200
    status, problem = signed_get(layout.server(second), headers, "/v1/account")
    assert (status, problem["reason_code"]) == (401, "APIKEY_REPLAY")
    fresh = client.signing_headers("GET", "/v1/account", "", b"")
    assert signed_get(layout.server(second), fresh, "/v1/account")[0] == 200


def test_signed_request_when_replayed_on_the_other_worker_then_refused(layout: Layout) -> None:
    assert_nonce_shared(layout, "A", "B")
    assert_nonce_shared(layout, "B", "A")


def redis_layout(workdir: Path, shared_redis: SharedRedis) -> AbstractContextManager[Layout]:
    """Workers A and B and a desk process sharing their state through the test Redis."""
    shared = {"REDIS_URL": shared_redis.url, "REDIS_KEY_PREFIX": shared_redis.prefix}
    return worker_layout(workdir, SETTINGS | shared)


def test_signed_request_when_replayed_with_redis_then_refused_on_the_other_worker(
    tmp_path: Path, shared_redis: SharedRedis
) -> None:
    import redis  # noqa: PLC0415 - only this test needs the client

    with redis_layout(tmp_path, shared_redis) as layout:
        assert_nonce_shared(layout, "A", "B")
    assert redis.Redis.from_url(shared_redis.url).keys(f"{shared_redis.prefix}apikey:nonce:*")


def assert_sign_out_refused_at_once_on_the_other_worker(layout: Layout) -> None:
    _, token = trader(layout)
    assert layout.api("B").status_of(token) == 200  # B now holds the session's state
    layout.api("A").expect("POST", "/v1/auth/logout", token=token)
    status, problem = layout.api("B").call("GET", "/v1/me", token=token)
    assert (status, problem["reason_code"]) == (401, "AUTH_SESSION_REVOKED")


def test_sign_out_when_done_through_a_then_b_refuses_the_session_at_once(layout: Layout) -> None:
    # B keeps session states for a minute: only the news of the sign-out can make it refuse.
    assert_sign_out_refused_at_once_on_the_other_worker(layout)


def test_sign_out_when_done_through_a_with_redis_then_b_refuses_the_session_at_once(
    tmp_path: Path, shared_redis: SharedRedis
) -> None:
    with redis_layout(tmp_path, shared_redis) as layout:
        assert_sign_out_refused_at_once_on_the_other_worker(layout)


# -- orders, the feed and halts ---------------------------------------------------------


def test_order_when_placed_through_a_then_visible_cancellable_and_fed_through_b(
    layout: Layout,
) -> None:
    _, token = trader(layout)
    symbol, price = symbol_of(layout)
    server_b = layout.server("B")
    with connect(
        f"wss://localhost:{server_b.port}/v1/stream",
        ssl=server_b.client_context(),
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=PATIENCE_SECONDS,
    ) as feed:
        assert json.loads(feed.recv(timeout=PATIENCE_SECONDS))["type"] == "ready"
        placed = layout.api("A").expect("POST", "/v1/orders", order_body(symbol, price), token)
        pushed = json.loads(feed.recv(timeout=PATIENCE_SECONDS))
        assert (pushed["type"], pushed["order"]["id"]) == ("order", placed["id"])
        seen = layout.api("B").expect("GET", f"/v1/orders/{placed['id']}", token=token)
        assert (seen["id"], seen["status"]) == (placed["id"], "open")
        account = layout.api("B").expect("GET", "/v1/account", token=token)
        assert account["reserved_cash"] != "0.00"
        cancelled = layout.api("B").expect("DELETE", f"/v1/orders/{placed['id']}", token=token)
        assert cancelled["status"] == "cancelled"
        assert json.loads(feed.recv(timeout=PATIENCE_SECONDS))["order"]["status"] == "cancelled"
    again = layout.api("A").expect("GET", f"/v1/orders/{placed['id']}", token=token)
    assert again["status"] == "cancelled"


def staff_caller() -> Caller:
    """An operator acting on the desk socket (only the service's own user may connect)."""
    principal = Principal(
        "ops-test", "ops-session", "ADMIN", frozenset({"trading:halt"}), ("hwk",),
        enrollment_only=False, state=None,
    )  # fmt: skip
    return Caller(principal, Origin("127.0.0.1", "tests", "", f"halt-{uuid.uuid4().hex[:8]}"))


def test_halt_when_set_then_every_worker_refuses_the_next_order_at_once(layout: Layout) -> None:
    _, token = trader(layout)
    symbol, price = symbol_of(layout)
    channel = DeskChannel(layout.var / "desk.sock", desk_codec(), 10)
    target = StateTarget.of("global", None)
    try:
        channel.call("controls.set_state", staff_caller(), target, TradingState.HALTED, "drill")
        for worker in ("A", "B"):
            status, problem = layout.api(worker).call(
                "POST", "/v1/orders", order_body(symbol, price), token
            )
            assert (status, problem["reason_code"]) == (422, "RISK_TRADING_HALTED"), problem
    finally:
        channel.call("controls.set_state", staff_caller(), target, TradingState.ACTIVE, "done")
        channel.close()
    for quantity, worker in enumerate(("A", "B"), start=1):
        layout.api(worker).expect("POST", "/v1/orders", order_body(symbol, price, quantity), token)


# -- the audit trail and a desk crash -----------------------------------------------------


def audit_sequence_is_whole(layout: Layout) -> None:
    seqs = [row[0] for row in layout.rows("SELECT seq FROM audit_events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert "verified" in layout.tradeguard("audit", "verify").lower()


def test_audit_when_both_workers_and_the_desk_write_at_once_then_one_intact_chain(
    layout: Layout,
) -> None:
    person, token = trader(layout)
    symbols = symbols_of(layout)
    before = layout.rows("SELECT count(*) FROM audit_events")[0][0]

    def sign_in(worker: str) -> int:
        login = {"login": person.username, "password": "wrong-password-on-purpose"}
        attacker = Api(layout.server(worker), source_ip="127.0.0.9")  # throttled on its own
        return attacker.call("POST", "/v1/auth/login", login)[0]

    def order(number: int) -> int:
        symbol, price = symbols[number % len(symbols)]
        body = order_body(symbol, price, quantity=number + 1)
        return layout.api("AB"[number % 2]).call("POST", "/v1/orders", body, token)[0]

    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(sign_in, "AB"[n % 2]) for n in range(16)]
        jobs += [pool.submit(order, n) for n in range(16)]
        statuses = [job.result() for job in jobs]
    assert statuses.count(201) == 16
    time.sleep(1)  # the permission checks' writer flushes every 250 ms
    assert layout.rows("SELECT count(*) FROM audit_events")[0][0] >= before + 32
    audit_sequence_is_whole(layout)


class OrderFlow:
    """Threads that place orders through both workers and remember every answer.

    Thread ``n`` trades symbol ``n`` four times a second, each order one share larger
    than its last: inside the desk's order-rate and duplicate checks.
    """

    def __init__(self, layout: Layout, token: str, symbols: list[tuple[str, str]]) -> None:
        self.layout, self.token, self.symbols = layout, token, symbols
        self.prefix = f"k{uuid.uuid4().hex[:6]}"
        self.answers: list[tuple[str, int, Any]] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def run(self, number: int) -> None:
        symbol, price = self.symbols[number]
        worker, quantity = "AB"[number % 2], 0
        while not self.stop.wait(0.25):
            quantity += 1
            body = order_body(symbol, price, quantity, self.prefix)
            try:
                status, answer = self.layout.api(worker).call(
                    "POST", "/v1/orders", body, self.token
                )
            except OSError:
                status, answer = 0, None
            with self._lock:
                self.answers.append((body["client_order_id"], status, answer))

    def acknowledged(self) -> dict[str, str]:
        """Client order id to order id of every order answered 201."""
        return {cid: answer["id"] for cid, status, answer in self.answers if status == 201}


def test_desk_when_killed_with_orders_in_flight_then_nothing_acknowledged_lost_or_half_written(
    layout: Layout,
) -> None:
    _, token = trader(layout, deposit="1000000.00")
    symbols = symbols_of(layout)
    flow = OrderFlow(layout, token, symbols)
    threads = [threading.Thread(target=flow.run, args=(n,)) for n in range(len(symbols))]
    for thread in threads:
        thread.start()
    time.sleep(2)
    layout.kill_desk()
    time.sleep(1)
    response, body = layout.server("A").get("/readyz")
    assert response.status == 503
    assert json.loads(body)["checks"]["desk"] == {"ok": False, "detail": "desk process unreachable"}
    layout.start_desk()
    time.sleep(1.5)
    flow.stop.set()
    for thread in threads:
        thread.join(30)
    statuses = {status for _, status, _ in flow.answers}
    assert statuses == {201, 503}, statuses
    refused = [answer for _, status, answer in flow.answers if status == 503]
    assert {answer["reason_code"] for answer in refused} == {"TRADING_UNAVAILABLE"}
    acknowledged = flow.acknowledged()
    assert len(acknowledged) > 10
    pattern = f"{flow.prefix}-%"
    stored = dict(
        layout.rows(
            "SELECT client_order_id, id FROM orders WHERE client_order_id LIKE :p", p=pattern
        )
    )
    placed_events = {
        row[0]
        for row in layout.rows("SELECT subject FROM audit_events WHERE event_type = 'order.placed'")
    }
    assert acknowledged.items() <= stored.items()  # nothing acknowledged is lost
    assert set(stored.values()) <= placed_events  # every stored order has its audit event
    every_order = {row[0] for row in layout.rows("SELECT id FROM orders")}
    assert placed_events <= every_order  # no order event without its order
    audit_sequence_is_whole(layout)
    assert_desk_rebuilt(layout, token, stored)


def assert_desk_rebuilt(layout: Layout, token: str, stored: dict[str, str]) -> None:
    """The restarted desk holds exactly the committed orders and their reservations."""
    open_orders = layout.api("B").expect("GET", "/v1/orders?state=open&limit=500", token=token)
    assert {order["id"] for order in open_orders} == set(stored.values())
    reserved = sum(
        Price.parse(order["limit_price"]).units * order["remaining_quantity"] // 100
        for order in open_orders
    )
    account = layout.api("A").expect("GET", "/v1/account", token=token)
    assert Money.parse(account["reserved_cash"]).cents == reserved
    some = next(iter(stored.values()))
    cancelled = layout.api("B").expect("DELETE", f"/v1/orders/{some}", token=token)
    assert cancelled["status"] == "cancelled"  # the rebuilt book held it


# -- the supervisor of `tradeguard serve` -------------------------------------------------


def children_of(pid: int) -> dict[int, str]:
    """The child processes of ``pid`` and their command lines."""
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {
        int(child): Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for child in found
    }


def wait_for(check: Any, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the condition never held")


def test_serve_when_a_worker_or_the_desk_is_killed_then_the_supervisor_starts_it_again(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("TRADEGUARD_SERVE_WORKERS=2\n")
    with running_server(tmp_path) as server:
        supervisor = wait_for(lambda: [p for p in _tradeguard_serves() if _cwd(p) == tmp_path])[0]
        processes = wait_for(lambda: _layout_of(supervisor))
        desk, workers = processes["desk"], processes["workers"]
        assert len(workers) == 2
        assert processes["watch"] is None  # the desk process runs the watchers by default
        assert "--watchers-apart" not in children_of(supervisor)[desk]
        os.kill(workers[0], signal.SIGKILL)
        replaced = wait_for(lambda: _replaced(supervisor, workers[0], "workers", 2))
        assert workers[0] not in replaced
        assert len(replaced) == 2
        assert server.get("/readyz")[0].status == 200
        os.kill(desk, signal.SIGKILL)
        wait_for(lambda: _layout_of(supervisor).get("desk") not in (None, desk))
        wait_for(lambda: server.get("/readyz")[0].status == 200)


def test_serve_when_orders_commit_then_the_watch_process_alone_runs_the_watchers_nudged(
    tmp_path: Path,
) -> None:
    """With ``watch_process``, the watchers run in the watch process, woken by the desk's
    nudges (the poll is a minute away); stopped, nothing runs them; killed, it is started
    again and goes on."""
    (tmp_path / ".env").write_text(
        "TRADEGUARD_SERVE_WORKERS=2\nTRADEGUARD_WATCH_PROCESS=true\nTRADEGUARD_WATCH_POLL_MS=60000\n"
    )
    with running_server(tmp_path) as server:
        supervisor = wait_for(lambda: [p for p in _tradeguard_serves() if _cwd(p) == tmp_path])[0]
        watch = wait_for(lambda: _layout_of(supervisor).get("watch"))
        assert "--watchers-apart" in children_of(supervisor)[_layout_of(supervisor)["desk"]]
        place = _order_placer(tmp_path, server)
        place()
        wait_for(lambda: _caught_up(tmp_path), seconds=20)
        os.kill(watch, signal.SIGSTOP)  # nothing else may move the cursors now
        try:
            place()
            time.sleep(2.0)
            assert not _caught_up(tmp_path)
        finally:
            os.kill(watch, signal.SIGCONT)
        wait_for(lambda: _caught_up(tmp_path), seconds=20)
        os.kill(watch, signal.SIGKILL)
        wait_for(lambda: _layout_of(supervisor).get("watch") not in (None, watch))
        place()
        wait_for(lambda: _caught_up(tmp_path), seconds=40)


def _order_placer(workdir: Path, server: LiveServer) -> Any:
    """A funded trader's order sender: each call places one resting order, 201."""
    api, person = Api(server), Person()
    token = api.sign_up_with_totp(person)["access_token"]
    _cli(workdir, "accounts", "open", person.email, "--kind", "cash", "--deposit", "10000.00")
    listing = json.loads(_cli(workdir, "instruments", "list", "--json"))
    symbol, reference = min(tradable(listing).items())
    price = str(Price(reference.units * 98 // 10_000 * 100))
    quantities = itertools.count(1)

    def place() -> None:
        api.expect("POST", "/v1/orders", order_body(symbol, price, next(quantities)), token)

    return place


def _cli(workdir: Path, *args: str) -> str:
    """Run a ``tradeguard`` command on the served installation; its standard output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    done = subprocess.run(
        [TRADEGUARD, *args],
        cwd=workdir,
        env=env | {"TRADEGUARD_VAR_DIR": str(workdir / "var")},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _caught_up(workdir: Path) -> bool:
    """Whether every watcher's cursor has passed the newest order the desk committed.

    Only the desk's commits nudge: the workers' own events (their permission checks,
    written a moment later) wait for the poll, a minute away.
    """
    engine = create_engine(Settings(_env_file=None, var_dir=workdir / "var").effective_database_url)
    newest = "SELECT max(seq) FROM audit_events WHERE event_type = 'order.placed'"
    try:
        with engine.connect() as connection:
            order = connection.execute(text(newest)).scalar_one()
            cursors = connection.execute(text("SELECT seq FROM watch_cursors")).scalars().all()
    finally:
        engine.dispose()
    return bool(cursors) and all(seq >= order for seq in cursors)


def _tradeguard_serves() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if len(command) > 1 and command[-2:] == [b"serve", b""]:
                found.append(int(entry.name))
    return found


def _cwd(pid: int) -> Path | None:
    try:
        return Path(f"/proc/{pid}/cwd").readlink()
    except OSError:
        return None


def _layout_of(supervisor: int) -> dict[str, Any]:
    """The pids of the desk, the workers and the watch process under the supervisor."""
    children = children_of(supervisor)
    desks = [pid for pid, command in children.items() if "desk-process" in command]
    workers = sorted(pid for pid, command in children.items() if "gateway-worker" in command)
    watches = [pid for pid, command in children.items() if "watch-process" in command]
    if len(desks) != 1 or not workers or len(watches) > 1:
        return {}
    return {"desk": desks[0], "workers": workers, "watch": next(iter(watches), None)}


def _replaced(supervisor: int, dead: int, kind: str, count: int) -> list[int] | None:
    pids: list[int] = _layout_of(supervisor).get(kind, [])
    return pids if dead not in pids and len(pids) == count else None
