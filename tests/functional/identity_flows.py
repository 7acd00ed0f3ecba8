"""Sign-up and sign-in flows through the HTTP API, shared by identity tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from support import provision_keysets, registry_of
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender, Notifier
from unit.identity.webauthn_authenticator import SoftAuthenticator

STRONG_PASSWORD = "violet-Harbor-trumpet-47-quilt"
CONSENTS = ["terms_of_service", "privacy_notice"]
CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Person:
    username: str = "alice"
    email: str = "alice@example.com"
    password: str = STRONG_PASSWORD
    totp_secret: str | None = None
    tokens: dict[str, Any] = field(default_factory=dict)
    security_key: SoftAuthenticator | None = None

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(1)


def register(client: TestClient, person: Person) -> Any:
    return client.post(
        "/v1/auth/register",
        json={
            "username": person.username,
            "email": person.email,
            "password": person.password,
            "consents": CONSENTS,
        },
    )


def sign_up(client: TestClient, mailbox: MemorySender, person: Person) -> None:
    """Register and verify the email address."""
    assert register(client, person).status_code == 202
    code = code_in(mailbox.last_email(to=person.email, kind="email.verification").text)
    verified = client.post("/v1/auth/verify-email", json={"email": person.email, "code": code})
    assert verified.status_code == 200, verified.text


def login(client: TestClient, person: Person, **extra: Any) -> Any:
    return client.post(
        "/v1/auth/login", json={"login": person.username, "password": person.password, **extra}
    )


def totp_now(person: Person, clock: FixedClock) -> str:
    assert person.totp_secret
    return pyotp.TOTP(person.totp_secret).at(clock.now())


def enrol_totp(client: TestClient, person: Person, clock: FixedClock) -> dict[str, Any]:
    """Enrol an authenticator app with the current tokens; returns the confirmation body."""
    started = client.post("/v1/mfa/totp", headers=person.headers)
    assert started.status_code == 201, started.text
    person.totp_secret = started.json()["secret"]
    factor_id = started.json()["factor"]["id"]
    confirmed = client.post(
        f"/v1/mfa/factors/{factor_id}/confirm",
        json={"code": totp_now(person, clock)},
        headers=person.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    body: dict[str, Any] = confirmed.json()
    if body.get("tokens"):
        person.tokens = body["tokens"]
    return body


def signed_up_with_totp(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, person: Person
) -> Person:
    """A verified account with an authenticator app, signed in with a full session."""
    sign_up(client, mailbox, person)
    first = login(client, person)
    assert first.status_code == 200, first.text
    person.tokens = first.json()
    assert person.tokens["enrollment_only"] is True
    enrol_totp(client, person, clock)
    assert person.tokens["enrollment_only"] is False
    clock.advance(seconds=30)  # the next TOTP code belongs to a new time step
    return person


def sign_in_with_totp(
    client: TestClient, person: Person, clock: FixedClock, **extra: Any
) -> dict[str, Any]:
    challenge = login(client, person, **extra)
    assert challenge.status_code == 200, challenge.text
    assert challenge.json()["status"] == "mfa_required"
    answered = client.post(
        "/v1/auth/mfa/verify",
        json={
            "challenge_id": challenge.json()["challenge_id"],
            "method": "totp",
            "code": totp_now(person, clock),
        },
    )
    assert answered.status_code == 200, answered.text
    person.tokens = answered.json()
    clock.advance(seconds=30)
    return person.tokens


# Helpers of the account, device, throttle and enumeration tests.

DEVICE_LINK = re.compile(r"/devices/(approve|report)\?token=([A-Za-z0-9_-]+)")
PER_REQUEST_MEMBERS = frozenset({"request_id", "instance"})


def build_app(
    settings: Settings, engine: Engine, clock: FixedClock, mailbox: MemorySender
) -> FastAPI:
    """An app on ``settings`` and ``engine`` (keys provisioned), sending into ``mailbox``."""
    provision_keysets(settings, engine, clock)
    return create_app(settings, clock=clock, engine=engine, notifier=Notifier(mailbox, mailbox))


def client_at(app: FastAPI, ip: str = "testclient") -> TestClient:
    """A client of ``app`` whose requests come from ``ip`` (TestClient's own is not an IP)."""
    return TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, client=(ip, 50000)
    )


def problem_of(response: Any) -> dict[str, Any]:
    """A problem document without the members that differ on every request."""
    body: dict[str, Any] = response.json()
    return {key: value for key, value in body.items() if key not in PER_REQUEST_MEMBERS}


def reason_of(response: Any) -> tuple[int, str | None]:
    """The status and reason code of a response."""
    return response.status_code, response.json().get("reason_code")


def audit_event_types(engine: Engine) -> list[str]:
    """The type of every audit event recorded so far, oldest first."""
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT event_type FROM audit_events ORDER BY seq")))


def stored_password_hash(engine: Engine, username: str) -> str:
    """The password hash stored for ``username``."""
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT password_hash FROM users WHERE username = :name"), {"name": username}
        )
    assert isinstance(found, str), found
    return found


def step_up_with_totp(client: TestClient, person: Person, clock: FixedClock) -> None:
    """Verify the authenticator app again in the current session (opens sensitive routes)."""
    started = client.post("/v1/auth/step-up/start", json={"method": "totp"}, headers=person.headers)
    assert started.status_code == 200, started.text
    done = client.post(
        "/v1/auth/step-up",
        json={
            "challenge_id": started.json()["challenge_id"],
            "method": "totp",
            "code": totp_now(person, clock),
        },
        headers=person.headers,
    )
    assert done.status_code == 200, done.text
    clock.advance(seconds=30)  # the next TOTP code belongs to a new time step


def device_link_token(text_of_email: str, action: str) -> str:
    """The token of the approve or report link in a new-device email."""
    tokens = {found.group(1): found.group(2) for found in DEVICE_LINK.finditer(text_of_email)}
    assert action in tokens, text_of_email
    return tokens[action]


# Helpers of the factor, WebAuthn, session and MFA attack tests.

THROTTLE_DELAY_LIMIT_SECONDS = 60


def assert_refused(response: Any, status: int, reason_code: str) -> None:
    """Assert a problem+json refusal with this status and reason code."""
    assert reason_of(response) == (status, reason_code), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def enrolment_session(client: TestClient, mailbox: MemorySender, person: Person) -> Person:
    """A verified account without a second factor, signed in to an enrolment-only session."""
    sign_up(client, mailbox, person)
    first = login(client, person)
    assert first.status_code == 200, first.text
    person.tokens = first.json()
    assert person.tokens["enrollment_only"] is True
    return person


def start_login(client: TestClient, person: Person, **extra: Any) -> dict[str, Any]:
    """The second-factor challenge that a right password opens."""
    challenge = login(client, person, **extra)
    assert challenge.status_code == 200, challenge.text
    body: dict[str, Any] = challenge.json()
    assert body["status"] == "mfa_required", body
    return body


def answer_challenge(
    client: TestClient,
    challenge_id: str,
    method: str,
    *,
    code: str | None = None,
    credential: dict[str, Any] | None = None,
) -> Any:
    """Answer a login challenge with a code or a WebAuthn credential."""
    body: dict[str, Any] = {"challenge_id": challenge_id, "method": method}
    if code is not None:
        body["code"] = code
    if credential is not None:
        body["credential"] = credential
    return client.post("/v1/auth/mfa/verify", json=body)


def totp_at(person: Person, clock: FixedClock, steps: int) -> str:
    """The TOTP code ``steps`` time steps away from now (negative: in the past)."""
    assert person.totp_secret
    return pyotp.TOTP(person.totp_secret).at(clock.now(), counter_offset=steps)


def wrong_code(right: str) -> str:
    """A code of the same shape that is certainly not ``right``."""
    return "".join(str((int(digit) + 5) % 10) for digit in right)


def last_code(mailbox: MemorySender, person: Person, method: str, phone: str | None = None) -> str:
    """The newest one-time code sent to the person by SMS or email."""
    if method == "sms":
        return code_in(mailbox.last_sms(to=phone, kind="otp.sms").text)
    return code_in(mailbox.last_email(to=person.email, kind="otp.email").text)


def start_code_factor(
    client: TestClient, person: Person, method: str, phone: str | None = None
) -> str:
    """Start enrolling an SMS (with ``phone``) or email factor; the pending factor's id."""
    if method == "sms":
        started = client.post("/v1/mfa/sms", json={"phone": phone}, headers=person.headers)
    else:
        started = client.post("/v1/mfa/email", headers=person.headers)
    assert started.status_code == 201, started.text
    assert started.json()["confirmed"] is False
    return str(started.json()["id"])


def confirm_factor(client: TestClient, person: Person, factor_id: str, code: str) -> Any:
    """Confirm a pending factor with a code."""
    return client.post(
        f"/v1/mfa/factors/{factor_id}/confirm", json={"code": code}, headers=person.headers
    )


def enrol_code_factor(
    client: TestClient,
    mailbox: MemorySender,
    person: Person,
    method: str,
    phone: str | None = None,
) -> dict[str, Any]:
    """Enrol an SMS or email factor with the code it received; the confirmed factor."""
    factor_id = start_code_factor(client, person, method, phone)
    confirmed = confirm_factor(client, person, factor_id, last_code(mailbox, person, method, phone))
    assert confirmed.status_code == 200, confirmed.text
    body: dict[str, Any] = confirmed.json()
    if body.get("tokens"):
        person.tokens = body["tokens"]
    factor: dict[str, Any] = body["factor"]
    return factor


def send_login_code(client: TestClient, challenge_id: str, method: str) -> Any:
    """Ask for the SMS or email code of a login challenge."""
    return client.post("/v1/auth/mfa/send", json={"challenge_id": challenge_id, "method": method})


def sign_in_with_code(
    client: TestClient,
    mailbox: MemorySender,
    person: Person,
    method: str,
    phone: str | None = None,
) -> dict[str, Any]:
    """Sign in with the password and an SMS or email code; the new tokens."""
    challenge_id = start_login(client, person)["challenge_id"]
    sent = send_login_code(client, challenge_id, method)
    assert sent.status_code == 202, sent.text
    code = last_code(mailbox, person, method, phone)
    answered = answer_challenge(client, challenge_id, method, code=code)
    assert answered.status_code == 200, answered.text
    person.tokens = answered.json()
    return person.tokens


def new_backup_codes(client: TestClient, person: Person) -> list[str]:
    """Generate the account's backup codes (the old ones stop working)."""
    generated = client.post("/v1/mfa/backup-codes", headers=person.headers)
    assert generated.status_code == 200, generated.text
    codes: list[str] = generated.json()["codes"]
    return codes


def factors_of(client: TestClient, person: Person) -> list[dict[str, Any]]:
    """The person's confirmed factors as the API lists them."""
    listed = client.get("/v1/mfa/factors", headers=person.headers)
    assert listed.status_code == 200, listed.text
    factors: list[dict[str, Any]] = listed.json()
    return factors


def patiently(clock: FixedClock, send: Callable[[], Any]) -> Any:
    """Send, waiting out the throttle's short progressive delays (never a lock)."""
    response = send()
    while response.status_code == 429 and response.json()["reason_code"] == "AUTH_THROTTLED":
        wait = int(response.headers["Retry-After"])
        if wait > THROTTLE_DELAY_LIMIT_SECONDS:
            break
        clock.advance(seconds=wait)
        response = send()
    return response


def set_user_status(engine: Engine, username: str, status: str) -> None:
    """Change an account's status in the database directly (no admin API yet)."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET status = :status WHERE username = :name"),
            {"status": status, "name": username},
        )


def forget_session_states(app: FastAPI) -> None:
    """Drop the cached session states, as a second of real time would."""
    registry_of(app).identity.sessions.cache.clear()


def refresh(client: TestClient, refresh_token: str) -> Any:
    """Spend a refresh token."""
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def make_staff(engine: Engine, username: str, role: str, level: str | None) -> None:
    """Give an account a role and access level in the database (a reviewed admin change)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE users SET role = :role, access_level = :level,"
                " permission_version = permission_version + 1 WHERE username = :name"
            ),
            {"role": role, "level": level, "name": username},
        )


def staff_signed_in(  # noqa: PLR0913 - the app's pieces and who the staff member is
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    engine: Engine,
    *,
    role: str,
    level: str | None,
    username: str = "staff",
) -> Person:
    """A staff member (or a trader, with role TRADER) with a full, freshly signed-in session.

    The person has an authenticator app and a security key (``person.security_key``) and
    signed in with the password and the key, as staff must.
    """
    person = signed_up_with_totp(
        client, mailbox, clock, Person(username=username, email=f"{username}@example.com")
    )
    register_security_key(client, person)
    make_staff(engine, username, role, level)
    sign_in_with_security_key(client, person)
    return person


WEBAUTHN_RP_ID = "localhost"
WEBAUTHN_ORIGIN = "https://localhost:8443"


def register_security_key(client: TestClient, person: Person) -> dict[str, Any]:
    """Register a new software security key (kept as ``person.security_key``); the factor."""
    key = SoftAuthenticator(
        rp_id=WEBAUTHN_RP_ID, origin=WEBAUTHN_ORIGIN, transport="usb", resident=False
    )
    options = client.post(
        "/v1/mfa/webauthn/options", json={"authenticator": "security-key"}, headers=person.headers
    )
    assert options.status_code == 200, options.text
    created = client.post(
        "/v1/mfa/webauthn",
        json={
            "challenge_id": options.json()["challenge_id"],
            "credential": key.create(options.json()["publicKey"]),
        },
        headers=person.headers,
    )
    assert created.status_code == 201, created.text
    if created.json().get("tokens"):
        person.tokens = created.json()["tokens"]
    person.security_key = key
    factor: dict[str, Any] = created.json()["factor"]
    return factor


def answer_with_security_key(client: TestClient, person: Person, challenge_id: str) -> Any:
    """Answer a login challenge with an assertion of ``person.security_key``."""
    assert person.security_key is not None
    options = client.post("/v1/auth/mfa/webauthn/options", json={"challenge_id": challenge_id})
    assert options.status_code == 200, options.text
    credential = person.security_key.get(options.json()["publicKey"])
    return answer_challenge(client, challenge_id, "webauthn", credential=credential)


def sign_in_with_security_key(client: TestClient, person: Person) -> dict[str, Any]:
    """Sign in with the password and ``person.security_key``; the new tokens."""
    challenge_id = start_login(client, person)["challenge_id"]
    answered = answer_with_security_key(client, person, challenge_id)
    assert answered.status_code == 200, answered.text
    person.tokens = answered.json()
    assert person.tokens["enrollment_only"] is False
    return person.tokens
