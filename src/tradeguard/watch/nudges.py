"""Nudges from the desk process to the watch process: "events were committed, look now".

Under ``tradeguard serve`` the embedded watchers run in a process of their own, so the
desk's commits cannot wake their loop in memory. The watch process listens on a Unix
datagram socket beside the desk socket; the desk process sends it one empty datagram
after each commit that wrote audit events. A nudge carries nothing: the watchers read
what to do from the audit table. A nudge that cannot be sent (the watch process is not
up, or its queue is full) is simply lost: the next nudge or poll finds the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from pathlib import Path

from tradeguard.config import Settings
from tradeguard.core.secure_files import bind_private

NUDGE = b""


def nudge_socket(settings: Settings) -> Path:
    """Where the watch process listens for nudges: beside the desk socket."""
    return settings.effective_desk_socket.with_name("watch-nudges.sock")


class NudgeSender:
    """Sends a nudge to the watch process; never blocks and never raises."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)  # noqa: FBT003 - the socket API

    def __call__(self) -> None:
        """Nudge the watch process (a nudge it cannot take now is dropped)."""
        with contextlib.suppress(OSError):  # not listening, or busy: the next poll finds it
            self._socket.sendto(NUDGE, self.path)

    def close(self) -> None:
        """Release the socket."""
        self._socket.close()


class NudgeListener:
    """The watch process's end: calls ``wake`` on ``loop`` for each burst of nudges.

    It listens from construction (a path too long for a Unix socket is refused with
    ``ConfigurationError``) until ``close``.
    """

    def __init__(
        self, path: Path, wake: Callable[[], None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.path = path
        self._wake = wake
        self._loop = loop
        path.unlink(missing_ok=True)  # left by a process that did not stop cleanly
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            bind_private(self._socket, path)
        except BaseException:
            self._socket.close()
            raise
        self._socket.setblocking(False)  # noqa: FBT003 - the socket API
        loop.add_reader(self._socket.fileno(), self._heard)

    def _heard(self) -> None:
        """Take every queued nudge, then wake once: many commits make one round."""
        with contextlib.suppress(BlockingIOError):
            while True:
                self._socket.recv(1)
        self._wake()

    def close(self) -> None:
        """Stop hearing nudges and remove the socket file."""
        self._loop.remove_reader(self._socket.fileno())
        self._socket.close()
        self.path.unlink(missing_ok=True)
