"""Server-rendered pages of identity: sign up, sign in, security settings.

The pages are static HTML from Jinja2 templates (autoescaped); all behaviour lives in
``/static/web/auth.js``, which talks to the JSON API. No page carries inline script or
style, so the strict page Content-Security-Policy holds. Values taken from emailed links
(address, code, device token) are only echoed into form fields, escaped and bounded.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

MAX_LINK_VALUE = 256
"""Longer values from a link are cut: no address, code or token of ours is that long."""

_templates = page_templates("tradeguard.identity")


def render_page(template: str, **context: Any) -> HTMLResponse:  # noqa: ANN401 - template values of any type
    """One page from ``template`` with ``context``, as an HTML response."""
    return HTMLResponse(_templates.get_template(template).render(**context))


def link_value(value: str) -> str:
    """A value from an emailed link, trimmed and bounded before it is shown in a form."""
    return value.strip()[:MAX_LINK_VALUE]


@router.get("/")
def landing_page() -> HTMLResponse:
    """The front page: what TradeGuard is, and the ways in (sign up, sign in, API docs)."""
    return render_page("home.html", page="home", title="Welcome to TradeGuard")


@router.get("/signup")
def signup_page() -> HTMLResponse:
    """Create an account: name, address, password and consents."""
    return render_page("signup.html", page="signup", title="Create your account")


@router.get("/verify-email")
def verify_email_page(email: str = "", code: str = "") -> HTMLResponse:
    """Verify an address; the emailed link fills in the address and the code."""
    return render_page(
        "verify_email.html",
        page="verify-email",
        title="Verify your email address",
        email=link_value(email),
        code=link_value(code),
    )


@router.get("/signin")
def signin_page() -> HTMLResponse:
    """Sign in with a password and a second factor, or with a passkey alone."""
    return render_page("signin.html", page="signin", title="Sign in")


@router.get("/account")
def account_page() -> HTMLResponse:
    """Security settings: second factors, passkeys, security keys and backup codes."""
    return render_page("account.html", page="account", title="Security settings")


@router.get("/account/sessions")
def sessions_page() -> HTMLResponse:
    """Signed-in sessions and known devices, each of which can be signed out."""
    return render_page("sessions.html", page="sessions", title="Sessions and devices")


@router.get("/devices/approve")
def approve_device_page(token: str = "") -> HTMLResponse:
    """Approve a new device from the emailed link (a click, so link scanners change nothing)."""
    return render_page(
        "device_link.html",
        page="device-link",
        title="Approve a new device",
        action="approve",
        token=link_value(token),
    )


@router.get("/devices/report")
def report_device_page(token: str = "") -> HTMLResponse:
    """Report a sign-in that was not the owner's: the device is signed out and forgotten."""
    return render_page(
        "device_link.html",
        page="device-link",
        title="Report a sign-in",
        action="report",
        token=link_value(token),
    )


@router.get("/reset-password")
def reset_password_page(email: str = "") -> HTMLResponse:
    """Ask for a reset code by email, then choose a new password with it."""
    return render_page(
        "reset_password.html",
        page="reset-password",
        title="Reset your password",
        email=link_value(email),
    )
