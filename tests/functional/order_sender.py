"""A client process that sends orders over HTTPS until the server goes away, journalling each.

``python order_sender.py PLAN JOURNAL``: PLAN is JSON (``port``, ``ca_file``, ``traders``:
access tokens, ``symbols``: symbol to reference price, ``threads``). Each thread sends
orders one at a time; before sending it writes ``sent CLIENT_ID`` and after the answer
``answer CLIENT_ID STATUS ORDER_ID_OR_REASON`` to JOURNAL, flushed at once. The crash
test reads the journal: an answered 2xx is an order acknowledged to a client.
"""

from __future__ import annotations

import http.client
import itertools
import json
import ssl
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

CONNECTION_ERRORS = (OSError, http.client.HTTPException, ssl.SSLError)


def order(thread: int, number: int, symbols: dict[str, str]) -> dict[str, Any]:
    """Resting buys and sells around the reference, every fifth crossing it (IOC)."""
    names = sorted(symbols)
    symbol = names[number % len(names)]
    reference = Decimal(symbols[symbol])
    buy = number % 2 == 0
    crossing = number % 5 == 4
    cents = Decimal(-20 if crossing else 1 + number % 30) / 100
    price = reference - cents if buy else reference + cents
    return {
        "client_order_id": f"crash-{thread}-{number}",
        "symbol": symbol,
        "side": "buy" if buy else "sell_short",
        "type": "limit",
        "time_in_force": "ioc" if crossing else "day",
        "quantity": 1 + number % 7,
        "limit_price": f"{price:.2f}",
    }


def send_until_gone(
    plan: dict[str, Any], thread: int, journal: TextIO, lock: threading.Lock
) -> None:
    """One connection's orders, until the server stops answering."""
    context = ssl.create_default_context(cafile=plan["ca_file"])
    tokens = plan["traders"]
    for number in itertools.count():
        token = tokens[(thread + number) % len(tokens)]
        body = order(thread, number, plan["symbols"])
        note(journal, lock, f"sent {body['client_order_id']}")
        try:
            status, answer = post(plan["port"], context, token, body)
        except CONNECTION_ERRORS:
            return
        outcome = answer.get("id") if status < 300 else answer.get("reason_code")
        note(journal, lock, f"answer {body['client_order_id']} {status} {outcome}")


def post(port: int, context: ssl.SSLContext, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        connection.request("POST", "/v1/orders", body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def note(journal: TextIO, lock: threading.Lock, line: str) -> None:
    with lock:
        journal.write(line + "\n")
        journal.flush()


def main(plan_file: str, journal_file: str) -> None:
    plan = json.loads(Path(plan_file).read_text())
    lock = threading.Lock()
    with Path(journal_file).open("a") as journal:
        threads = [
            threading.Thread(target=send_until_gone, args=(plan, index, journal, lock))
            for index in range(plan["threads"])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
