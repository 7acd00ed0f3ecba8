"""The desk process's end of the channel: answers the workers' calls and pushes feed events.

The socket is created in a directory only its owner may enter and narrowed to mode 0600,
so only processes of the service's own user connect. Each connection has a reader thread;
its calls run on a shared pool, so calls from every worker reach the desk at once (the
desk orders them under its own lock). Quick calls (memory only, never waiting: nonces,
rate-limit counters) are answered on the reader thread itself, with no hand-over to the
pool. Later calls (placing an order) are handed to their handler with a ``Reply`` and
answered by whichever thread finishes them (the desk's sequencer, once their batch has
committed), so no thread waits for each. A refusal (``ProblemError``) travels back as a
problem; any other failure as a bare "unavailable", its details kept in the desk's log.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from tradeguard.core.errors import ProblemError, StartupError
from tradeguard.core.secure_files import bind_private, check_socket_path
from tradeguard.logs import get_logger
from tradeguard.trading.channel.wire import Codec, Json, WireError, read_frame

log = get_logger("tradeguard.trading.channel")
Handler = Callable[..., Any]
Reply = Callable[[Callable[[], Any]], None]
"""How a later call is answered: with a function that returns its result or raises."""
CALL_THREADS = 32
LATER_DRAIN_SECONDS = 30.0
"""How long stopping waits for later calls in flight to be answered."""


class _Peer:
    """One connected worker."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.write_lock = threading.Lock()

    def send(self, frame: bytes) -> bool:
        """Write one frame; ``False`` if the worker is gone."""
        try:
            with self.write_lock:
                self.sock.sendall(frame)
        except OSError:
            return False
        return True


class DeskServer:
    """Listens on the desk socket and runs each call with its handler."""

    def __init__(self, path: Path, codec: Codec, handlers: Mapping[str, Handler]) -> None:
        check_socket_path(path)  # refused at once, before the desk is built
        self.path = path
        self.codec = codec
        self.handlers = dict(handlers)
        self.quick: set[str] = set()
        """Methods answered on the connection's reader thread: they never block."""
        self.later: set[str] = set()
        """Methods whose handler takes a ``Reply`` first, returns at once and answers later."""
        self._open_later = 0
        self._later_answered = threading.Condition()
        self._peers: set[_Peer] = set()
        self._peers_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(CALL_THREADS, "desk-call")
        self._listener: socket.socket | None = None

    def add(
        self, handlers: Mapping[str, Handler], *, quick: bool = False, later: bool = False
    ) -> None:
        """Answer ``handlers``' methods on the pool, or as ``quick`` or ``later`` calls.

        ``quick`` ones run on the reader thread (they never block); ``later`` ones are
        given a ``Reply`` first, return at once and answer through it.
        """
        self.handlers.update(handlers)
        for kind, chosen in ((self.quick, quick), (self.later, later)):
            if chosen:
                kind.update(handlers)
            else:
                kind.difference_update(handlers)

    def start(self) -> None:
        """Bind the socket (mode 0600) and accept workers in a background thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if socket_answers(self.path):  # two desks over one database would be two writers
            raise StartupError(f"another desk process is serving on {self.path}")
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by a killed desk process
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        bind_private(listener, self.path)
        listener.listen(64)
        self._listener = listener
        threading.Thread(
            target=self._accept, args=(listener,), name="desk-accept", daemon=True
        ).start()
        log.info("trading.desk_listening", socket=str(self.path))

    def stop(self) -> None:
        """Stop accepting, close every connection and finish the calls in flight."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._peers_lock:
            peers, self._peers = self._peers, set()
        for peer in peers:
            with contextlib.suppress(OSError):
                peer.sock.shutdown(socket.SHUT_RDWR)
        self._pool.shutdown(wait=True)
        with self._later_answered:
            if not self._later_answered.wait_for(
                lambda: self._open_later == 0, LATER_DRAIN_SECONDS
            ):
                log.warning("trading.desk_calls_unanswered", calls=self._open_later)

    def publish(self, user_id: str, event: Mapping[str, Any]) -> None:
        """Push one feed event to every connected worker (each fans it out to its clients)."""
        self._to_every_worker(self.codec.dumps({"f": [user_id, self.codec.encode(dict(event))]}))

    def _to_every_worker(self, frame: bytes) -> None:
        with self._peers_lock:
            peers = list(self._peers)
        for peer in peers:
            peer.send(frame)

    def tell_sessions(self, key: str) -> None:
        """Push a session-state change (``session_news``) to every connected worker."""
        self._to_every_worker(self.codec.dumps({"s": key}))

    @property
    def workers(self) -> int:
        """How many workers are connected now."""
        with self._peers_lock:
            return len(self._peers)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            peer = _Peer(sock)
            with self._peers_lock:
                self._peers.add(peer)
            threading.Thread(
                target=self._serve, args=(peer,), name="desk-peer", daemon=True
            ).start()

    def _serve(self, peer: _Peer) -> None:
        try:
            while (message := read_frame(peer.sock)) is not None:
                method = message.get("m") if isinstance(message, dict) else None
                if method in self.later:
                    self._start_later(peer, message)
                elif method in self.quick:
                    self._answer(peer, message)
                else:
                    self._pool.submit(self._answer, peer, message)
        except (OSError, WireError, RuntimeError):
            log.warning("trading.desk_peer_dropped", exc_info=True)
        finally:
            with self._peers_lock:
                self._peers.discard(peer)
            peer.sock.close()

    def _answer(self, peer: _Peer, message: Json) -> None:
        self._send_answer(peer, message, lambda: self._run(message))

    def _start_later(self, peer: _Peer, message: dict[str, Json]) -> None:
        """Hand a later call to its handler; its ``Reply`` sends the answer once."""
        answered = threading.Lock()

        def reply(result: Callable[[], Any]) -> None:
            if not answered.acquire(blocking=False):
                return
            self._send_answer(peer, message, result)
            with self._later_answered:
                self._open_later -= 1
                self._later_answered.notify_all()

        with self._later_answered:
            self._open_later += 1
        try:
            args, kwargs = self._arguments(message)
            self.handlers[str(message["m"])](reply, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - answered as the call's outcome
            reply(partial(_raise, error))

    def _run(self, message: Json) -> Any:  # noqa: ANN401 - the handler's own result
        if not isinstance(message, dict):
            raise WireError("a call is a mapping")
        args, kwargs = self._arguments(message)
        return self.handlers[str(message.get("m"))](*args, **kwargs)

    def _arguments(self, message: dict[str, Json]) -> tuple[Any, Any]:
        return self.codec.decode(message.get("a", [])), self.codec.decode(message.get("k", {}))

    def _send_answer(self, peer: _Peer, message: Json, result: Callable[[], Any]) -> None:
        call_id = message.get("i") if isinstance(message, dict) else None
        try:
            frame = self.codec.dumps({"i": call_id, **self._outcome(message, result)})
        except WireError:  # an answer with no wire form: the worker must not wait for it
            log.exception("trading.desk_answer_unsendable", method=_method(message))
            frame = self.codec.dumps({"i": call_id, "u": "WireError"})
        peer.send(frame)

    def _outcome(self, message: Json, result: Callable[[], Any]) -> dict[str, Json]:
        try:
            return {"r": self.codec.encode(result())}
        except ProblemError as refusal:
            return {"x": self.codec.encode(_plain(refusal))}
        except Exception as error:
            log.exception("trading.desk_call_failed", method=_method(message))
            return {"u": type(error).__name__}


def _method(message: Json) -> str:
    return str(message.get("m")) if isinstance(message, dict) else "?"


def _raise(error: Exception) -> NoReturn:
    raise error


def _plain(refusal: ProblemError) -> ProblemError:
    """The refusal with its reason code as a plain string (reason enums stay in the desk)."""
    return replace(refusal, reason_code=str(refusal.reason_code))


def socket_answers(path: Path) -> bool:
    """Whether a process accepts connections on the socket at ``path`` now."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True
