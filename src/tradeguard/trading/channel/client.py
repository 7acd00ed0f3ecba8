"""A gateway worker's end of the desk channel: calls with answers, and the desk's pushes.

One Unix-socket connection carries every call of the worker's threads, each with its
own id; a reader thread hands each answer to the thread waiting for it (or, for
``call_async``, to the event loop awaiting it, so no thread waits), each pushed
feed event to ``on_push`` and each session-state change to ``on_session_news``; every
new connection calls ``on_connect`` (pushes sent while it was down are lost). When the
desk is gone (no socket, connection lost, no answer within the timeout) a call raises
``DeskUnreachableError`` at once and the callers turn it into their own refusal (503);
a keeper thread reconnects on its own, so the feed resumes without a request having to
come first.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradeguard.core.errors import ProblemError, TradeGuardError
from tradeguard.logs import get_logger
from tradeguard.trading.channel.wire import Codec, Json, WireError, read_frame

log = get_logger("tradeguard.trading.channel")
RECONNECT_SECONDS = 0.5
Push = Callable[[str, dict[str, Any]], None]


class DeskUnreachableError(TradeGuardError):
    """The desk process did not answer: not running, connection lost, or too slow."""


class _Call:
    """One call waiting for its answer."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: Json = None

    def settle(self, answer: Json) -> None:
        self.answer = answer
        self.done.set()


class _AwaitedCall(_Call):
    """One call awaited on an event loop: the reader thread settles it through the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.future: asyncio.Future[Json] = loop.create_future()

    def settle(self, answer: Json) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody awaits it any more
            self.loop.call_soon_threadsafe(_resolve, self.future, answer)


def _resolve(future: asyncio.Future[Json], answer: Json) -> None:
    if not future.done():  # not given up on (timed out, cancelled)
        future.set_result(answer)


class _Connection:
    """One live connection to the desk and the calls waiting on it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.write_lock = threading.Lock()
        self.pending: dict[int, _Call] = {}
        self.closed = False


class DeskChannel:
    """Calls into the desk process over its Unix socket, from any thread."""

    def __init__(self, path: Path, codec: Codec, timeout_seconds: float) -> None:
        self.path = path
        self.codec = codec
        self.timeout = timeout_seconds
        self.on_push: Push | None = None
        self.on_session_news: Callable[[str], None] | None = None
        self.on_connect: Callable[[], None] | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._connection: _Connection | None = None
        self._stopped = threading.Event()

    def start(self) -> None:
        """Keep a connection open in the background (reconnecting whenever it drops)."""
        threading.Thread(target=self._keep_connected, name="desk-keeper", daemon=True).start()

    def close(self) -> None:
        """Stop reconnecting and close the connection."""
        self._stopped.set()
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            self._drop(connection)

    @property
    def connected(self) -> bool:
        """Whether a connection to the desk is open now."""
        connection = self._connection
        return connection is not None and not connection.closed

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the desk's answer
        """``method`` run by the desk with these arguments; its result, or its refusal raised."""
        call = _Call()
        connection, call_id, frame = self._register(call, method, args, kwargs)
        self._write(connection, frame)
        if not call.done.wait(self.timeout):
            connection.pending.pop(call_id, None)
            raise DeskUnreachableError(f"the desk did not answer within {self.timeout} s")
        return self._outcome(call.answer)

    async def call_async(self, method: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the desk's answer
        """``call`` awaited on the running event loop, without a thread waiting for it."""
        call = _AwaitedCall(asyncio.get_running_loop())
        connection, call_id, frame = self._register(call, method, args, kwargs)
        try:
            async with asyncio.timeout(self.timeout):
                await self._write_soon(connection, frame)
                answer = await call.future
        except TimeoutError:
            connection.pending.pop(call_id, None)
            raise DeskUnreachableError(f"the desk did not answer within {self.timeout} s") from None
        return self._outcome(answer)

    def _register(
        self, call: _Call, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[_Connection, int, bytes]:
        """Register ``call`` on the connection; the connection, the call's id and its frame."""
        connection = self._connect()
        call_id = next(self._ids)
        connection.pending[call_id] = call
        if connection.closed:  # dropped between the connect and the registration
            raise DeskUnreachableError("the desk connection was lost")
        message = {"i": call_id, "m": method, "a": self.codec.encode(list(args))}
        if kwargs:
            message["k"] = self.codec.encode(kwargs)
        return connection, call_id, self.codec.dumps(message)

    def _write(self, connection: _Connection, frame: bytes) -> None:
        with connection.write_lock:
            self._write_locked(connection, frame)

    def _write_locked(self, connection: _Connection, frame: bytes) -> None:
        try:
            connection.sock.sendall(frame)
        except OSError as error:
            self._drop(connection)
            raise DeskUnreachableError(f"the desk connection failed: {error}") from None

    async def _write_soon(self, connection: _Connection, frame: bytes) -> None:
        """Write ``frame`` from the loop when the socket takes it at once, else from a thread.

        The event loop never waits for the socket: a desk that stops reading (its buffer
        full) or a frame another thread is writing leaves the wait to a worker thread.
        """
        if not connection.write_lock.acquire(blocking=False):
            await asyncio.to_thread(self._write, connection, frame)
            return
        try:
            sent = connection.sock.send(frame, socket.MSG_DONTWAIT)
        except BlockingIOError:
            sent = 0
        except OSError as error:
            connection.write_lock.release()
            self._drop(connection)
            raise DeskUnreachableError(f"the desk connection failed: {error}") from None
        if sent == len(frame):
            connection.write_lock.release()
            return
        await asyncio.to_thread(self._finish_write, connection, frame[sent:])

    def _finish_write(self, connection: _Connection, rest: bytes) -> None:
        """Write the rest of a frame begun on the loop, then free the connection for others."""
        try:
            self._write_locked(connection, rest)
        finally:
            connection.write_lock.release()

    def _outcome(self, answer: Json) -> Any:  # noqa: ANN401 - the desk's answer
        if answer is None:
            raise DeskUnreachableError("the desk connection was lost before the answer")
        if "x" in answer:
            problem = self.codec.decode(answer["x"])
            if not isinstance(problem, ProblemError):
                raise WireError("a refusal from the desk is not a problem")
            raise problem
        if "u" in answer:
            raise DeskUnreachableError(f"the desk failed: {answer['u']}")
        return self.codec.decode(answer.get("r"))

    def _connect(self) -> _Connection:
        with self._lock:
            connection = self._connection
            if connection is not None and not connection.closed:
                return connection
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(self.path))
            except OSError as error:
                sock.close()
                raise DeskUnreachableError(f"the desk process is not reachable: {error}") from None
            connection = _Connection(sock)
            self._connection = connection
            if self.on_connect is not None:
                self.on_connect()
        threading.Thread(
            target=self._read, args=(connection,), name="desk-reader", daemon=True
        ).start()
        log.info("trading.desk_connected", socket=str(self.path))
        return connection

    def _read(self, connection: _Connection) -> None:
        try:
            while (message := read_frame(connection.sock)) is not None:
                self._dispatch(connection, message)
        except (OSError, WireError):
            if not connection.closed:
                log.warning("trading.desk_connection_lost", exc_info=True)
        finally:
            self._drop(connection)

    def _dispatch(self, connection: _Connection, message: Json) -> None:
        if "f" in message:
            self._push(message["f"])
            return
        if "s" in message:
            self._session_news(message["s"])
            return
        call = connection.pending.pop(message.get("i", 0), None)
        if call is not None:
            call.settle(message)

    def _push(self, pushed: Json) -> None:
        on_push = self.on_push
        if on_push is None or not isinstance(pushed, list) or len(pushed) != 2:  # noqa: PLR2004 - [user, event]
            return
        user_id, event = pushed[0], self.codec.decode(pushed[1])
        if isinstance(user_id, str) and isinstance(event, dict):
            on_push(user_id, event)

    def _session_news(self, key: Json) -> None:
        heard = self.on_session_news
        if heard is not None and isinstance(key, str):
            heard(key)

    def _drop(self, connection: _Connection) -> None:
        connection.closed = True
        with contextlib.suppress(OSError):
            connection.sock.close()
        waiting = list(connection.pending.values())
        connection.pending.clear()
        for call in waiting:
            call.settle(None)

    def _keep_connected(self) -> None:
        while not self._stopped.wait(RECONNECT_SECONDS):
            if self.connected:
                continue
            try:
                self._connect()
            except DeskUnreachableError:
                continue
