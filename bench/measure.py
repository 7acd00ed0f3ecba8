"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    unit: str
    target: float | None = None
    lower_is_better: bool = True

    @property
    def missed_target(self) -> bool:
        if self.target is None:
            return False
        return self.value > self.target if self.lower_is_better else self.value < self.target

    def line(self, width: int) -> str:
        bound = "≤" if self.lower_is_better else "≥"
        target = "" if self.target is None else f"  target {bound} {self.target:g}"
        verdict = "" if self.target is None else ("  MISSED" if self.missed_target else "  ok")
        return f"{self.name.ljust(width)}  {self.value:12.2f} {self.unit}{target}{verdict}"


def microseconds_per_call(action: Callable[[], object], *, calls: int, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time of one call, in microseconds."""
    action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for _ in range(calls):
            action()
        samples.append((time.perf_counter_ns() - started) / calls / 1000)
    return statistics.median(samples)


async def _asgi_get(app: ASGIApp, path: str) -> int:
    """Drive one GET through an ASGI app in process, as a server would; returns the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def asgi_microseconds_per_request(
    app: ASGIApp, path: str, *, requests: int, rounds: int = 5
) -> float:
    """Median over ``rounds`` of the mean in-process time of one GET, in microseconds."""

    async def measure() -> float:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter_ns()
            for _ in range(requests):
                await _asgi_get(app, path)
            samples.append((time.perf_counter_ns() - started) / requests / 1000)
        return statistics.median(samples)

    return asyncio.run(measure())


@contextmanager
def scratch_postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL database URL (dropped afterwards), or None if no server answers."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    name = f"tradeguard_bench_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(POSTGRES_ADMIN).set(drivername="postgresql+psycopg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
