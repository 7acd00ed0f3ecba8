"""Nudges across processes: the desk's commits wake the watch process's loop at once."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI

from tradeguard.cases.store import AlertStore
from tradeguard.cli.watch_process import watch_until_stopped
from tradeguard.config import Settings
from tradeguard.core.errors import ConfigurationError
from tradeguard.core.secure_files import MAX_SOCKET_PATH
from tradeguard.watch.nudges import NudgeListener, NudgeSender, nudge_socket
from tradeguard.watch.service import WatchService
from tradeguard.watch.wiring import wake_on_commit
from unit.audit.audit_kit import AuditKit
from unit.watch.test_cursor_runner import BurstWatcher
from unit.watch.test_wake_on_commit import alerts_after_commits

MINUTE_MS = 60_000


def test_watch_loop_when_the_desk_side_commits_then_its_nudge_runs_a_round_before_the_poll(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    path = tmp_path / "watch-nudges.sock"
    desk_side = WatchService(kit.sessions, store, kit.clock)  # runs nothing: it only nudges
    sender = desk_side.waker = NudgeSender(path)
    wake_on_commit(kit.sessions, desk_side)
    watch_side = WatchService(kit.sessions, store, kit.clock)
    watch_side.register(BurstWatcher)
    settings = Settings(_env_file=None, watch_poll_ms=MINUTE_MS)  # type: ignore[call-arg]
    try:
        found = asyncio.run(alerts_after_commits(kit, watch_side, settings, path))
        assert list(found) == ['["acct-1"]']
    finally:
        sender.close()
    assert not path.exists()  # the listener removed its socket when the loop ended


def test_nudge_when_no_watch_process_listens_then_dropped_without_error(tmp_path: Path) -> None:
    sender = NudgeSender(tmp_path / "nobody.sock")
    try:
        for _ in range(3):
            sender()
    finally:
        sender.close()


def test_listener_when_nudged_many_times_over_a_stale_socket_file_then_woken_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch-nudges.sock"
    path.write_text("left by a process that was killed")
    woken: list[int] = []

    async def scenario() -> None:
        listener = NudgeListener(path, lambda: woken.append(1), asyncio.get_running_loop())
        sender = NudgeSender(path)
        try:
            for _ in range(5):
                sender()
            await asyncio.sleep(0.1)
        finally:
            sender.close()
            listener.close()

    asyncio.run(scenario())
    assert woken == [1]


def test_listener_socket_when_bound_then_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "watch-nudges.sock"

    async def scenario() -> None:
        listener = NudgeListener(path, lambda: None, asyncio.get_running_loop())
        try:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_ISSOCK(path.stat().st_mode)
        finally:
            listener.close()

    asyncio.run(scenario())
    assert not path.exists()


def test_listener_when_its_path_is_too_long_for_a_socket_then_refused(tmp_path: Path) -> None:
    path = tmp_path / ("d" * MAX_SOCKET_PATH) / "watch-nudges.sock"
    path.parent.mkdir()

    async def scenario() -> None:
        NudgeListener(path, lambda: None, asyncio.get_running_loop())

    with pytest.raises(ConfigurationError, match="too long"):
        asyncio.run(scenario())
    assert not path.exists()


def test_watch_process_when_its_loop_cannot_start_then_it_exits_with_the_error(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    """A watch process whose loop ended must not live on looking healthy: it raises, so the
    process exits and the supervisor starts it again."""
    long_dir = tmp_path / ("d" * MAX_SOCKET_PATH)
    long_dir.mkdir()
    settings = Settings(_env_file=None, desk_socket=long_dir / "desk.sock")  # type: ignore[call-arg]
    watchers = WatchService(kit.sessions, store, kit.clock)

    async def scenario() -> None:
        await asyncio.wait_for(watch_until_stopped(FastAPI(), watchers, settings), 10)

    with pytest.raises(ConfigurationError, match="too long"):
        asyncio.run(scenario())


def test_nudge_socket_when_desk_socket_configured_then_beside_it(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, desk_socket=tmp_path / "run" / "desk.sock")  # type: ignore[call-arg]
    assert nudge_socket(settings) == tmp_path / "run" / "watch-nudges.sock"
