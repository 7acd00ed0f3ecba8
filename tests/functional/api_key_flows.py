"""Helpers of the API key tests: probe routes under each permission, keys, signed calls."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from functional.identity_flows import Person, signed_up_with_totp, step_up_with_totp
from tradeguard.apikeys.signing import signed_headers
from tradeguard.core.clock import FixedClock
from tradeguard.core.permissions import Permission
from tradeguard.notify.notifier import MemorySender
from tradeguard.web.routing import require

NS_PER_MS = 1_000_000
probe_router = APIRouter()
"""Routes that stand for order entry and account reads, echoing what arrived."""


@probe_router.post("/v1/probe/orders", dependencies=[require(Permission.ORDER_PLACE)])
async def probe_place(request: Request) -> dict[str, Any]:
    """Echo what arrived: the body and the query."""
    return {"body": json.loads(await request.body() or b"null"), "query": str(request.url.query)}


@probe_router.delete("/v1/probe/orders/{order_id}", dependencies=[require(Permission.ORDER_CANCEL)])
def probe_cancel(order_id: str) -> dict[str, str]:
    """Echo the order id."""
    return {"cancelled": order_id}


@probe_router.get("/v1/probe/account", dependencies=[require(Permission.ACCOUNT_VIEW)])
def probe_account(request: Request) -> dict[str, str]:
    """Echo the query."""
    return {"query": str(request.url.query)}


@probe_router.post("/v1/probe/withdrawals", dependencies=[require(Permission.ACCOUNT_WITHDRAW)])
def probe_withdraw() -> dict[str, str]:
    """Stands for a withdrawal."""
    return {"withdrawn": "yes"}


def with_probes(app: FastAPI) -> FastAPI:
    """``app`` with the probe routes added."""
    app.include_router(probe_router)
    return app


def create_key(client: TestClient, person: Person, clock: FixedClock, **ask: Any) -> dict[str, Any]:
    """A new key of ``person``'s (stepping up first); the response with its secret."""
    step_up_with_totp(client, person, clock)
    body = {"scope": "trading", "label": "bot"} | ask
    created = client.post("/v1/api-keys", json=body, headers=person.headers)
    assert created.status_code == 201, created.text
    key: dict[str, Any] = created.json()
    return key


def keyed_trader(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    person: Person | None = None,
    **ask: Any,
) -> tuple[Person, dict[str, Any]]:
    """A signed-up trader and a new API key of theirs."""
    trader = signed_up_with_totp(client, mailbox, clock, person or Person())
    return trader, create_key(client, trader, clock, **ask)


def signature_headers(  # noqa: PLR0913 - what a signature covers, named
    key: dict[str, Any],
    clock: FixedClock,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    nonce: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """The TG-* headers for a request signed now (by the test clock)."""
    return signed_headers(
        key["key_id"],
        secret or key["secret"],
        method=method,
        path=path,
        query=query,
        body=body,
        timestamp_ms=clock.now_ns() // NS_PER_MS,
        nonce=nonce,
    )


def signed_call(  # noqa: PLR0913 - a request and how it is signed
    client: TestClient,
    key: dict[str, Any],
    clock: FixedClock,
    method: str,
    path: str,
    *,
    query: str = "",
    payload: Any = None,
) -> Any:
    """Send a request signed with ``key``."""
    body = b"" if payload is None else json.dumps(payload).encode()
    headers = signature_headers(key, clock, method, path, query=query, body=body)
    if body:
        headers["content-type"] = "application/json"
    url = f"{path}?{query}" if query else path
    return client.request(method, url, content=body, headers=headers)
