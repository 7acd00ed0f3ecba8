"""A stand-in for Alpaca's market data v2 stream on loopback, speaking its protocol.

It greets with ``connected``, wants the ``auth`` action within ``auth_seconds`` (an
``error`` 404 otherwise, 402 for wrong credentials, 401 for anything else first), answers
``subscribe`` with the ``subscription`` in force, and lets the test publish data frames
to every subscribed connection, drop them all, or refuse new ones.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

CHANNELS = ("trades", "quotes", "statuses")
KEY_ID = "PKTEST"
SECRET = "test-secret"


class AlpacaStandIn:
    def __init__(self, key_id: str, secret: str, *, auth_seconds: float = 2.0) -> None:
        self.key_id, self.secret, self.auth_seconds = key_id, secret, auth_seconds
        self.server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self.port = self.server.socket.getsockname()[1]
        self.lock = threading.Lock()
        self.live: list[ServerConnection] = []
        self.received: list[dict[str, Any]] = []
        self.greeted = 0
        self.refused = 0
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/sip"

    def publish(self, *messages: dict[str, Any]) -> None:
        frame = json.dumps(list(messages))
        with self.lock:
            connections = list(self.live)
        for connection in connections:
            with suppress(ConnectionClosed):
                connection.send(frame)

    def drop_all(self) -> None:
        with self.lock:
            connections, self.live = self.live, []
        for connection in connections:
            connection.close()

    def subscribed(self) -> int:
        with self.lock:
            return len(self.live)

    def _handle(self, connection: ServerConnection) -> None:
        with self.lock:
            self.greeted += 1
        connection.send(json.dumps([{"T": "success", "msg": "connected"}]))
        if not self._authenticated(connection):
            return
        subscription: dict[str, set[str]] = {name: set() for name in CHANNELS}
        try:
            for raw in connection:
                message = self._note(raw)
                if message.get("action") == "subscribe":
                    self._subscribe(connection, subscription, message)
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                if connection in self.live:
                    self.live.remove(connection)

    def _authenticated(self, connection: ServerConnection) -> bool:
        try:
            message = self._note(connection.recv(timeout=self.auth_seconds))
        except TimeoutError:
            return _refuse(connection, 404, "auth timeout")
        if message.get("action") != "auth":
            return _refuse(connection, 401, "not authenticated")
        if (message.get("key"), message.get("secret")) != (self.key_id, self.secret):
            with self.lock:
                self.refused += 1
            return _refuse(connection, 402, "auth failed")
        connection.send(json.dumps([{"T": "success", "msg": "authenticated"}]))
        return True

    def _subscribe(
        self,
        connection: ServerConnection,
        subscription: dict[str, set[str]],
        message: dict[str, Any],
    ) -> None:
        for name in CHANNELS:
            subscription[name] |= set(message.get(name, []))
        answer = {"T": "subscription"} | {name: sorted(subscription[name]) for name in CHANNELS}
        connection.send(json.dumps([answer]))
        with self.lock:
            if connection not in self.live:
                self.live.append(connection)

    def _note(self, raw: str | bytes) -> dict[str, Any]:
        message = json.loads(raw)
        with self.lock:
            self.received.append(message)
        return message if isinstance(message, dict) else {}


def _refuse(connection: ServerConnection, code: int, text: str) -> bool:
    connection.send(json.dumps([{"T": "error", "code": code, "msg": text}]))
    connection.close()
    return False


@contextmanager
def running_standin() -> Iterator[AlpacaStandIn]:
    standin = AlpacaStandIn(KEY_ID, SECRET)
    standin.thread.start()
    try:
        yield standin
    finally:
        standin.server.shutdown()
        standin.thread.join(5)


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def quote(symbol: str, bid: float, ask: float, stamp: str, **extra: Any) -> dict[str, Any]:
    """A quote message as the stream sends it (prices as JSON numbers)."""
    return {"T": "q", "S": symbol, "bx": "V", "bp": bid, "bs": 3, "ax": "Q", "ap": ask,
            "as": 2, "t": stamp, "c": ["R"], "z": "C"} | extra  # fmt: skip
