"""Helpers of the browser tests: Chromium with a trusted dev certificate, virtual
authenticators, the development outbox, and the JSON API for arranging accounts."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Page,
    expect,
    sync_playwright,
)

from support import LiveServer, require_service
from tradeguard.notify.outbox import read_outbox
from tradeguard.tls import DevCertificatePaths

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
STRONG_PASSWORD = "violet-Harbor-trumpet-47-quilt"
CONSENTS = ["terms_of_service", "privacy_notice"]
MESSAGE_WAIT_SECONDS = 10.0
SIX_DIGITS = re.compile(r"\b(\d{6})\b")
UI_TIMEOUT_MS = 15_000
ATTACKER_IP = "127.0.0.2"
"""Another loopback address: failures sent from it do not throttle the browser's address."""


# ---------------------------------------------------------------- Chromium


def certificate_spki_hash(certificate_file: Path) -> str:
    """Base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as Chromium's SPKI list wants."""
    certificate = x509.load_pem_x509_certificate(certificate_file.read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def chromium_args(server: LiveServer) -> list[str]:
    """Flags that make Chromium accept the server's dev certificate as valid.

    Plain "ignore certificate errors" is not enough: Chromium refuses WebAuthn on a page
    with a certificate error, but a certificate on the SPKI list has no error at all.
    """
    server_certificate = DevCertificatePaths.under(server.ca_file.parent).cert
    spki = certificate_spki_hash(server_certificate)
    return [*CHROMIUM_FLAGS, f"--ignore-certificate-errors-spki-list={spki}"]


@contextmanager
def chromium(server: LiveServer) -> Iterator[Browser]:
    """Debian's headless Chromium, trusting the live server's certificate."""
    if shutil.which(CHROMIUM) is None:
        require_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    expect.set_options(timeout=UI_TIMEOUT_MS)  # a loaded two-core machine can be slow
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args(server))
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """One browser context and its page, on the live server."""

    context: BrowserContext
    page: Page
    server: LiveServer

    def open(self, path: str) -> Page:
        """Load ``path`` of the live server (its script may still be starting)."""
        self.page.goto(self.url(path))
        return self.page

    def url(self, path: str) -> str:
        """The absolute address of ``path`` (localhost: the WebAuthn RP ID)."""
        return f"https://localhost:{self.server.port}{path}"

    def wait_for_path(self, path: str) -> None:
        """Wait until the page shows ``path`` and its script has finished loading it."""
        self.page.wait_for_url(self.url(path))
        self.page.locator("body[data-ready=true]").wait_for()


@contextmanager
def new_tab(browser: Browser, server: LiveServer) -> Iterator[Tab]:
    """A fresh context (own storage) with one page."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield Tab(context, context.new_page(), server)
    finally:
        context.close()


# ---------------------------------------------------------------- virtual authenticators


@dataclass
class VirtualAuthenticator:
    """A Chromium virtual WebAuthn authenticator attached to one page."""

    cdp: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """The credentials the authenticator holds."""
        answer = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        return list(answer["credentials"])


def add_authenticator(tab: Tab, transport: str) -> VirtualAuthenticator:
    """Plug a CTAP2 authenticator with user verification: ``internal`` (platform) or ``usb``."""
    cdp = tab.context.new_cdp_session(tab.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": transport,
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    answer = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return VirtualAuthenticator(cdp, str(answer["authenticatorId"]))


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
    """Wait until ``check`` holds (a revocation reaches every node's cache within a second)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.1)


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


# ---------------------------------------------------------------- flows in the browser


def sign_in_with_password(tab: Tab, person: Person) -> Page:
    """Open /signin and pass the password step."""
    page = tab.open("/signin")
    page.get_by_label("Username or email address").fill(person.username)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    return page


def sign_in_with_totp(tab: Tab, person: Person) -> None:
    """Password, then the authenticator-app code; lands on /account."""
    page = sign_in_with_password(tab, person)
    page.get_by_label("Code from your authenticator app").fill(person.totp_code())
    page.get_by_role("button", name="Verify code").click()
    tab.wait_for_path("/account")


def sign_out(tab: Tab) -> None:
    """Sign out from a signed-in page; lands on /signin."""
    tab.page.get_by_role("button", name="Sign out", exact=True).click()
    tab.page.wait_for_url(tab.url("/signin"))
    tab.page.get_by_role("status").filter(has_text="You are signed out").wait_for()


def answer_once_as_expired(page: Page, path: str) -> None:
    """Make the next call to API ``path`` fail as if the access token had just expired."""
    problem = {
        "type": "urn:tradeguard:problem:authentication-failed",
        "title": "Authentication failed",
        "status": 401,
        "detail": "the token has expired",
        "reason_code": "AUTH_TOKEN_EXPIRED",
    }
    page.route(
        f"**{path}",
        lambda route: route.fulfill(
            status=401, content_type="application/problem+json", body=json.dumps(problem)
        ),
        times=1,
    )


def stored_tokens(page: Page) -> dict[str, Any] | None:
    """The tokens the page keeps in its session storage."""
    raw = page.evaluate("() => sessionStorage.getItem('tradeguard.tokens')")
    return json.loads(raw) if raw else None
