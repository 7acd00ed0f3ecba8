"""A FIX 4.4 initiator to one venue over TLS: connects, logs on, reconnects when dropped.

The session's store outlives connections, so after a reconnect each side resends what
the other missed (see ``session``): orders sent while the venue was away reach it, and
its reports on open orders come back: the open orders are reconciled on reconnect.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable

from tradeguard.logs import get_logger
from tradeguard.routing.fix.codec import Message, MsgType
from tradeguard.routing.fix.messages import (
    CancelReject,
    ExecutionReport,
    VenueOrder,
    cancel_reject_of,
    cancel_request,
    execution_report_of,
    new_order_single,
    replace_request,
    status_request,
)
from tradeguard.routing.fix.session import FixSession, SessionStore

log = get_logger("tradeguard.routing.fix")
RECONNECT_SECONDS = 0.2
CONNECT_TIMEOUT_SECONDS = 2.0
LOGON_TIMEOUT_SECONDS = 2.0
ReportHandler = Callable[[str, ExecutionReport], None]
"""Takes a venue's code and one of its execution reports."""


class VenueLink:
    """The initiator side of the session with one venue."""

    def __init__(  # noqa: PLR0913 - where the venue is, how to trust it, what to do with reports
        self,
        code: str,
        address: tuple[str, int],
        tls: ssl.SSLContext,
        on_report: ReportHandler,
        *,
        sender: str = "TRADEGUARD",
        heartbeat_seconds: float = 1.0,
    ) -> None:
        self.code = code
        self.address = address
        self.tls = tls
        self.on_report = on_report
        self.session = FixSession(
            sender, code, SessionStore(), self._on_app, heartbeat_seconds=heartbeat_seconds
        )
        self.on_change: Callable[[bool], None] | None = None
        self.on_cancel_reject: Callable[[str, CancelReject], None] | None = None
        self.session.on_change = self._changed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancels = 0

    @property
    def up(self) -> bool:
        """Whether the session is logged on now."""
        return self.session.connected

    def start(self) -> None:
        """Connect now and keep connecting whenever the session drops."""
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"fix-{self.code}")
        self._thread.start()

    def stop(self) -> None:
        """Log out and stop reconnecting."""
        self._stop.set()
        self.session.logout()
        if self._thread is not None:
            self._thread.join(CONNECT_TIMEOUT_SECONDS + 1)

    def wait_up(self, timeout: float) -> bool:
        """Wait until logged on; whether it is."""
        return self.session.logged_on.wait(timeout)

    def send_order(self, order: VenueOrder, *, resend: bool = False) -> None:
        """Send a NewOrderSingle (stored and resent on reconnect if the line is down)."""
        self.session.send(MsgType.NEW_ORDER_SINGLE, new_order_single(order, resend=resend))

    def cancel(self, order: VenueOrder) -> None:
        """Ask the venue to cancel ``order``'s remainder."""
        self._cancels += 1
        cl_ord_id = f"{order.cl_ord_id}-C{self._cancels}"
        self.session.send(MsgType.ORDER_CANCEL_REQUEST, cancel_request(cl_ord_id, order))

    def replace(self, order: VenueOrder, new: VenueOrder) -> None:
        """Ask the venue to turn resting ``order`` into ``new`` (its ClOrdID the new one)."""
        fields = replace_request(new.cl_ord_id, order, new)
        self.session.send(MsgType.ORDER_CANCEL_REPLACE_REQUEST, fields)

    def status(self, order: VenueOrder) -> None:
        """Ask the venue where ``order`` stands (answered by an ExecutionReport 150=I)."""
        self.session.send(MsgType.ORDER_STATUS_REQUEST, status_request(order))

    def _run(self) -> None:
        while not self._stop.is_set():
            reader = self._connect()
            if reader is not None:
                reader.join()
            self._stop.wait(RECONNECT_SECONDS)

    def _connect(self) -> threading.Thread | None:
        try:
            raw = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT_SECONDS)
            connection = self.tls.wrap_socket(raw, server_hostname=self.address[0])
        except OSError as error:
            log.debug("fix.connect_failed", venue=self.code, error=str(error))
            return None
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = self.session.attach(connection)
        self.session.logon()
        return reader

    def _on_app(self, message: Message) -> None:
        if message.msg_type == MsgType.EXECUTION_REPORT:
            self.on_report(self.code, execution_report_of(message))
        elif message.msg_type == MsgType.ORDER_CANCEL_REJECT:
            reject = cancel_reject_of(message)
            log.info("fix.cancel_rejected", venue=self.code, unknown=reject.unknown_order)
            if self.on_cancel_reject is not None:
                self.on_cancel_reject(self.code, reject)

    def _changed(self, up: bool) -> None:  # noqa: FBT001 - the session's callback
        log.info("fix.venue.up" if up else "fix.venue.down", venue=self.code)
        callback = self.on_change
        if callback is not None:
            callback(up)
