"""Nudges across processes: the desk's commits wake the watch process's loop at once."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
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
        listener = NudgeListener(path, lambda: woken.append(1))
        listener.start(asyncio.get_running_loop())
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
    listener = NudgeListener(path, lambda: None)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_ISSOCK(path.stat().st_mode)
    finally:
        listener.close()
    assert not path.exists()


def test_nudge_socket_when_desk_socket_configured_then_beside_it(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, desk_socket=tmp_path / "run" / "desk.sock")  # type: ignore[call-arg]
    assert nudge_socket(settings) == tmp_path / "run" / "watch-nudges.sock"
