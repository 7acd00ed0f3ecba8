"""The process layout of ``tradeguard serve``: a desk process, gateway workers, a watch process.

The supervisor binds the HTTPS listening socket once and hands it to every worker (the
kernel spreads new connections over the workers that accept on it). It starts the desk
process first, and the workers and the watch process (the embedded watchers, with
``watch_process`` on) once the desk's socket answers, then watches them: a desk
process that dies is started again (workers answer ``503 TRADING_UNAVAILABLE`` meanwhile
and reconnect on their own), a worker or the watch process that dies is replaced (the
watchers go on from their durable cursors). A child that dies within
``RESTART_BACKOFF_SECONDS`` of its start waits that long before its next start. On
SIGTERM or SIGINT the workers stop first (they finish their requests), then the watch
process (it finishes its batch), then the desk. With ``vault_mode`` supervised, the
payment vault (``tradeguard payments serve``) is started first and watched like the
others, and stopped last.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tradeguard.cards.wiring import vault_process_environment
from tradeguard.config import Settings, VaultMode
from tradeguard.core.errors import StartupError
from tradeguard.logs import get_logger
from tradeguard.trading.channel.server import socket_answers

log = get_logger("tradeguard.supervisor")
RESTART_BACKOFF_SECONDS = 1.0
DESK_START_SECONDS = 120.0
STOP_SECONDS = 20.0
POLL_SECONDS = 0.2


def worker_count(settings: Settings) -> int:
    """Gateway workers to run: the setting, or one per CPU core when it is 0."""
    return settings.serve_workers or os.cpu_count() or 1


def listening_socket(settings: Settings) -> socket.socket:
    """The HTTPS port, bound once and inheritable by the workers."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        sock.close()
        raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {error}") from None
    sock.listen(settings.listen_backlog)
    sock.set_inheritable(True)
    return sock


@dataclass
class Child:
    """One supervised process: how to start it, and the running one."""

    name: str
    argv: list[str]
    pass_fds: tuple[int, ...] = ()
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    starts: int = field(default=0)

    def start(self) -> None:
        """Start (or start again) the process."""
        self.process = subprocess.Popen(self.argv, pass_fds=self.pass_fds, env=self.env)  # noqa: S603 - our own interpreter and module
        self.started_at = time.monotonic()
        self.starts += 1
        log.info("supervisor.started", child=self.name, pid=self.process.pid, starts=self.starts)

    def exited(self) -> int | None:
        """The exit status if the process has ended."""
        return None if self.process is None else self.process.poll()

    def signal(self, signum: int) -> None:
        """Send ``signum`` to a running process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, seconds: float) -> None:
        """Wait for the process to end, killing it after ``seconds``."""
        if self.process is None:
            return
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Supervisor:
    """Runs the desk process, the workers and the watch process until told to stop."""

    def __init__(
        self,
        desk: Child,
        workers: list[Child],
        desk_socket: Path,
        others: tuple[Child, ...] = (),
        watch: Child | None = None,
    ) -> None:
        self.desk = desk
        self.workers = workers
        self.desk_socket = desk_socket
        self.others = others  # the payment vault, when supervised
        self.watch = watch
        self._stop = threading.Event()

    @property
    def after_desk(self) -> list[Child]:
        """The children that need the desk's socket: the workers and the watch process."""
        return [*self.workers, *([self.watch] if self.watch else [])]

    def run(self) -> None:
        """Start everything, keep it running, stop it all on SIGTERM or SIGINT."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for other in self.others:
            other.start()
        self.desk.start()
        self._await_desk()
        for child in self.after_desk:
            child.start()
        try:
            while not self._stop.wait(POLL_SECONDS):
                for child in (*self.others, self.desk, *self.after_desk):
                    self._restart_if_dead(child)
        finally:
            self._shutdown()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame
        self._stop.set()

    def _await_desk(self) -> None:
        """Wait until the desk socket accepts; a desk that exits first fails the start."""
        deadline = time.monotonic() + DESK_START_SECONDS
        while time.monotonic() < deadline and not self._stop.is_set():
            status = self.desk.exited()
            if status is not None:
                raise StartupError(f"the desk process exited at start (status {status})")
            if socket_answers(self.desk_socket):
                return
            time.sleep(POLL_SECONDS)
        if not self._stop.is_set():
            raise StartupError("the desk process did not open its socket in time")

    def _restart_if_dead(self, child: Child) -> None:
        status = child.exited()
        if status is None:
            return
        if time.monotonic() - child.started_at < RESTART_BACKOFF_SECONDS:
            return  # restarted on a later pass, once the back-off has passed
        log.warning("supervisor.child_exited", child=child.name, status=status)
        child.start()

    def _shutdown(self) -> None:
        for worker in self.workers:
            worker.signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(STOP_SECONDS)
        if self.watch is not None:
            self.watch.signal(signal.SIGTERM)
            self.watch.wait(STOP_SECONDS)
        self.desk.signal(signal.SIGTERM)
        self.desk.wait(STOP_SECONDS)
        for other in self.others:
            other.signal(signal.SIGTERM)
            other.wait(STOP_SECONDS)
        log.info("supervisor.stopped")


def serve_layout(settings: Settings) -> None:
    """Run the desk process, the gateway workers and, if asked for, the watch process.

    ``worker_count`` workers share the HTTPS port.
    """
    listener = listening_socket(settings)
    command = [sys.executable, "-m", "tradeguard"]
    apart = settings.watch_embedded and settings.watch_process
    desk = Child("desk", [*command, "desk-process", *(["--watchers-apart"] if apart else [])])
    watch = Child("watch", [*command, "watch-process"]) if apart else None
    fd = listener.fileno()
    workers = [
        Child(f"worker-{number}", [*command, "gateway-worker", "--listen-fd", str(fd)], (fd,))
        for number in range(1, worker_count(settings) + 1)
    ]
    vault = (
        (Child("vault", [*command, "payments", "serve"], env=vault_process_environment(settings)),)
        if settings.vault_mode == VaultMode.SUPERVISED
        else ()
    )
    try:
        Supervisor(desk, workers, settings.effective_desk_socket, vault, watch).run()
    finally:
        listener.close()
