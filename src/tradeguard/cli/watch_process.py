"""The watch process of ``tradeguard serve``: the embedded watchers, apart from the desk.

The surveillance, AML and fraud watchers read the audit trail after each commit, decode
its events and write their alerts: work that, in the desk process, took the interpreter
lock from the desk's sequencer while orders waited. Here they run in a process of their
own over the same database, built as a gateway worker is (the desk reached over its
channel: a watcher that halts an account or freezes trading asks the desk), serving no
HTTP. The desk process nudges them after each commit that wrote audit events
(``watch.nudges``); ``watch_poll_ms`` still finds the events of other processes. SIGTERM
lets the batch in progress finish and stops.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from tradeguard.app import DeskMode, create_app
from tradeguard.cli.stop_signal import stop_on_signals
from tradeguard.config import Settings
from tradeguard.core.collector import freeze_startup_heap
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.client import DeskChannel
from tradeguard.watch.nudges import nudge_socket
from tradeguard.watch.service import WatchService
from tradeguard.watch.wiring import watch_periodically
from tradeguard.web.provide import registry_of_app


def run_watch_process(settings: Settings) -> None:
    """Run the embedded watchers until SIGTERM or SIGINT; exit if their loop ends on its own."""
    channel = DeskChannel(
        settings.effective_desk_socket, desk_codec(), settings.desk_call_timeout_seconds
    )
    app = create_app(settings, desk=DeskMode(channel=channel))
    freeze_startup_heap()
    asyncio.run(watch_until_stopped(app, registry_of_app(app).find(WatchService), settings))


async def watch_until_stopped(app: FastAPI, watchers: WatchService, settings: Settings) -> None:
    """Run ``app``'s lifespan and the watchers' loop until a stop signal.

    A loop that ends by itself (it cannot listen for nudges, say) raises here, so the
    process exits and the supervisor starts it again, its failure in the log: the
    watchers never stop in silence while the process looks alive.
    """
    stop = stop_on_signals()
    async with app.router.lifespan_context(app):
        rounds = asyncio.create_task(watch_periodically(watchers, settings, nudge_socket(settings)))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({rounds, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if rounds.done():
                rounds.result()  # its error, raised
                raise RuntimeError("the watchers' loop ended")
        finally:
            stopped.cancel()
            rounds.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rounds
