"""Helpers of tests against the live server: the development outbox, people with an
authenticator app, and the JSON API for arranging accounts."""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp

from support import LiveServer
from tradeguard.core.short_lived_cache import DEFAULT_TTL_SECONDS as SESSION_CACHE_SECONDS
from tradeguard.notify.outbox import read_outbox

STRONG_PASSWORD = "violet-Harbor-trumpet-47-quilt"
CONSENTS = ["terms_of_service", "privacy_notice"]
MESSAGE_WAIT_SECONDS = 10.0
SIX_DIGITS = re.compile(r"\b(\d{6})\b")


# ---------------------------------------------------------------- the development outbox


def var_dir_of(server: LiveServer) -> Path:
    """The server's var directory (its CA certificate lives in ``var/tls``)."""
    return server.ca_file.parents[1]


def wait_for_message(server: LiveServer, to: str, kind: str, *, after: int = 0) -> dict[str, Any]:
    """The newest message of ``kind`` to ``to``, once more than ``after`` such messages exist."""
    deadline = time.monotonic() + MESSAGE_WAIT_SECONDS
    while True:
        found = [
            message
            for message in read_outbox(var_dir_of(server) / "outbox")
            if message["to"] == to and message["kind"] == kind
        ]
        if len(found) > after:
            return found[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind} message to {to} in the outbox")
        time.sleep(0.1)


def count_messages(server: LiveServer, to: str, kind: str) -> int:
    """How many messages of ``kind`` went to ``to``."""
    outbox = read_outbox(var_dir_of(server) / "outbox")
    return sum(1 for message in outbox if message["to"] == to and message["kind"] == kind)


def code_in(text: str) -> str:
    """The six-digit code a message carries."""
    found = SIX_DIGITS.search(text)
    assert found, text
    return found.group(1)


def link_in(text: str, path: str) -> str:
    """The path and query of the link to ``path`` that a message carries."""
    found = re.search(rf"https://localhost:\d+({re.escape(path)}\S*)", text)
    assert found, text
    return found.group(1)


def eventually(check: Callable[[], bool], seconds: float = 3.0) -> None:
    """Wait until ``check`` holds."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.1)


def revoked_everywhere(api: Api, access_token: str) -> None:
    """Wait until ``access_token`` is refused, then for the documented bound of a revocation.

    Each serving process keeps a session's state for at most ``SESSION_CACHE_SECONDS``; the
    process that revoked it forgets it at once, the others once their entry is that old.
    """
    eventually(lambda: api.status_of(access_token) == 401)
    time.sleep(SESSION_CACHE_SECONDS)


# ---------------------------------------------------------------- people and TOTP


@dataclass
class Person:
    """A user of the tests, with a unique name and address per test."""

    username: str = field(default_factory=lambda: f"user{uuid.uuid4().hex[:10]}")
    password: str = STRONG_PASSWORD
    totp_secret: str | None = None
    last_totp_step: int = 0

    @property
    def email(self) -> str:
        """The person's address."""
        return f"{self.username}@example.com"

    def totp_code(self) -> str:
        """A code of the time step after the last one used (the server refuses replays)."""
        assert self.totp_secret is not None
        totp = pyotp.TOTP(self.totp_secret)
        step = max(self.last_totp_step + 1, totp.timecode(datetime.now(UTC)))
        # The server accepts one step either side of now: wait rather than send one further ahead.
        while step > totp.timecode(datetime.now(UTC)) + 1:
            time.sleep(0.5)
        self.last_totp_step = step
        return totp.generate_otp(step)


# ---------------------------------------------------------------- the JSON API


@dataclass
class Api:
    """The live server's JSON API over TLS, for arranging accounts and checking results."""

    server: LiveServer
    source_ip: str = "127.0.0.1"
    """Failed sign-ins are throttled per address: attacks come from one of their own."""

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        """Status and JSON body of one request."""
        connection = http.client.HTTPSConnection(
            "localhost",
            self.server.port,
            context=self.server.client_context(),
            timeout=15,
            source_address=(self.source_ip, 0),
        )
        headers = {"Content-Type": "application/json", "User-Agent": "tradeguard-tests"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None if body is None else json.dumps(body)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else None

    def expect(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """The JSON body of a request that must succeed."""
        status, answer = self.call(method, path, body, token)
        assert 200 <= status < 300, (status, answer)
        return answer

    def status_of(self, token: str) -> int:
        """The status ``GET /v1/me`` answers with this access token."""
        return self.call("GET", "/v1/me", token=token)[0]

    def sign_up(self, person: Person) -> None:
        """Register and verify the address with the emailed code."""
        body = {
            "username": person.username,
            "email": person.email,
            "password": person.password,
            "consents": CONSENTS,
        }
        self.expect("POST", "/v1/auth/register", body)
        message = wait_for_message(self.server, person.email, "email.verification")
        code = code_in(message["text"])
        self.expect("POST", "/v1/auth/verify-email", {"email": person.email, "code": code})

    def sign_up_with_totp(self, person: Person) -> dict[str, Any]:
        """A verified account with an authenticator app; the full session's tokens."""
        self.sign_up(person)
        login = {"login": person.username, "password": person.password}
        tokens = self.expect("POST", "/v1/auth/login", login)
        access = tokens["access_token"]
        enrolled = self.expect("POST", "/v1/mfa/totp", token=access)
        person.totp_secret = enrolled["secret"]
        path = f"/v1/mfa/factors/{enrolled['factor']['id']}/confirm"
        code = {"code": person.totp_code()}
        confirmed = self.expect("POST", path, code, token=access)
        full: dict[str, Any] = confirmed["tokens"]
        return full

    def step_up_with_totp(self, person: Person, access_token: str) -> None:
        """Verify the authenticator app again in the session (opens sensitive routes)."""
        started = self.expect("POST", "/v1/auth/step-up/start", {"method": "totp"}, access_token)
        answer = {
            "challenge_id": started["challenge_id"],
            "method": "totp",
            "code": person.totp_code(),
        }
        self.expect("POST", "/v1/auth/step-up", answer, access_token)

    def backup_code_status(self, person: Person, code: str) -> int:
        """The status of answering a password sign-in's challenge with a backup code."""
        login = {"login": person.username, "password": person.password}
        challenge = self.expect("POST", "/v1/auth/login", login)
        answer = {"challenge_id": challenge["challenge_id"], "method": "backup_code", "code": code}
        return self.call("POST", "/v1/auth/mfa/verify", answer)[0]

    def sign_in_with_backup_code(self, person: Person, code: str) -> dict[str, Any]:
        """A new session: the password, then one backup code."""
        login = {"login": person.username, "password": person.password}
        challenge = self.expect("POST", "/v1/auth/login", login)
        answer = {"challenge_id": challenge["challenge_id"], "method": "backup_code", "code": code}
        tokens: dict[str, Any] = self.expect("POST", "/v1/auth/mfa/verify", answer)
        return tokens
