"""The cycle collector: held during replays, kept off a server's start-up heap."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from tradeguard.config import Settings
from tradeguard.core.collector import collector_paused, freeze_startup_heap
from tradeguard.gateway import server


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Give the test process's heap back to the collector afterwards."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_freeze_when_called_then_live_objects_leave_the_collected_generations() -> None:
    survivor = _Cycle()
    freeze_startup_heap()
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for obj in gc.get_objects())  # walked by no collection


def test_freeze_when_called_then_startup_garbage_is_collected_first() -> None:
    collected: list[int] = []
    gc.callbacks.append(lambda _phase, info: collected.append(info["collected"]))
    try:
        _Cycle()  # garbage only the collector can free
        freeze_startup_heap()
    finally:
        gc.callbacks.pop()
    assert sum(collected) >= 1


def test_paused_when_inside_then_collector_off_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_serve_when_started_then_heap_frozen_before_the_first_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_at_run: list[int] = []

    def run(_server: uvicorn.Server, *_args: Any, **_kwargs: Any) -> None:
        frozen_at_run.append(gc.get_freeze_count())

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(server, "server_config", lambda _app, _settings: None)
    server.serve(object(), Settings(_env_file=None))  # type: ignore[arg-type]
    assert frozen_at_run
    assert frozen_at_run[0] > 0
