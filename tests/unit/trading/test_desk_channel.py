"""The desk channel: typed values survive the wire, refusals come back, a lost desk is a 503."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from tradeguard.access.caller import Caller
from tradeguard.apikeys.replay import MemoryKeyState
from tradeguard.core.errors import ProblemError, StartupError
from tradeguard.core.principal import Principal, SessionState
from tradeguard.identity.origin import Origin
from tradeguard.ratelimit.counters import MemoryCounters, expiry, get, incr
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.client import DeskChannel, DeskUnreachableError
from tradeguard.trading.channel.desk_side import shared_state_handlers
from tradeguard.trading.channel.remote import (
    DeskCounters,
    DeskKeyState,
    RemoteDesk,
    RemoteTradingControls,
)
from tradeguard.trading.channel.server import DeskServer, Handler, Reply
from tradeguard.trading.channel.wire import HEADER, MAX_FRAME_BYTES, Codec, WireError, read_frame
from tradeguard.trading.controls.busts import Busted
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.desk import OrderAsk, Placed
from tradeguard.trading.orders.problems import order_not_found

CODEC = desk_codec()


def caller() -> Caller:
    state = SessionState(
        "s1", "u1", revoked=False, last_active_ns=1, idle_timeout_ns=2, expires_at_ns=3,
        step_up_at_ns=None, user_active=True, permission_version=4,
        ip_allowlist=(ip_network("10.0.0.0/8"),), grants=(("a:b", 9),),
    )  # fmt: skip
    principal = Principal(
        "u1", "s1", "trader", frozenset({"order:place"}), ("pwd",), enrollment_only=False,
        state=state,
    )  # fmt: skip
    return Caller(principal, Origin("10.1.2.3", "agent", "en", "req-1", {"name": "laptop"}))


def ask() -> OrderAsk:
    return OrderAsk("c-1", "ACME", Side.BUY, OrderType.LIMIT, TimeInForce.DAY, 10, 1_500_000)


def order_row() -> OrderRow:
    return OrderRow(id="o-1", account_id="a-1", client_order_id="c-1", symbol="ACME", side="buy",
                    type="limit", time_in_force="day", quantity=10, limit_price=1_500_000,
                    placed_quantity=10, placed_limit_price=1_500_000, reserve_price=1_500_000,
                    filled_quantity=0, filled_units=0, status="open", cancel_reason=None,
                    book_sequence=1, created_at_ns=5, updated_at_ns=5,
                    placed_via="session")  # fmt: skip


def test_codec_when_a_caller_and_an_ask_cross_then_equal_values_arrive() -> None:
    sent = [caller(), ask(), (1, "x"), frozenset({"a"}), b"\x00\xff", None, {"k": [1, True]}]
    assert CODEC.decode(CODEC.encode(sent)) == sent


def test_codec_when_a_row_crosses_then_every_column_arrives() -> None:
    arrived = CODEC.decode(CODEC.encode(Placed(order_row(), created=True)))
    assert isinstance(arrived, Placed)
    assert arrived.created is True
    assert (arrived.order.id, arrived.order.limit_price, arrived.order.status) == (
        "o-1",
        1_500_000,
        "open",
    )


def test_codec_when_a_tag_names_a_type_outside_the_catalogue_then_refused() -> None:
    with pytest.raises(WireError, match="not a type"):
        CODEC.decode({"~": "Popen", "v": {"args": ["sh"]}})
    with pytest.raises(WireError, match="not a type"):
        Codec([]).encode(ask())


def test_codec_when_a_mapping_uses_the_tag_key_then_refused() -> None:
    with pytest.raises(WireError):
        CODEC.encode({"~": "OrderRow", "v": {}})


def test_read_frame_when_the_length_is_over_the_limit_then_refused() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(HEADER.pack(MAX_FRAME_BYTES + 1))
        with pytest.raises(WireError, match="over the limit"):
            read_frame(right)


def test_read_frame_when_the_peer_closes_inside_a_frame_then_refused() -> None:
    left, right = socket.socketpair()
    with right:
        left.sendall(HEADER.pack(10) + b"{}")
        left.close()
        with pytest.raises(WireError, match="inside a frame"):
            read_frame(right)


@pytest.fixture
def socket_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tg-") as folder:
        yield Path(folder) / "desk.sock"


def serve(path: Path, handlers: dict[str, Handler]) -> DeskServer:
    server = DeskServer(path, CODEC, handlers)
    server.start()
    return server


def channel_to(path: Path, timeout: float = 2.0) -> DeskChannel:
    return DeskChannel(path, CODEC, timeout)


def test_channel_when_the_desk_answers_then_the_value_returns(socket_path: Path) -> None:
    server = serve(socket_path, {"echo": lambda *a, **k: [list(a), k]})
    try:
        assert socket_path.stat().st_mode & 0o777 == 0o600
        answer = channel_to(socket_path).call("echo", caller(), x=ask())
        assert answer == [[caller()], {"x": ask()}]
    finally:
        server.stop()


def test_channel_when_the_desk_refuses_then_the_same_problem_is_raised(socket_path: Path) -> None:
    def refuse() -> None:
        raise order_not_found()

    server = serve(socket_path, {"refuse": refuse})
    try:
        with pytest.raises(ProblemError) as raised:
            channel_to(socket_path).call("refuse")
        assert (raised.value.status, raised.value.reason_code) == (404, "ORDER_NOT_FOUND")
    finally:
        server.stop()


def test_channel_when_the_desk_fails_then_unreachable_without_its_details(
    socket_path: Path,
) -> None:
    def fail() -> None:
        raise RuntimeError("secret detail")

    server = serve(socket_path, {"fail": fail})
    try:
        with pytest.raises(DeskUnreachableError) as raised:
            channel_to(socket_path).call("fail")
        assert "secret" not in str(raised.value)
        with pytest.raises(DeskUnreachableError):
            channel_to(socket_path).call("no.such.method")
    finally:
        server.stop()


def test_channel_when_awaited_then_the_answer_or_the_refusal_comes_back_on_the_loop(
    socket_path: Path,
) -> None:
    def refuse() -> None:
        raise order_not_found()

    server = serve(socket_path, {"echo": lambda *a: list(a), "refuse": refuse})
    channel = channel_to(socket_path)

    async def calls() -> tuple[Any, ProblemError | None]:
        answer = await channel.call_async("echo", caller(), 7)
        try:
            await channel.call_async("refuse")
        except ProblemError as refused:
            return answer, refused
        return answer, None

    try:
        answer, refused = asyncio.run(calls())
    finally:
        server.stop()
    assert answer == [caller(), 7]
    assert refused is not None
    assert refused.reason_code == "ORDER_NOT_FOUND"


def test_channel_when_awaited_and_the_desk_is_slow_then_unreachable_after_the_timeout(
    socket_path: Path,
) -> None:
    release = threading.Event()
    server = serve(socket_path, {"slow": lambda: release.wait(5)})
    channel = channel_to(socket_path, timeout=0.2)
    try:
        with pytest.raises(DeskUnreachableError, match="within"):
            asyncio.run(channel.call_async("slow"))
    finally:
        release.set()
        server.stop()
    with pytest.raises(DeskUnreachableError):  # and at once when the desk is gone
        asyncio.run(channel.call_async("slow"))


def test_channel_when_awaited_and_the_desk_stops_reading_then_the_loop_keeps_running(
    socket_path: Path,
) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    channel = channel_to(socket_path, timeout=0.5)
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def stuck_call() -> None:
        ticker = asyncio.create_task(ticking())
        try:
            await channel.call_async("echo", "x" * 4_000_000)  # more than the socket buffers
        finally:
            ticker.cancel()
            for peer in accepted:  # frees the thread still writing, before the loop ends
                peer.close()

    try:
        with pytest.raises(DeskUnreachableError, match="within"):
            asyncio.run(stuck_call())
    finally:
        channel.close()
        listener.close()
    assert ticks >= 20  # the loop ran on through the half second


def test_remote_desk_when_no_desk_process_then_503_trading_unavailable(socket_path: Path) -> None:
    with pytest.raises(ProblemError) as raised:
        RemoteDesk(channel_to(socket_path)).place(caller(), ask())
    assert (raised.value.status, raised.value.reason_code) == (503, "TRADING_UNAVAILABLE")


def test_channel_when_the_desk_dies_mid_call_then_the_waiting_call_fails_at_once(
    socket_path: Path,
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "late"

    server = serve(socket_path, {"slow": slow})
    channel = channel_to(socket_path, timeout=30)
    failures: list[BaseException] = []

    def call() -> None:
        try:
            channel.call("slow")
        except DeskUnreachableError as error:
            failures.append(error)

    caller_thread = threading.Thread(target=call)
    caller_thread.start()
    assert started.wait(5)
    began = time.monotonic()
    stopper = threading.Thread(target=server.stop)  # drops the connections, then waits
    stopper.start()
    caller_thread.join(5)
    release.set()
    stopper.join(5)
    assert len(failures) == 1
    assert time.monotonic() - began < 5


def test_channel_when_the_desk_comes_back_then_calls_and_pushes_resume(socket_path: Path) -> None:
    pushed: list[tuple[str, dict[str, Any]]] = []
    channel = channel_to(socket_path)
    channel.on_push = lambda user, event: pushed.append((user, event))
    channel.start()
    try:
        with pytest.raises(DeskUnreachableError):
            channel.call("desk.ping")
        server = serve(socket_path, {"desk.ping": lambda: "pong"})
        try:
            assert channel.call("desk.ping") == "pong"
            deadline = time.monotonic() + 5
            while server.workers < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.publish("u1", {"event": "order.placed", "order": "o-1"})
            while not pushed and time.monotonic() < deadline:
                time.sleep(0.01)
            assert pushed == [("u1", {"event": "order.placed", "order": "o-1"})]
        finally:
            server.stop()
    finally:
        channel.close()


def test_desk_server_when_the_socket_path_is_too_long_then_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="too long"):
        DeskServer(tmp_path / ("x" * 120) / "desk.sock", CODEC, {})


def test_desk_key_state_when_the_desk_is_gone_then_signed_requests_are_refused(
    socket_path: Path,
) -> None:
    with pytest.raises(ProblemError) as raised:
        DeskKeyState(channel_to(socket_path)).admit("key", "nonce", 1000)
    assert (raised.value.status, raised.value.reason_code) == (503, "APIKEY_CHECK_UNAVAILABLE")


def test_desk_key_state_when_a_nonce_comes_twice_through_two_channels_then_second_is_stale(
    socket_path: Path,
) -> None:
    server = serve(socket_path, shared_state_handlers(MemoryKeyState(), MemoryCounters()))
    try:
        first = DeskKeyState(channel_to(socket_path)).admit("key", "n-1", 60_000)
        second = DeskKeyState(channel_to(socket_path)).admit("key", "n-1", 60_000)
        assert (first.nonce_fresh, second.nonce_fresh) == (True, False)
    finally:
        server.stop()


def test_desk_key_state_when_the_desk_restarts_then_the_worker_learns_since_when_it_remembers(
    socket_path: Path,
) -> None:
    for started_ms in (1_000, 2_000):  # the desk process, then the one that replaced it
        path = socket_path.with_name(f"desk-{started_ms}.sock")
        server = serve(
            path, shared_state_handlers(MemoryKeyState(started_ms=started_ms), MemoryCounters())
        )
        try:
            admitted = DeskKeyState(channel_to(path)).admit("key", "n-1", 60_000)
            assert (admitted.nonce_fresh, admitted.since_ms) == (True, started_ms)
        finally:
            server.stop()


def shared_counters(path: Path) -> tuple[DeskServer, DeskCounters, DeskCounters]:
    """The desk's shared state served at ``path``, and two workers' counters over it."""
    server = serve(path, shared_state_handlers(MemoryKeyState(), MemoryCounters()))
    return server, DeskCounters(channel_to(path)), DeskCounters(channel_to(path))


def test_desk_counters_when_shared_then_two_workers_count_together_and_alone_when_gone(
    socket_path: Path,
) -> None:
    server, worker_a, worker_b = shared_counters(socket_path)
    try:
        assert [worker_a.incr("k", 60), worker_b.incr("k", 60), worker_a.get("k")] == [1, 2, 2]
    finally:
        server.stop()
    assert [worker_a.incr("k", 60), worker_a.incr("k", 60)] == [1, 2]  # still limited, alone


def test_desk_counters_when_calls_run_together_then_one_frame_answers_them_in_order(
    socket_path: Path,
) -> None:
    server, worker_a, worker_b = shared_counters(socket_path)
    calls = [get("level"), incr("k", 60), expiry("k")]
    try:
        level, first, ends_at = worker_a.run_calls(calls)
        [second] = worker_b.run_calls([incr("k", 60)])
    finally:
        server.stop()
    assert (level, first, second) == (0, 1, 2)
    assert time.time() + 59 < ends_at <= time.time() + 60
    assert worker_a.run_calls([incr("k", 60), get("k")]) == [1, 1]  # alone while it is gone


def test_desk_counters_when_awaited_then_counted_with_the_other_workers_and_alone_when_gone(
    socket_path: Path,
) -> None:
    server, worker_a, worker_b = shared_counters(socket_path)
    try:
        [first] = asyncio.run(worker_a.run_calls_async([incr("k", 60)]))
        [second] = worker_b.run_calls([incr("k", 60)])
    finally:
        server.stop()
    assert (first, second) == (1, 2)
    assert asyncio.run(worker_a.run_calls_async([incr("k", 60)])) == [1]


@pytest.mark.parametrize(
    "sent",
    [
        "incr k 60 1",
        [["incr", "k", 60]],
        [["incr", "k", "60", 1]],
        [["drop", "k", 0, 0]],
    ],
)
def test_desk_counters_when_a_batch_is_malformed_then_the_desk_refuses_it(
    socket_path: Path, sent: object
) -> None:
    storage = MemoryCounters()
    server = serve(socket_path, shared_state_handlers(MemoryKeyState(), storage))
    try:
        with pytest.raises(DeskUnreachableError):
            channel_to(socket_path).call("counters.run", sent)
    finally:
        server.stop()
    assert storage.get("k") == 0


def test_desk_server_when_another_desk_serves_the_socket_then_refused_to_start(
    socket_path: Path,
) -> None:
    first = serve(socket_path, {"desk.ping": lambda: "pong"})
    try:
        with pytest.raises(StartupError, match="another desk process"):
            DeskServer(socket_path, CODEC, {}).start()
        assert channel_to(socket_path).call("desk.ping") == "pong"  # the first one still serves
    finally:
        first.stop()


def test_desk_server_when_a_killed_desk_left_its_socket_then_it_is_replaced(
    socket_path: Path,
) -> None:
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path))
    stale.close()  # the file stays, nobody listens
    server = serve(socket_path, {"desk.ping": lambda: "pong"})
    try:
        assert channel_to(socket_path).call("desk.ping") == "pong"
    finally:
        server.stop()


def test_desk_server_when_a_frame_is_not_a_call_then_answered_unavailable(
    socket_path: Path,
) -> None:
    server = serve(socket_path, {})
    try:
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(str(socket_path))
            raw.sendall(CODEC.dumps([1, 2, 3]))
            assert read_frame(raw) == {"i": None, "u": "WireError"}
    finally:
        server.stop()


def test_remote_controls_when_a_worker_busts_a_trade_then_the_desk_does_it(
    socket_path: Path,
) -> None:
    """A gateway worker's bust reaches the desk process and its answer comes back whole."""
    asked: list[tuple[Any, ...]] = []
    done = Busted("exec-1", "acct-1", "ACME", 10, -90_000, 10)

    def bust(who: Caller, execution_id: str, reason: str) -> Busted:
        asked.append((who, execution_id, reason))
        return done

    server = serve(socket_path, {"controls.bust_trade": bust})
    try:
        answer = RemoteTradingControls(channel_to(socket_path)).bust_trade(
            caller(), "exec-1", "takeover"
        )
        assert answer == done
        assert asked == [(caller(), "exec-1", "takeover")]
    finally:
        server.stop()


def test_desk_server_when_a_call_is_quick_then_the_reader_thread_answers_it(
    socket_path: Path,
) -> None:
    threads: list[str] = []

    def note() -> str:
        threads.append(threading.current_thread().name)
        return "noted"

    server = DeskServer(socket_path, CODEC, {})
    server.add({"pooled": note})
    server.add({"quick": note}, quick=True)
    server.start()
    try:
        channel = channel_to(socket_path)
        assert (channel.call("pooled"), channel.call("quick")) == ("noted", "noted")
    finally:
        server.stop()
    assert threads[0].startswith("desk-call")
    assert threads[1] == "desk-peer"


def test_desk_server_when_a_call_is_answered_later_then_its_reply_answers_it_once(
    socket_path: Path,
) -> None:
    replies: list[Reply] = []
    arrived = threading.Event()

    def hold(reply: Reply, value: int) -> None:
        replies.append(lambda result: reply(lambda: result * value))
        arrived.set()

    server = DeskServer(socket_path, CODEC, {})
    server.add({"hold": hold}, later=True)
    server.start()
    try:
        answers: list[Any] = []
        waiting = threading.Thread(
            target=lambda: answers.append(channel_to(socket_path).call("hold", 7))
        )
        waiting.start()
        assert arrived.wait(2)
        assert answers == []  # the handler returned, the call is still open
        replies[0](6)
        replies[0](100)  # a second answer to the same call is dropped
        waiting.join(2)
        assert answers == [42]
    finally:
        server.stop()


def test_desk_server_when_a_later_call_is_refused_or_fails_then_answered_as_any_call(
    socket_path: Path,
) -> None:
    def refuse(reply: Reply) -> None:
        def refusal() -> None:
            raise order_not_found()

        reply(refusal)

    def broken(reply: Reply) -> None:
        del reply
        raise RuntimeError("secret detail")

    server = DeskServer(socket_path, CODEC, {})
    server.add({"refuse": refuse, "broken": broken}, later=True)
    server.start()
    try:
        with pytest.raises(ProblemError) as raised:
            channel_to(socket_path).call("refuse")
        assert raised.value.reason_code == "ORDER_NOT_FOUND"
        with pytest.raises(DeskUnreachableError) as unreachable:
            channel_to(socket_path).call("broken")
        assert "secret" not in str(unreachable.value)
    finally:
        server.stop()


def test_desk_server_when_stopping_then_it_waits_for_later_calls_in_flight(
    socket_path: Path,
) -> None:
    replies: list[Reply] = []
    arrived = threading.Event()

    def hold(reply: Reply) -> None:
        replies.append(reply)
        arrived.set()

    server = DeskServer(socket_path, CODEC, {})
    server.add({"hold": hold}, later=True)
    server.start()

    def call() -> None:
        with contextlib.suppress(DeskUnreachableError):  # stopping drops the connection
            channel_to(socket_path).call("hold")

    caller_thread = threading.Thread(target=call)
    caller_thread.start()
    assert arrived.wait(2)
    stopping = threading.Thread(target=server.stop)
    stopping.start()
    stopping.join(0.3)
    assert stopping.is_alive()  # the batch holding the call has not answered yet
    replies[0](lambda: "done")
    stopping.join(2)
    assert not stopping.is_alive()
    caller_thread.join(2)
