"""Helpers of the browser tests: Chromium with a trusted dev certificate, virtual
authenticators, and flows in the browser (the live server's JSON API and outbox are in
``live_api``)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

from live_api import Person
from support import LiveServer, require_service, running_server
from tradeguard.gateway.tls import DevCertificatePaths

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


@contextmanager
def running_with_simulated_venues(workdir: Path) -> Iterator[LiveServer]:
    """The real server as ``make run`` starts it: the simulator and the simulated venues."""
    (workdir / ".env").write_text("TRADEGUARD_ROUTING_SIMULATED_VENUES=true\n")
    with running_server(workdir) as server:
        yield server


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
