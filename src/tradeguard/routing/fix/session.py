"""The FIX 4.4 session layer.

The FIX 4.4 session layer: logon, heartbeats and test requests, sequence numbers,
gap detection with ResendRequest, resending with PossDupFlag and gap fills, logout.

One ``FixSession`` is one side of a session between two comp ids. Its ``SessionStore``
(sequence numbers and the application messages sent) outlives a connection, so a
session that reconnects resumes its numbering: the side that sees a gap asks for a
resend, and the other resends its application messages (marked possible duplicates)
and fills the gaps left by administrative ones. An application message sent while
disconnected is stored and numbered, so the counterpart gets it by that resend.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tradeguard.logs import get_logger
from tradeguard.routing.fix.codec import (
    ADMIN_TYPES,
    FixFormatError,
    Message,
    MsgType,
    StreamReader,
    Tag,
    decode,
    encode,
    sending_time,
)

log = get_logger("tradeguard.routing.fix")
TICK_SECONDS = 0.05
TEST_REQUEST_AFTER = 1.5
"""Heartbeat intervals of silence before a TestRequest."""
DEAD_AFTER = 2.5
"""Heartbeat intervals of silence before the connection is dropped."""
READ_BYTES = 65_536
WRITE_WAIT_SECONDS = 1.0
INFINITY = 0
"""EndSeqNo 0: every message up to the latest."""

AppHandler = Callable[[Message], None]


@dataclass(slots=True)
class SessionStore:
    """Sequence numbers and the application messages sent, kept across connections."""

    next_out: int = 1
    next_in: int = 1
    sent: dict[int, tuple[str, list[tuple[int, str]], str]] = field(default_factory=dict)


class FixSession:
    """One side of a FIX session over whatever socket is attached now."""

    def __init__(  # noqa: PLR0913 - who talks to whom, what they keep, what they do
        self,
        sender: str,
        target: str,
        store: SessionStore,
        on_app: AppHandler,
        *,
        heartbeat_seconds: float = 1.0,
        acceptor: bool = False,
    ) -> None:
        self.sender = sender
        self.target = target
        self.store = store
        self.on_app = on_app
        self.heartbeat_seconds = heartbeat_seconds
        self.acceptor = acceptor
        self.logged_on = threading.Event()
        self.on_change: Callable[[bool], None] | None = None
        self.resends_requested = 0
        self._lock = threading.RLock()
        self._socket: _Connection | None = None
        self._last_in = self._last_out = time.monotonic()
        self._test_pending = False
        self._awaiting_resend_to = 0

    @property
    def connected(self) -> bool:
        """Whether a connection is attached and logged on."""
        return self._socket is not None and self.logged_on.is_set()

    def attach(self, sock: socket.socket) -> threading.Thread:
        """Run the session over ``sock`` on an I/O thread of its own (returned).

        That thread alone reads and writes the socket (a TLS connection is not safe to
        use from two threads at once); senders queue bytes and wake it.
        """
        connection = _Connection(sock)
        with self._lock:
            previous, self._socket = self._socket, connection
            self._last_in = self._last_out = time.monotonic()
            self._test_pending = False
            self._awaiting_resend_to = 0
        if previous is not None:
            previous.wake()
        if self.logged_on.is_set():  # a new connection logs on afresh
            self.logged_on.clear()
            self._changed(up=False)
        thread = threading.Thread(target=self._run, args=(connection,), daemon=True, name="fix")
        thread.start()
        return thread

    def logon(self) -> None:
        """Send Logon (the initiator's first message on a connection)."""
        interval = str(max(1, round(self.heartbeat_seconds)))
        self.send(MsgType.LOGON, [(Tag.ENCRYPT_METHOD, "0"), (Tag.HEARTBEAT_INTERVAL, interval)])

    def send(self, msg_type: str, fields: list[tuple[int, str]]) -> int:
        """Number and send a message; returns its sequence number.

        An application message is kept, and sent later if the connection is down now.
        """
        with self._lock:
            seq = self.store.next_out
            self.store.next_out += 1
            stamp = sending_time()
            if msg_type not in ADMIN_TYPES:
                self.store.sent[seq] = (msg_type, fields, stamp)
                if not self.logged_on.is_set():
                    return seq
            self._write(msg_type, seq, stamp, fields)
            return seq

    def close(self) -> None:
        """Drop the connection (the store is kept); its I/O thread closes the socket."""
        with self._lock:
            connection, self._socket = self._socket, None
        if connection is not None:
            connection.wake()

    def logout(self, text: str = "") -> None:
        """Send Logout and drop the connection."""
        if self._socket is not None:
            self.send(MsgType.LOGOUT, [(Tag.TEXT, text)] if text else [])
        self.close()

    # -- the I/O thread ------------------------------------------------------------------

    def _run(self, connection: _Connection) -> None:
        reader = StreamReader()
        try:
            while self._socket is connection:
                for data in connection.exchange(TICK_SECONDS):
                    if not data:
                        raise ConnectionResetError("closed by the counterparty")
                    for raw in reader.feed(data):
                        self._received(decode(raw))
                self._tick()
            connection.flush()  # a last Logout
        except (OSError, FixFormatError, ValueError) as error:
            log.info("fix.connection.ended", target=self.target, error=str(error))
        self._ended(connection)

    def _ended(self, connection: _Connection) -> None:
        with self._lock:
            if self._socket is connection:
                self._socket = None
        connection.close()
        if self.logged_on.is_set() and self._socket is None:
            self.logged_on.clear()
            self._changed(up=False)

    def _received(self, message: Message) -> None:
        self._last_in = time.monotonic()
        self._test_pending = False
        if message.msg_type == MsgType.LOGON:
            self._on_logon(message)
        elif message.msg_type == MsgType.SEQUENCE_RESET:
            self._on_sequence_reset(message)
            return
        elif message.msg_type == MsgType.RESEND_REQUEST and message.seq_num > self.store.next_in:
            # Answered at once, ahead of its place: when each side missed messages of the
            # other, each would otherwise wait for the other's resend for ever.
            self._dispatch(message)
        if not self._in_sequence(message):
            return
        self._dispatch(message)

    def _in_sequence(self, message: Message) -> bool:
        """Whether to process ``message`` now; a gap asks for a resend, a duplicate is skipped."""
        seq, store = message.seq_num, self.store
        if seq > store.next_in:
            if seq > self._awaiting_resend_to:
                self._awaiting_resend_to = seq
                self.resends_requested += 1
                self.send(
                    MsgType.RESEND_REQUEST,
                    [(Tag.BEGIN_SEQ_NO, str(store.next_in)), (Tag.END_SEQ_NO, str(INFINITY))],
                )
            return False
        if seq < store.next_in:
            if not message.poss_dup and message.msg_type != MsgType.LOGON:
                self.logout(f"MsgSeqNum too low, expecting {store.next_in} but received {seq}")
            return False
        store.next_in += 1
        return True

    def _dispatch(self, message: Message) -> None:
        kind = message.msg_type
        if kind == MsgType.TEST_REQUEST:
            self.send(MsgType.HEARTBEAT, [(Tag.TEST_REQ_ID, message.get(Tag.TEST_REQ_ID) or "")])
        elif kind == MsgType.RESEND_REQUEST:
            self._resend(message.integer(Tag.BEGIN_SEQ_NO), message.integer(Tag.END_SEQ_NO))
        elif kind == MsgType.LOGOUT:
            if self._socket is not None:
                self.logout()
        elif kind not in ADMIN_TYPES:
            self.on_app(message)

    def _on_logon(self, message: Message) -> None:
        if message.get(Tag.SENDER) != self.target or message.get(Tag.TARGET) != self.sender:
            self.logout("unknown comp ids")
            return
        if self.acceptor and not self.logged_on.is_set():
            interval = message.get(Tag.HEARTBEAT_INTERVAL, "1") or "1"
            self.heartbeat_seconds = float(interval)
            self.logon()
        if not self.logged_on.is_set():
            self.logged_on.set()
            self._changed(up=True)

    def _on_sequence_reset(self, message: Message) -> None:
        new = message.integer(Tag.NEW_SEQ_NO)
        self.store.next_in = max(self.store.next_in, new)

    def _resend(self, begin: int, end: int) -> None:
        """Resend stored application messages in [begin, end]; gap-fill the others."""
        with self._lock:
            last = self.store.next_out - 1 if end == INFINITY else min(end, self.store.next_out - 1)
            gap_from: int | None = None
            for seq in range(begin, last + 1):
                stored = self.store.sent.get(seq)
                if stored is None:
                    gap_from = seq if gap_from is None else gap_from
                    continue
                if gap_from is not None:
                    self._gap_fill(gap_from, seq)
                    gap_from = None
                msg_type, fields, original = stored
                resent = [(Tag.POSS_DUP, "Y"), (Tag.ORIG_SENDING_TIME, original), *fields]
                self._write(msg_type, seq, sending_time(), resent)
            if gap_from is not None:
                self._gap_fill(gap_from, last + 1)

    def _gap_fill(self, seq: int, new_seq: int) -> None:
        fields = [(Tag.POSS_DUP, "Y"), (Tag.GAP_FILL, "Y"), (Tag.NEW_SEQ_NO, str(new_seq))]
        self._write(MsgType.SEQUENCE_RESET, seq, sending_time(), fields)

    def _tick(self) -> None:
        """Heartbeat when quiet; test the line, then drop it, when the other side is."""
        if not self.logged_on.is_set():
            return
        now, interval = time.monotonic(), self.heartbeat_seconds
        if now - self._last_out >= interval:
            self.send(MsgType.HEARTBEAT, [])
        silent = now - self._last_in
        if silent >= interval * DEAD_AFTER:
            log.warning("fix.counterparty.silent", target=self.target, seconds=round(silent, 2))
            self.close()
        elif silent >= interval * TEST_REQUEST_AFTER and not self._test_pending:
            self._test_pending = True
            self.send(MsgType.TEST_REQUEST, [(Tag.TEST_REQ_ID, str(int(now * 1000)))])

    def _write(self, msg_type: str, seq: int, stamp: str, fields: list[tuple[int, str]]) -> None:
        header = [
            (Tag.SENDER, self.sender),
            (Tag.TARGET, self.target),
            (Tag.SEQ_NUM, str(seq)),
            (Tag.SENDING_TIME, stamp),
        ]
        data = encode(msg_type, [*header, *fields])
        with self._lock:
            connection = self._socket
            if connection is None:
                return
            connection.queue(data)
            self._last_out = time.monotonic()

    def _changed(self, *, up: bool) -> None:
        callback = self.on_change
        if callback is not None:
            callback(up)


class _Connection:
    """A socket used by one I/O thread, with an outbox other threads fill and a wake-up."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)  # noqa: FBT003 - the socket call
        self.sock = sock
        self._outbox = bytearray()
        self._lock = threading.Lock()
        self._wake_in, self._wake_out = socket.socketpair()
        self._wake_in.setblocking(False)  # noqa: FBT003 - the socket call
        self._wake_out.setblocking(False)  # noqa: FBT003 - the socket call
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._selector.register(self._wake_in, selectors.EVENT_READ)

    def queue(self, data: bytes) -> None:
        """Send ``data`` soon (from any thread)."""
        with self._lock:
            self._outbox += data
        self.wake()

    def wake(self) -> None:
        """Have the I/O thread look at its outbox and state now."""
        with contextlib.suppress(OSError):
            self._wake_out.send(b"\0")

    def exchange(self, timeout: float) -> list[bytes]:
        """Write what is queued, then what arrived within ``timeout`` (b"" when closed)."""
        self.flush()
        received: list[bytes] = []
        for key, _ in self._selector.select(timeout):
            if key.fileobj is self._wake_in:
                with contextlib.suppress(BlockingIOError):
                    self._wake_in.recv(READ_BYTES)
            else:
                received.extend(self._read())
        self.flush()
        return received

    def flush(self) -> None:
        """Write everything queued (waiting for the socket if it is full)."""
        with self._lock:
            data, self._outbox = bytes(self._outbox), bytearray()
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view) :]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                select.select([], [self.sock], [], WRITE_WAIT_SECONDS)

    def close(self) -> None:
        """Close the socket and the wake-up pair."""
        self._selector.close()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._wake_in.close()
        self._wake_out.close()

    def _read(self) -> list[bytes]:
        """Everything readable now, TLS records buffered inside included."""
        chunks: list[bytes] = []
        while True:
            try:
                data = self.sock.recv(READ_BYTES)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return chunks
            chunks.append(data)
            if not data:
                return chunks
