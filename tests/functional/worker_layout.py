"""Helpers of the gateway-worker tests: a desk process and workers, each on its own port.

``tradeguard serve`` hands one listening socket to every worker, so the kernel picks the
worker of each connection. These tests start the same processes themselves with one
socket per worker, so that a test can say "through worker A, then through worker B".
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from live_api import Api
from support import RELAXED_RATE_LIMITS, TRADEGUARD, LiveServer
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.trading.channel.server import socket_answers

START_SECONDS = 60.0


@dataclass
class Layout:
    """A desk process and named gateway workers over one installation."""

    workdir: Path
    env: dict[str, str]
    database_url: str
    desk: subprocess.Popen[bytes] | None = None
    workers: dict[str, tuple[subprocess.Popen[bytes], LiveServer]] = field(default_factory=dict)
    listeners: list[socket.socket] = field(default_factory=list)

    @property
    def var(self) -> Path:
        """The installation's var directory."""
        return self.workdir / "var"

    def api(self, worker: str) -> Api:
        """The JSON API through one worker."""
        return Api(self.workers[worker][1])

    def server(self, worker: str) -> LiveServer:
        """One worker as a live server."""
        return self.workers[worker][1]

    def tradeguard(self, *args: str) -> str:
        """Run a ``tradeguard`` command on the installation; its standard output."""
        done = subprocess.run(
            [TRADEGUARD, *args], cwd=self.workdir, env=self.env, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        return done.stdout.decode()

    def start_desk(self) -> None:
        """Start the desk process and wait until its socket accepts."""
        with (self.workdir / "desk.log").open("ab") as log:
            self.desk = subprocess.Popen(
                [TRADEGUARD, "desk-process"], cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_SECONDS
        while not socket_answers(self.var / "desk.sock"):
            assert self.desk.poll() is None, (self.workdir / "desk.log").read_text()
            assert time.monotonic() < deadline, "the desk process did not open its socket"
            time.sleep(0.1)

    def kill_desk(self) -> None:
        """``kill -9`` the desk process."""
        assert self.desk is not None
        self.desk.send_signal(signal.SIGKILL)
        self.desk.wait()

    def start_worker(self, name: str) -> None:
        """Start one gateway worker on a port of its own and wait until it answers."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.set_inheritable(True)
        self.listeners.append(listener)
        log_file = self.workdir / f"{name}.log"
        fd = listener.fileno()
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [TRADEGUARD, "gateway-worker", "--listen-fd", str(fd)],
                cwd=self.workdir,
                env=self.env,
                pass_fds=(fd,),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        ca = DevCertificatePaths.under(self.var / "tls").ca_cert
        server = LiveServer("127.0.0.1", listener.getsockname()[1], ca, log_file)
        self.workers[name] = (process, server)
        _wait_until_ready(server, process)

    def stop(self) -> None:
        """Stop every process (workers first), then close the sockets."""
        for process, _ in self.workers.values():
            process.terminate()
        for process, _ in self.workers.values():
            process.wait(timeout=20)
        if self.desk is not None and self.desk.poll() is None:
            self.desk.terminate()
            self.desk.wait(timeout=20)
        for listener in self.listeners:
            listener.close()

    def rows(self, query: str, **params: Any) -> list[Any]:
        """Rows of one query on the installation's database."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(query), params))
        finally:
            engine.dispose()


def _wait_until_ready(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, server.log_file.read_text()
        try:
            response, _ = server.get("/readyz")
        except OSError:
            time.sleep(0.2)
            continue
        if response.status == 200:
            return
        time.sleep(0.2)
    pytest.fail("the worker did not become ready in time")


@contextmanager
def worker_layout(
    workdir: Path, settings: dict[str, str], workers: tuple[str, ...] = ("A", "B")
) -> Iterator[Layout]:
    """``tradeguard init``, a desk process and the named workers; all stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env["TRADEGUARD_VAR_DIR"] = str(workdir / "var")
    env.update({f"TRADEGUARD_{k.upper()}": str(v) for k, v in RELAXED_RATE_LIMITS.items()})
    env.update({f"TRADEGUARD_{k}": v for k, v in settings.items()})
    url = settings.get("DATABASE_URL") or f"sqlite:///{workdir / 'var' / 'tradeguard.db'}"
    layout = Layout(workdir, env, url)
    layout.tradeguard("init")
    with ExitStack() as stack:
        stack.callback(layout.stop)
        layout.start_desk()
        for name in workers:
            layout.start_worker(name)
        yield layout
