"""Settings: one frozen object, read from ``TRADEGUARD_*`` variables and an optional ``.env``."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, StringConstraints, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from tradeguard.core.errors import ConfigurationError
from tradeguard.core.permissions import STAFF_ROLES
from tradeguard.core.rate_notation import RateLimitText

ENV_PREFIX = "TRADEGUARD_"
VAULT_ENV_PREFIX = "TRADEGUARD_PAYMENTS_"
"""The payment vault's own settings (``tradeguard.vault.settings``): not the main service's."""
MASK = "**********"
STAFF_IDLE_SECONDS = 900
"""The longest a staff session may stay idle, whatever is configured."""
OrderTypeTerms = dict[
    Annotated[
        str,
        StringConstraints(
            pattern=r"^[A-Z0-9]{1,16}:(market|marketable_limit|non_marketable_limit|other)$"
        ),
    ],
    dict[Literal["access_fee", "rebate", "pfof"], Annotated[int, Field(ge=0, le=10_000)]],
]
"""Per-share terms of a venue for one Rule 606 order type, keyed ``VENUE:type``."""


class Environment(StrEnum):
    """Where the service runs; production refuses development material."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class KekProvider(StrEnum):
    """Where the key-encryption key lives."""

    LOCAL = "local"
    VAULT = "vault"


class VaultMode(StrEnum):
    """How the main service reaches the payment vault."""

    SUPERVISED = "supervised"
    EXTERNAL = "external"
    OFF = "off"


class LogFormat(StrEnum):
    """How log lines are rendered."""

    JSON = "json"
    CONSOLE = "console"


class EmailBackend(StrEnum):
    """Where email goes: the development outbox or an SMTP server."""

    OUTBOX = "outbox"
    SMTP = "smtp"


class SmsBackend(StrEnum):
    """Where text messages go: the development outbox or an HTTP SMS provider."""

    OUTBOX = "outbox"
    HTTP = "http"


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class MarketDataSource(StrEnum):
    """Where the desk's reference prices come from besides its own trades."""

    OFF = "off"
    SIMULATOR = "simulator"
    REPLAY = "replay"
    ALPACA = "alpaca"


class UnknownKeysSource(PydanticBaseSettingsSource):
    """Rejects ``TRADEGUARD_*`` environment variables that name no setting."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # noqa: ANN401, ARG002 - the base class signature
        """Contribute no values; this source only validates."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Raise if the environment holds a prefixed key that is not a field."""
        known = {f"{ENV_PREFIX}{name}".upper() for name in self.settings_cls.model_fields}
        unknown = sorted(
            key
            for key in os.environ
            if key.upper().startswith(ENV_PREFIX)
            and key.upper() not in known
            and not key.upper().startswith(VAULT_ENV_PREFIX)
        )
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(unknown)}")
        return {}


class Settings(BaseSettings):
    """The effective configuration of one TradeGuard process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`production` refuses development material and the embedded database",
    )
    var_dir: Path = Field(
        default=Path("var"),
        description="Runtime files: SQLite database, master key, development TLS files, outbox",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pass@host:5432/db; "
        "default the SQLite file var_dir/tradeguard.db",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTPS server listens on")
    port: int = Field(default=8443, ge=1, le=65535, description="Port the HTTPS server listens on")
    tls_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate chain to serve; default the development one in var_dir/tls",
    )
    tls_key_file: Path | None = Field(
        default=None, description="PEM private key of that certificate; default the development one"
    )
    master_key_file: Path | None = Field(
        default=None, description="Key-encryption key file; default var_dir/keys/master.key"
    )
    kek_provider: KekProvider = Field(
        default=KekProvider.LOCAL, description="local master-key file or Vault transit"
    )
    vault_url: str | None = Field(
        default=None, description="Vault address, e.g. `https://vault:8200`"
    )
    vault_token: SecretStr | None = Field(default=None, description="Vault token for transit")
    vault_transit_mount: str = Field(
        default="transit", description="Mount path of Vault's transit engine"
    )
    vault_transit_key: str = Field(
        default="tradeguard", description="Transit key that wraps the keysets"
    )
    key_rotation_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Age after which a data-class key is overdue for rotation",
    )
    audit_witness_file: Path | None = Field(
        default=None,
        description="Append-only checkpoint witness; default var_dir/audit-witness.jsonl",
    )
    audit_checkpoint_events: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Sign an audit checkpoint after this many events",
    )
    audit_checkpoint_seconds: int = Field(
        default=60,
        ge=1,
        le=86_400,
        description="Sign an audit checkpoint this often while events arrive",
    )
    audit_retention_years: int = Field(
        default=7,
        ge=7,
        le=100,
        description="Retention horizon of the audit trail (reports state it; nothing deletes)",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token required on /metrics; required in production"
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics without a token when none is set (development only); "
        "otherwise /metrics without a token answers 401",
    )
    hsts_max_age: int = Field(
        default=63_072_000, ge=0, description="Strict-Transport-Security max-age in seconds"
    )
    token_issuer: str | None = Field(
        default=None, description="JWT iss of access tokens; default the public URL"
    )
    token_audience: str = Field(
        default="tradeguard-api",  # an audience name, not a secret
        description="aud of access tokens",
    )
    access_token_seconds: int = Field(
        default=900, ge=60, le=3600, description="Lifetime of an access token"
    )
    refresh_token_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        description="Absolute lifetime of a session's refresh tokens, from sign-in",
    )
    session_idle_seconds: int = Field(
        default=900, ge=60, le=86_400, description="Inactivity timeout of a session"
    )
    session_idle_seconds_by_role: dict[str, int] = Field(
        default_factory=dict, description='Per-role idle timeouts, JSON: {"TRADER": 1800}'
    )
    step_up_seconds: int = Field(
        default=300,
        ge=30,
        le=900,
        description="How long a step-up verification opens sensitive operations",
    )
    password_memory_kib: int = Field(
        default=19_456,
        ge=19_456,
        le=4_194_304,
        description="argon2id memory cost in KiB (OWASP's minimum at least)",
    )
    password_time_cost: int = Field(default=2, ge=2, le=20, description="argon2id iterations")
    password_parallelism: int = Field(default=1, ge=1, le=16, description="argon2id lanes")
    password_min_score: int = Field(
        default=3, ge=0, le=4, description="Lowest zxcvbn strength score (0-4) of a new password"
    )
    login_failures_per_account: int = Field(
        default=5, ge=1, le=100, description="Failed sign-ins that lock an account name"
    )
    login_failures_per_ip: int = Field(
        default=50, ge=1, le=10_000, description="Failed sign-ins that lock a client address"
    )
    login_failure_window_seconds: int = Field(
        default=900, ge=60, le=86_400, description="Window in which failed sign-ins are counted"
    )
    login_lock_seconds: int = Field(
        default=900,
        ge=1,
        le=86_400,
        description="First lock; doubled for each earlier lock, at most a day",
    )
    otp_ttl_seconds: int = Field(
        default=600, ge=60, le=600, description="Lifetime of an SMS or email code"
    )
    otp_max_attempts: int = Field(
        default=5, ge=1, le=10, description="Wrong answers that void an SMS or email code"
    )
    otp_sends_per_hour: int = Field(
        default=5, ge=1, le=100, description="Codes sent to one account per hour and purpose"
    )
    otp_resend_seconds: int = Field(
        default=30, ge=0, le=600, description="Least time between two code sends"
    )
    webauthn_rp_id: str = Field(default="localhost", description="WebAuthn relying-party id")
    webauthn_rp_name: str = Field(
        default="TradeGuard", description="WebAuthn relying-party name shown by authenticators"
    )
    webauthn_origins: tuple[str, ...] = Field(
        default=(), description="Allowed WebAuthn origins; default the public URL"
    )
    equal_time_floor_ms: int = Field(
        default=200,
        ge=0,
        le=5000,
        description="Sign-up, verification and reset answer no sooner than this (enumeration)",
    )
    grant_max_hours: int = Field(
        default=8, ge=1, le=72, description="Longest a time-limited staff grant may last"
    )
    compliance_email: str = Field(
        default="compliance@tradeguard.localhost",
        description="Where access alerts and break-glass notices go",
    )
    staff_enrolment_link_hours: int = Field(
        default=24,
        ge=1,
        le=168,
        description="Lifetime of a one-time staff enrolment link (first admin, invitations)",
    )
    staff_platform_keys_allowed: bool = Field(
        default=False,
        description=(
            "Development only: a platform passkey or a browser's virtual authenticator counts "
            "as a staff security key; production refuses to start with it"
        ),
    )
    staff_hours_start: int = Field(default=0, ge=0, le=23, description="Staff hours from (UTC)")
    staff_hours_end: int = Field(default=24, ge=1, le=24, description="Staff hours until (UTC)")
    anomaly_distinct_records: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="Customers a staff member may view within the window (mass_access)",
    )
    anomaly_denials: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Refused checks of one principal within the window (repeated_denials)",
    )
    anomaly_window_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="Window of the access-anomaly counts"
    )
    public_url: str | None = Field(
        default=None, description="Base URL in emailed links; default https://localhost:PORT"
    )
    outbox_dir: Path | None = Field(
        default=None, description="Development outbox for email and SMS; default var_dir/outbox"
    )
    email_unverified_per_recipient: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Most emails (and texts) to one address not verified for its account, per window;"
            " more are dropped silently"
        ),
    )
    email_unverified_window_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 86400,
        description="Window of the per-recipient cap on email to unverified addresses",
    )
    email_backend: EmailBackend = Field(
        default=EmailBackend.OUTBOX, description="outbox (development files) or smtp"
    )
    email_from: str = Field(
        default="TradeGuard <no-reply@tradeguard.localhost>",
        description="From address of every email",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port")
    smtp_security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS,
        description="starttls, implicit tls, or none (refused in production)",
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login name; no login when unset"
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_timeout_seconds: int = Field(
        default=10, ge=1, le=120, description="SMTP connection and command timeout"
    )
    sms_backend: SmsBackend = Field(
        default=SmsBackend.OUTBOX,
        description="outbox (development files) or http (an SMS provider)",
    )
    sms_base_url: str | None = Field(
        default=None, description="SMS provider endpoint; messages are POSTed to BASE/messages"
    )
    sms_api_key: SecretStr | None = Field(
        default=None, description="Bearer key of the SMS provider"
    )
    sms_sender: str = Field(
        default="TradeGuard", description="Sender name or number of text messages"
    )
    sms_timeout_seconds: int = Field(
        default=10, ge=1, le=120, description="SMS provider request timeout"
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis shared by every node (nonces, rate limits, key revocations); "
        "in-process state when unset",
    )
    redis_key_prefix: str = Field(
        default="tradeguard:", min_length=1, max_length=64, description="Prefix of Redis keys"
    )
    api_key_max_days: int = Field(
        default=90, ge=1, le=90, description="Lifetime of an API key (default and maximum)"
    )
    api_key_rotation_overlap_hours: int = Field(
        default=24, ge=0, le=168, description="How long a rotated key keeps working"
    )
    api_key_expiry_warning_days: int = Field(
        default=14, ge=1, le=30, description="Flag and email keys expiring this soon"
    )
    api_signature_window_seconds: int = Field(
        default=5, ge=1, le=60, description="Allowed clock skew of TG-TIMESTAMP (seconds)"
    )
    # -- rate limiting (tradeguard.ratelimit) --
    rate_limit_enabled: bool = Field(
        default=True, description="Request limits per IP, user and API key, adaptive throttling"
    )
    rate_limit_ip_auth: RateLimitText = Field(
        default="30/minute", description="Per IP: sign-in, sign-up, codes and resets"
    )
    rate_limit_ip_order_entry: RateLimitText = Field(
        default="600/minute", description="Per IP: placing and changing orders"
    )
    rate_limit_ip_read: RateLimitText = Field(default="1200/minute", description="Per IP: reads")
    rate_limit_ip_default: RateLimitText = Field(
        default="300/minute", description="Per IP: other writes"
    )
    rate_limit_ip_order_cancel: RateLimitText = Field(
        default="120/minute",
        description="Per IP: order cancels by callers that do not authenticate "
        "(an authenticated caller's cancels are never limited)",
    )
    rate_limit_user_auth: RateLimitText = Field(
        default="10/minute", description="Per user: step-up answers, code sends, confirmations"
    )
    rate_limit_user_order_entry: RateLimitText = Field(
        default="300/minute", description="Per user: placing and changing orders"
    )
    rate_limit_user_read: RateLimitText = Field(default="600/minute", description="Per user: reads")
    rate_limit_user_default: RateLimitText = Field(
        default="120/minute", description="Per user: other writes"
    )
    rate_limit_api_key_order_entry: RateLimitText = Field(
        default="300/minute", description="Per API key: placing and changing orders"
    )
    rate_limit_api_key_read: RateLimitText = Field(
        default="600/minute", description="Per API key: reads"
    )
    rate_limit_api_key_default: RateLimitText = Field(
        default="120/minute", description="Per API key: other writes"
    )
    rate_limit_adaptive_enabled: bool = Field(
        default=True, description="Tighten the limits of clients whose requests are refused"
    )
    rate_limit_adaptive_window_seconds: int = Field(
        default=60, ge=1, le=3600, description="Window of a client's answered and rejected requests"
    )
    rate_limit_adaptive_min_rejections: int = Field(
        default=10, ge=1, le=100_000, description="Judge a client at every this many rejections"
    )
    rate_limit_adaptive_rejected_percent: int = Field(
        default=50, ge=1, le=100, description="Share of rejected requests that tightens"
    )
    rate_limit_adaptive_calm_requests: int = Field(
        default=20, ge=1, le=100_000, description="Judge a tightened client's recovery this often"
    )
    rate_limit_adaptive_max_level: int = Field(
        default=4, ge=1, le=16, description="Most halvings of a client's limits"
    )
    rate_limit_adaptive_hold_seconds: int = Field(
        default=900, ge=1, le=86_400, description="A tightening lapses this long after it is set"
    )
    load_shed_enabled: bool = Field(
        default=True, description="Refuse low-priority requests (503) when overloaded"
    )
    load_shed_in_flight: int = Field(
        default=256, ge=1, le=1_000_000, description="Requests in progress that mean overload"
    )
    load_shed_latency_ms: int = Field(
        default=2000, ge=1, le=600_000, description="Recent mean latency that means overload"
    )
    # -- request limits (tradeguard.gateway.request_limits) --
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=104_857_600, description="Largest request body (413)"
    )
    max_header_count: int = Field(
        default=100, ge=10, le=1000, description="Most header fields in a request (431)"
    )
    max_header_bytes: int = Field(
        default=16_384, ge=1024, le=262_144, description="Largest header block in bytes (431)"
    )
    header_timeout_seconds: int = Field(
        default=10, ge=1, le=300, description="Time for a request line and headers to arrive"
    )
    client_body_timeout_seconds: int = Field(
        default=10, ge=1, le=300, description="Longest pause while a request body arrives (408)"
    )
    client_body_deadline_seconds: int = Field(
        default=30, ge=1, le=3600, description="Time for a whole request body to arrive (408)"
    )
    request_timeout_seconds: int = Field(
        default=30, ge=1, le=3600, description="Time for a complete response (504 after it)"
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, le=300, description="Idle time before a kept-alive connection closes"
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Open connections of one gateway worker before its requests get 503 "
        "(the kernel spreads connections over the workers)",
    )
    listen_backlog: int = Field(
        default=2048, ge=1, le=65_535, description="Connections queued by the kernel for accept"
    )
    # -- process layout: gateway workers and the desk process (tradeguard.gateway.supervisor) --
    serve_workers: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Gateway worker processes of `tradeguard serve`, beside one desk process; "
        "0 = one per CPU core; 1 = a single process holding the desk (no desk process)",
    )
    desk_socket: Path | None = Field(
        default=None,
        description="Unix socket between the gateway workers and the desk process (mode 0600); "
        "default var_dir/desk.sock",
    )
    desk_call_timeout_seconds: int = Field(
        default=10,
        ge=1,
        le=120,
        description="Longest wait for the desk process to answer a worker (then 503 "
        "TRADING_UNAVAILABLE; a retry with the same client order id is safe)",
    )
    # -- session state cached per request (tradeguard.identity.session_news) --
    session_state_cache_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="How long a process keeps a session's state (revoked, suspended, "
        "allowlist, grants) while every change reaches it as a message (Redis, or the desk "
        "process for gateway workers); one second while it cannot hear them",
    )
    # -- the order feed, WebSocket /v1/stream (tradeguard.trading.feed.api) --
    feed_max_connections: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Open WebSocket connections of one gateway worker before its upgrades "
        "get 503 (keep below max_connections so the REST API keeps room)",
    )
    feed_max_connections_per_user: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Open feed connections of one user on one gateway worker",
    )
    feed_max_pending_events: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Events a connection may fall behind by before it is closed",
    )
    feed_max_message_bytes: int = Field(
        default=8192, ge=4608, le=1_048_576, description="Largest message a client may send"
    )
    feed_auth_timeout_seconds: int = Field(
        default=5, ge=1, le=60, description="Time for the auth message of a header-less client"
    )
    feed_session_check_seconds: int = Field(
        default=10, ge=1, le=300, description="How often an open feed re-checks its session"
    )
    feed_allowed_origins: tuple[str, ...] = Field(
        default=(), description="Origins browsers may open the feed from; default the public URL"
    )
    kyc_auto_approve: bool = Field(
        default=True,
        description="Open the account of a low-risk application whose checks all pass "
        "without a reviewer",
    )
    kyc_high_risk_countries: tuple[str, ...] = Field(
        default=("PRK", "IRN", "MMR", "SYR", "RUS", "BLR", "CUB", "VEN", "AFG", "YEM"),
        description="Three-letter country codes whose citizens or residents are high risk",
    )
    kyc_risk_medium_score: int = Field(
        default=2, ge=1, le=20, description="Risk points from which an application is medium risk"
    )
    kyc_risk_high_score: int = Field(
        default=4,
        ge=1,
        le=20,
        description="Risk points from which an application is high risk (two reviewers)",
    )
    kyc_document_max_bytes: int = Field(
        default=1_000_000,
        ge=10_000,
        le=104_857_600,
        description="Largest identity document or proof of address accepted (413)",
    )
    kyc_document_max_pixels: int = Field(
        default=40_000_000,
        ge=100_000,
        le=200_000_000,
        description="Largest image accepted, in pixels (refuses decompression bombs)",
    )
    screening_match_threshold: float = Field(
        default=0.85,
        ge=0.5,
        le=1.0,
        description="Score at which a sanctions screening result is a potential match for review",
    )
    screening_list_dir: Path | None = Field(
        default=None,
        description="Directory holding the OFAC list files to reload on a schedule (unset: none)",
    )
    screening_reload_hours: int = Field(
        default=24, ge=1, le=720, description="How often the lists in screening_list_dir reload"
    )
    aml_filer_name: str = Field(
        default="TradeGuard Development Broker-Dealer",
        min_length=1,
        max_length=150,
        description="Legal name of the filing institution on CTRs and SARs",
    )
    aml_filer_ein: str = Field(
        default="000000000",
        pattern=r"^[0-9]{9}$",
        description="The filing institution's EIN, nine digits",
    )
    aml_filer_street: str = Field(
        default="1 Example Plaza", max_length=100, description="Filing institution's street"
    )
    aml_filer_city: str = Field(
        default="New York", max_length=50, description="Filing institution's city"
    )
    aml_filer_state: str = Field(
        default="NY", pattern=r"^[A-Z]{2}$", description="Filing institution's state code"
    )
    aml_filer_zip: str = Field(
        default="10001", pattern=r"^[0-9]{5}([0-9]{4})?$", description="Filing institution's ZIP"
    )
    aml_filer_contact_name: str = Field(
        default="AML Compliance Officer",
        max_length=50,
        description="Office or person FinCEN contacts about a report",
    )
    aml_filer_contact_phone: str = Field(
        default="2125550100", pattern=r"^[0-9]{10,16}$", description="Contact phone, digits only"
    )
    aml_transmitter_control_code: str = Field(
        default="TGDEV000",
        pattern=r"^[A-Z0-9]{8}$",
        description="FinCEN Transmitter Control Code (TCC) of the batch files",
    )
    # -- AML follow-ups: the SAR clock and continuing-activity reviews (tradeguard.aml) --
    aml_sar_reminder_days: tuple[int, ...] = Field(
        default=(10, 3, 1),
        max_length=10,
        description="Days before an unfiled SAR's deadline on which compliance_email is "
        "reminded (each once)",
    )
    aml_jobs_minutes: int = Field(
        default=60,
        ge=1,
        le=1440,
        description="How often the AML job runs: SAR reminders, the overdue alert and due "
        "continuing-activity reviews",
    )

    @field_validator("aml_sar_reminder_days")
    @classmethod
    def _reminder_days_in_range(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        """Each reminder falls within the 60 days a SAR may take at most."""
        if any(not 1 <= day <= 60 for day in days):  # noqa: PLR2004 - the longest filing window
            raise ValueError("each reminder is 1 to 60 days before the deadline")
        return days

    # -- watchers over the audit trail (tradeguard.watch) --
    watch_embedded: bool = Field(
        default=True,
        description="Run the watchers over the audit table as part of the server; off when "
        "separate `tradeguard watch run` processes consume the event bus",
    )
    watch_process: bool = Field(
        default=False,
        description="Under `serve`, run the embedded watchers in a watch process of their own "
        "instead of the desk process (the desk's interpreter is then the orders' alone; it "
        "costs one process more, worth it where cores are spare)",
    )
    watch_poll_ms: int = Field(
        default=50, ge=5, le=60_000, description="How often embedded watchers look for events"
    )
    watch_min_gap_ms: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="Least time from the end of one embedded watcher round to the next "
        "(unless it stopped at its batch limit): the commits in between share one round",
    )
    watch_batch_events: int = Field(
        default=1000, ge=1, le=100_000, description="Audit events one watcher batch reads"
    )
    watch_max_lag_events: int = Field(
        default=10_000,
        ge=1,
        description="A watcher further behind the trail than this is not ready (/readyz) "
        "and raises a watch.lag alert",
    )
    alert_email_min_score: float = Field(
        default=0.8, ge=0.0, le=1.0, description="New alerts scoring this or more email compliance"
    )
    surveillance_actions: tuple[str, ...] = Field(
        default=(),
        description="Automatic actions on surveillance alerts, each typology:min_score:STATE "
        "(STATE REDUCING or HALTED), e.g. spoofing:0.9:REDUCING; none by default",
    )
    event_bus_url: str | None = Field(
        default=None,
        description="nats://host:port of the NATS JetStream the relay publishes the trail to",
    )
    event_bus_partitions: int = Field(
        default=4, ge=1, le=1024, description="Partitions (subjects) of the trail on the bus"
    )
    event_bus_stream: str = Field(
        default="TRADEGUARD_AUDIT",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="JetStream stream name of the trail",
    )
    trading_batch_max_orders: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="Most order requests the desk commits in one transaction (group commit)",
    )
    trading_batch_max_wait_us: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description=(
            "Under load, microseconds a batch may wait for more order requests before it"
            " commits; 0 commits at once (a lone request never waits)"
        ),
    )
    # -- market data into the reference prices (tradeguard.market) --
    market_data: MarketDataSource = Field(
        default=MarketDataSource.SIMULATOR,
        description="off, simulator (development only; production refuses it), replay "
        "(market_replay_file) or alpaca (the provider's stream, market_alpaca_*)",
    )
    market_simulator_rate: int = Field(
        default=300, ge=1, le=1_000_000, description="Venue quotes per second the simulator sends"
    )
    market_simulator_spread_bps: int = Field(
        default=4, ge=1, le=1000, description="The simulated venues' bid-offer spread"
    )
    market_simulator_seed: int | None = Field(
        default=None, description="Seed of the simulator's random walk (repeatable runs)"
    )
    market_replay_file: Path | None = Field(
        default=None, description="JSON-lines file of quotes, sales and halts to replay"
    )
    market_replay_rate: int = Field(
        default=0, ge=0, le=10_000_000, description="Replayed events per second (0: at once)"
    )
    market_volatility_bands: bool = Field(
        default=True,
        description="LULD-style bands from the feed: limit prices outside refused, a symbol "
        "held at its band for 15 s paused for five minutes",
    )
    market_broker_name: str = Field(
        default="TradeGuard Securities",
        min_length=1,
        max_length=80,
        description="The broker-dealer named in Rule 606 reports",
    )
    market_crossed_tolerance_bps: int = Field(
        default=0, ge=0, le=100, description="How far a venue's bid may cross its offer"
    )
    # -- order routing to venues over FIX (tradeguard.routing) --
    routing_simulated_venues: bool = Field(
        default=False,
        description="Start a simulated FIX venue (TLS on loopback) for each simulated market "
        "venue and route marketable orders to them by the best-execution policy (needs "
        "market_data)",
    )
    routing_venue_latency_ms: float = Field(
        default=2.0, ge=0, le=10_000, description="The simulated venues' typical latency"
    )
    routing_venue_partial_fill_pct: int = Field(
        default=30, ge=0, le=100, description="Share of simulated fills that come in two parts"
    )
    routing_venue_reject_pct: int = Field(
        default=0, ge=0, le=100, description="Share of orders the simulated venues reject"
    )
    routing_ack_timeout_ms: int = Field(
        default=2000,
        ge=10,
        le=60_000,
        description="A venue that leaves an order unacknowledged this long is taken out of "
        "routing (and the order gets a cancel request)",
    )
    routing_access_fees: dict[str, int] = Field(
        default_factory=lambda: {"XNYS": 30, "XNAS": 30, "ARCX": 30},
        description="Access fee per share by venue, in 1/10,000 dollar (30 = $0.003)",
    )
    routing_rebates: dict[str, int] = Field(
        default_factory=dict,
        description="Rebate per share by venue, in 1/10,000 dollar",
    )
    routing_pfof: dict[str, int] = Field(
        default_factory=dict,
        description="Payment for order flow received per share by venue, in 1/10,000 dollar "
        "(recorded per order and disclosed in Rule 606 reports; never a routing criterion)",
    )
    # -- routing follow-ups: terms per order type (tradeguard.routing) --
    routing_order_type_terms: OrderTypeTerms = Field(
        default_factory=dict,
        description="Access fee, rebate and payment for order flow per share (1/10,000 "
        "dollar) of one venue for one Rule 606 order type, replacing the venue's own for "
        'that type; keys VENUE:type, e.g. {"XNYS:non_marketable_limit": {"access_fee": 0, '
        '"rebate": 20}} (an item left out keeps the venue\'s own)',
    )
    # -- resting at outside venues (tradeguard.routing) --
    routing_rest_venue: str = Field(
        default="",
        pattern=r"^[A-Z]{0,8}$",
        description="The venue where a non-marketable DAY limit order rests (sent DAY, "
        "cancelled and modified there over FIX) while it is in reach; empty: such orders "
        "rest in the internal book",
    )
    # -- a provider's market data stream (tradeguard.market.stream) --
    market_alpaca_url: str = Field(
        default="wss://stream.data.alpaca.markets/v2/sip",
        pattern=r"^wss?://[^\s]{1,500}$",
        description="Alpaca's market data v2 stream for stocks (v2/sip, v2/iex, ...); "
        "production requires wss://",
    )
    market_alpaca_key_id: SecretStr | None = Field(
        default=None, description="The API key id the stream authenticates with"
    )
    market_alpaca_secret_key: SecretStr | None = Field(
        default=None, description="The API key's secret"
    )
    market_alpaca_ca_file: Path | None = Field(
        default=None,
        description="CA bundle the stream's TLS certificate is checked against "
        "(default: the system's)",
    )
    market_stream_max_backoff_seconds: float = Field(
        default=30.0,
        ge=0.1,
        le=600.0,
        description="Longest wait between reconnections to the stream (the wait doubles "
        "from 0.25 s)",
    )
    # -- payment vault client (tradeguard.cards; the vault itself reads TRADEGUARD_PAYMENTS_*) --
    vault_mode: VaultMode = Field(
        default=VaultMode.OFF,
        description="supervised: `serve` starts `tradeguard payments serve` beside it (what "
        "`make run` sets); external: the vault runs apart; off: card routes answer 503",
    )
    vault_port: int = Field(
        default=8444, ge=1, le=65535, description="The vault's mutual-TLS port on loopback"
    )
    vault_intake_port: int = Field(
        default=8445, ge=1, le=65535, description="The vault's card intake port (browsers)"
    )
    vault_intake_url: str | None = Field(
        default=None,
        max_length=200,
        description="Address browsers send card numbers to; default "
        "https://localhost:vault_intake_port",
    )
    vault_sandbox_port: int = Field(
        default=8420,
        ge=1,
        le=65535,
        description="Loopback port of the sandbox card processor a supervised vault starts",
    )
    vault_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Longest wait for the vault (then 503)"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_format: LogFormat = Field(
        default=LogFormat.JSON, description="json (one object per line) or console"
    )
    # -- money movement: bank links, deposits, withdrawals (tradeguard.payments) --
    payments_max_bank_links: int = Field(
        default=3, ge=1, le=20, description="Bank links a customer may hold at once"
    )
    payments_micro_deposit_attempts: int = Field(
        default=3, ge=1, le=10, description="Tries at a bank link's two micro-deposit amounts"
    )
    payments_ach_settlement_days: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Business days after which an ACH pull settles (withdrawable only then)",
    )
    payments_withdrawal_daily_limit_cents: int = Field(
        default=5_000_000,
        ge=0,
        description="Cents a customer may withdraw in any rolling 24 hours (pending and sent)",
    )
    payments_withdrawal_weekly_limit_cents: int = Field(
        default=20_000_000,
        ge=0,
        description="Cents a customer may withdraw in any rolling 7 days (pending and sent)",
    )
    payments_review_threshold_cents: int = Field(
        default=1_000_000, ge=0, description="Withdrawals above this go to manual review"
    )
    payments_second_review_threshold_cents: int = Field(
        default=2_500_000, ge=0, description="Withdrawals above this need two reviewers"
    )
    payments_cooling_hours: int = Field(
        default=24,
        ge=0,
        le=720,
        description="Hours without withdrawals after an account opens, a password, second "
        "factor, email or phone change, or a new bank link",
    )
    payments_withdrawal_code_seconds: int = Field(
        default=600, ge=60, le=3600, description="How long a withdrawal's email and SMS codes live"
    )
    payments_ach_origin_routing: str = Field(
        default="091000019",
        pattern=r"^[0-9]{9}$",
        description="The firm's bank (ODFI) routing number in outgoing NACHA files",
    )
    payments_ach_company_id: str = Field(
        default="1000000000",
        pattern=r"^[0-9A-Z ]{10}$",
        description="The firm's company identification in outgoing NACHA files",
    )
    payments_fraud_decision: bool = Field(
        default=False,
        description="Ask the fraud decision point before approving a withdrawal (once on, "
        "an unavailable point denies)",
    )
    payments_aml_decision: bool = Field(
        default=False,
        description="Ask the AML decision point before approving a withdrawal (once on, "
        "an unavailable point denies)",
    )
    # -- card deposits held like ACH pulls (tradeguard.payments) --
    payments_card_settlement_days: int = Field(
        default=5,
        ge=0,
        le=30,
        description="Business days after which a card deposit settles (buying power at "
        "once, withdrawable only then)",
    )
    # -- money movement: the periodic settle job (tradeguard.payments.wiring) --
    payments_settle_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds between runs of the job that settles due ACH pulls and gives "
        "back cash owed",
    )

    # -- fraud and account-takeover defence (tradeguard.fraud) --
    fraud_enabled: bool = Field(
        default=True, description="Score sign-ins and orders (and the other decision points)"
    )
    fraud_model_dir: Path | None = Field(
        default=None,
        description="The model registry (signed model files, champion, challenger); "
        "default var_dir/fraud-models. Without a champion the takeover rules decide alone",
    )
    fraud_step_up_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Fraud probability from which a step-up is asked"
    )
    fraud_block_threshold: float = Field(
        default=0.9, ge=0.0, le=1.0, description="Fraud probability from which an action is blocked"
    )
    fraud_action_thresholds: tuple[str, ...] = Field(
        default=(),
        description="Per decision point, action:step_up:block (e.g. withdrawal:0.3:0.7); "
        "the others use the two thresholds above",
    )
    fraud_geo_networks: tuple[str, ...] = Field(
        default=(), description="CIDR=CC lines giving the country of address blocks"
    )
    fraud_review_rate: float = Field(
        default=0.01, gt=0.0, le=1.0, description="Share of decisions staff can review (metrics)"
    )
    fraud_geoip_database: Path | None = Field(
        default=None,
        description="A MaxMind-format GeoIP2 or GeoLite2 Country or City database file; "
        "fraud_geo_networks answers for addresses it does not know",
    )

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("database_url")
    @classmethod
    def _parsable_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            backend = make_url(value.get_secret_value()).get_backend_name()
            if backend not in {"sqlite", "postgresql"}:
                raise ValueError(f"unsupported database backend {backend!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Check for unknown variables before reading the usual sources."""
        return (
            UnknownKeysSource(settings_cls),
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
        )

    @property
    def effective_database_url(self) -> str:
        """The database URL in use, the SQLite default when none is set."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.var_dir / 'tradeguard.db'}"

    @property
    def uses_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return make_url(self.effective_database_url).get_backend_name() == "sqlite"

    @property
    def effective_desk_socket(self) -> Path:
        """The desk process's Unix socket: configured, else ``var_dir/desk.sock``."""
        return self.desk_socket or self.var_dir / "desk.sock"

    @property
    def effective_vault_intake_url(self) -> str:
        """Where browsers send card numbers: configured, else the loopback intake port."""
        return self.vault_intake_url or f"https://localhost:{self.vault_intake_port}"

    @property
    def tls_dir(self) -> Path:
        """Where the development certificate authority and certificate live."""
        return self.var_dir / "tls"

    @property
    def effective_master_key_file(self) -> Path:
        """The master key file in use."""
        return self.master_key_file or self.var_dir / "keys" / "master.key"

    @property
    def effective_witness_file(self) -> Path:
        """The audit witness file in use."""
        return self.audit_witness_file or self.var_dir / "audit-witness.jsonl"

    @property
    def effective_outbox_dir(self) -> Path:
        """The development outbox in use."""
        return self.outbox_dir or self.var_dir / "outbox"

    @property
    def effective_public_url(self) -> str:
        """The base URL people reach the service at (used in emailed links)."""
        return (self.public_url or f"https://localhost:{self.port}").rstrip("/")

    @property
    def effective_token_issuer(self) -> str:
        """The ``iss`` of access tokens."""
        return self.token_issuer or self.effective_public_url

    @property
    def effective_webauthn_origins(self) -> tuple[str, ...]:
        """Origins WebAuthn responses may come from."""
        return self.webauthn_origins or (self.effective_public_url,)

    @property
    def effective_feed_origins(self) -> tuple[str, ...]:
        """Origins a browser may open the order feed from."""
        return self.feed_allowed_origins or (self.effective_public_url,)

    def idle_timeout_seconds(self, role: str) -> int:
        """The inactivity timeout of a session of ``role``; staff at most 15 minutes."""
        configured = self.session_idle_seconds_by_role.get(role, self.session_idle_seconds)
        return min(configured, STAFF_IDLE_SECONDS) if role in STAFF_ROLES else configured

    @property
    def is_production(self) -> bool:
        """Whether production rules apply."""
        return self.env is Environment.PRODUCTION


def load_settings(**overrides: Any) -> Settings:  # noqa: ANN401 - settings values are of many types
    """Read settings, turning validation failures into one clear configuration error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_input=False)
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None


def display_settings(settings: Settings) -> dict[str, str]:
    """The effective configuration as strings, every secret masked."""
    shown: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name == "database_url":
            shown[name] = _masked_url(settings.effective_database_url)
        elif isinstance(value, SecretStr):
            shown[name] = MASK
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def _masked_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
