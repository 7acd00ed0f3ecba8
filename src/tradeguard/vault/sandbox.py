"""The local sandbox card processor for development and tests, bound to loopback only.

It serves the Stripe-compatible ``localstripe`` application (a development dependency,
also installed by ``make run``) on 127.0.0.1, with its state in memory only: its own
habit of pickling every object, card numbers included, to a file is switched off.
"""

from __future__ import annotations

import argparse
import logging

LOOPBACK = "127.0.0.1"


def run(port: int) -> None:
    """Serve the sandbox processor on ``127.0.0.1:port`` until stopped."""
    from aiohttp import web  # noqa: PLC0415 - development dependencies, loaded only here
    from localstripe import resources, server  # noqa: PLC0415

    resources.Store.dump_to_disk = lambda _self: None
    resources.Store.try_load_from_disk = lambda _self: None
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(server.app, host=LOOPBACK, port=port, access_log=None, print=None)


def main() -> None:
    """``python -m tradeguard.vault.sandbox --port N``."""
    parser = argparse.ArgumentParser(description="Local sandbox card processor (loopback)")
    parser.add_argument("--port", type=int, default=8420)
    run(parser.parse_args().port)


if __name__ == "__main__":
    main()
