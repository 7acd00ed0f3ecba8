"""Request and response bodies of the identity API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tradeguard.core.labels import MAX_LABEL, Label, Printable
from tradeguard.identity.factors import Method
from tradeguard.identity.mfa.webauthn import AuthenticatorKind
from tradeguard.identity.sessions import IssuedTokens
from tradeguard.web.bodies import Body

Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EmailText = Annotated[str, StringConstraints(min_length=1, max_length=256), Printable]
Hints = Annotated[
    dict[
        Annotated[str, StringConstraints(max_length=64), Printable],
        Annotated[str, StringConstraints(max_length=256), Printable],
    ],
    Field(max_length=16),
]
Credential = Annotated[dict[str, Any], Field(description="PublicKeyCredential as JSON")]


class RegisterRequest(Body):
    """Sign up."""

    username: Text
    email: EmailText
    password: Secret
    consents: list[Identifier] = Field(
        description="Purposes agreed to; terms_of_service and privacy_notice are required",
        max_length=16,
    )


class Accepted(BaseModel):
    """The request was taken; what happens next is said by email."""

    status: Literal["accepted"] = "accepted"
    detail: str


class VerifyEmailRequest(Body):
    """Verify an address with the emailed code."""

    email: EmailText
    code: Code


class EmailRequest(Body):
    """An email address (verification resend, password reset)."""

    email: EmailText


class ResetPasswordRequest(Body):
    """Choose a new password with the emailed code."""

    email: EmailText
    code: Code
    new_password: Secret


class LoginRequest(Body):
    """First sign-in step: name (or email address) and password."""

    login: Text
    password: Secret
    device: Hints = Field(default_factory=dict, description="Client device attributes")


class TokenResponse(BaseModel):
    """An access token (JWT) and the refresh token of the session."""

    status: Literal["signed_in"] = "signed_in"
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the RFC 6750 token type
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    enrollment_only: bool = Field(
        description="True: the account has no second factor and may only enrol one"
    )


class ChallengeResponse(BaseModel):
    """The password was right; answer the challenge with one of ``methods``."""

    status: Literal["mfa_required"] = "mfa_required"
    challenge_id: str
    methods: list[Method]
    expires_in: int


class SendCodeRequest(Body):
    """Send the SMS or email code of a login challenge."""

    challenge_id: Identifier
    method: Literal[Method.SMS, Method.EMAIL]


class ChallengeRef(Body):
    """A login challenge."""

    challenge_id: Identifier


class MfaVerifyRequest(Body):
    """Answer a challenge: ``code`` for totp/sms/email/backup_code, ``credential`` for WebAuthn."""

    challenge_id: Identifier
    method: Method
    code: Code | None = None
    credential: Credential | None = None
    device: Hints = Field(default_factory=dict)


class WebAuthnOptions(BaseModel):
    """Options for navigator.credentials.create()/get(), and the ceremony they belong to."""

    challenge_id: str
    public_key: dict[str, Any] = Field(alias="publicKey")

    model_config = ConfigDict(populate_by_name=True)


class PasskeyLoginRequest(Body):
    """Passwordless sign-in with a passkey."""

    challenge_id: Identifier
    credential: Credential
    device: Hints = Field(default_factory=dict)


class RefreshRequest(Body):
    """Spend a refresh token."""

    refresh_token: Secret


class StepUpStartRequest(Body):
    """Start a step-up with one method."""

    method: Method


class StepUpStarted(BaseModel):
    """A step-up ceremony; WebAuthn ones carry options for the browser."""

    challenge_id: str
    method: Method
    public_key: dict[str, Any] | None = Field(default=None, alias="publicKey")

    model_config = ConfigDict(populate_by_name=True)


class StepUpRequest(Body):
    """Answer a step-up ceremony."""

    challenge_id: Identifier
    method: Method
    code: Code | None = None
    credential: Credential | None = None


class StepUpDone(BaseModel):
    """Sensitive operations are open until ``valid_for`` seconds from now."""

    status: Literal["stepped_up"] = "stepped_up"
    valid_for: int


class ChangePasswordRequest(Body):
    """Change the password (after step-up); every session ends."""

    new_password: Secret


class FactorView(BaseModel):
    """A second factor as its owner sees it."""

    id: str
    kind: str
    name: str
    confirmed: bool
    created_at: str
    last_used_at: str | None
    authenticator: str | None = None
    backup_codes_left: int | None = None


class TotpEnrolled(BaseModel):
    """A pending authenticator-app factor: add it to the app, then confirm with a code."""

    factor: FactorView
    secret: str
    otpauth_uri: str
    qr_svg: str


class ConfirmFactorRequest(Body):
    """Confirm a pending factor with the code it shows or received."""

    code: Code


class EnrolSmsRequest(Body):
    """Enrol a phone for SMS codes (E.164)."""

    phone: Annotated[str, StringConstraints(min_length=8, max_length=16)]


class WebAuthnOptionsRequest(Body):
    """What kind of authenticator to register."""

    authenticator: AuthenticatorKind = AuthenticatorKind.ANY


class WebAuthnRegisterRequest(Body):
    """The credential the browser created."""

    challenge_id: Identifier
    credential: Credential
    name: Annotated[str, StringConstraints(max_length=MAX_LABEL), Printable] | None = None


class RenameFactorRequest(Body):
    """A new name for a factor."""

    name: Label


class BackupCodes(BaseModel):
    """Ten new backup codes: shown this once, each usable once."""

    codes: list[str]


class FactorConfirmed(BaseModel):
    """A confirmed factor; new tokens when it was the account's first."""

    factor: FactorView
    tokens: TokenResponse | None = None


class SessionView(BaseModel):
    """A signed-in session."""

    id: str
    current: bool
    device_id: str | None
    ip: str | None
    user_agent: str | None
    device_name: str = Field(description="Browser and system, e.g. 'Chrome 131 on macOS'")
    amr: list[str]
    created_at: str
    last_active_at: str


class DeviceView(BaseModel):
    """A known device."""

    id: str
    name: str = Field(description="Browser and system, e.g. 'Chrome 131 on macOS'")
    label: str = Field(description="The client's own name for it, or its user agent")
    first_seen_at: str
    last_seen_at: str
    approved: bool


class Revoked(BaseModel):
    """How many sessions ended."""

    revoked: int


class IpAllowlist(Body):
    """CIDR networks the account may be used from; empty allows any address."""

    networks: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=32)


class Profile(BaseModel):
    """The signed-in user."""

    id: str
    username: str
    email: str
    email_verified: bool
    role: str
    permissions: list[str]
    enrollment_only: bool
    mfa_methods: list[Method]
    ip_allowlist: list[str]


class DeviceLinkRequest(Body):
    """The token of an emailed device link."""

    token: Secret


def token_response(tokens: IssuedTokens) -> TokenResponse:
    """The response body of a sign-in or refresh."""
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
        session_id=tokens.session_id,
        enrollment_only=tokens.enrollment_only,
    )
