"""Settings: prefix, unknown keys, secrets, frozen, production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from tradeguard.config import MASK, Environment, Settings, display_settings, load_settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ConfigurationError
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.gateway.tls import DevCertificatePaths, ensure_dev_certificate
from tradeguard.production import check_production, production_problems

PG_URL = "postgresql+psycopg://app:pg-pass-123@db.internal:5432/tradeguard"


def test_settings_when_nothing_set_then_development_defaults() -> None:
    settings = load_settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.port == 8443
    assert settings.host == "127.0.0.1"
    assert settings.effective_database_url == "sqlite:///var/tradeguard.db"
    assert settings.uses_sqlite


def test_settings_when_prefixed_variables_set_then_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEGUARD_PORT", "9443")
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", PG_URL)
    settings = load_settings()
    assert settings.port == 9443
    assert not settings.uses_sqlite


def test_settings_when_unknown_prefixed_variable_then_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADEGUARD_PROT", "9443")
    with pytest.raises(ConfigurationError, match="TRADEGUARD_PROT"):
        load_settings()


def test_settings_when_unknown_key_in_dotenv_then_rejected(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TRADEGUARD_PORT=9443\nTRADEGUARD_TYPO=1\n")
    with pytest.raises(ConfigurationError, match="typo"):
        load_settings()


def test_settings_when_dotenv_present_then_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TRADEGUARD_PORT=9443\n")
    assert load_settings().port == 9443


def test_settings_when_unknown_keyword_then_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, colour="blue")  # type: ignore[call-arg]


def test_settings_when_assigned_then_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("TRADEGUARD_PORT", "0", "port"),
        ("TRADEGUARD_LOG_LEVEL", "LOUD", "log_level"),
        ("TRADEGUARD_DATABASE_URL", "mysql://x@y/z", "unsupported database backend"),
        ("TRADEGUARD_ENV", "staging", "env"),
    ],
)
def test_settings_when_value_invalid_then_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=fragment) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_secrets_when_printed_then_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", PG_URL)
    monkeypatch.setenv("TRADEGUARD_METRICS_TOKEN", "metrics-token-xyz")
    settings = load_settings()
    rendered = " ".join([repr(settings), str(settings), str(display_settings(settings))])
    assert "pg-pass-123" not in rendered
    assert "metrics-token-xyz" not in rendered
    shown = display_settings(settings)
    assert shown["metrics_token"] == MASK
    assert shown["database_url"] == "postgresql+psycopg://app:***@db.internal:5432/tradeguard"


def _production(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "production",
        "var_dir": tmp_path,
        "database_url": PG_URL,
        "metrics_token": "scrape-token",
        "email_backend": "smtp",
        "sms_backend": "http",
        "sms_base_url": "https://sms.example.com/v1",
        "sms_api_key": "sms-key",
        "market_data": "off",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_when_everything_production_grade_then_starts(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    cert, key = foreign_certificate
    settings = _production(tmp_path, tls_cert_file=cert, tls_key_file=key)
    check_production(settings, LocalKek(generate_master_key(clock, "production")))


def test_production_when_quotes_are_simulated_then_refused(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    cert, key = foreign_certificate
    settings = _production(tmp_path, tls_cert_file=cert, tls_key_file=key, market_data="simulator")
    with pytest.raises(ConfigurationError, match="MARKET_DATA=simulator is for development"):
        check_production(settings, LocalKek(generate_master_key(clock, "production")))


def test_production_when_sqlite_then_refused(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    cert, key = foreign_certificate
    settings = _production(tmp_path, database_url=None, tls_cert_file=cert, tls_key_file=key)
    with pytest.raises(ConfigurationError, match="SQLite"):
        check_production(settings, LocalKek(generate_master_key(clock, "production")))


def test_production_when_notifications_go_to_the_outbox_then_refused(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    cert, key = foreign_certificate
    settings = _production(tmp_path, tls_cert_file=cert, tls_key_file=key, email_backend="outbox")
    with pytest.raises(ConfigurationError, match="EMAIL_BACKEND=smtp"):
        check_production(settings, LocalKek(generate_master_key(clock, "production")))


def test_production_when_development_certificate_then_refused(
    tmp_path: Path, clock: FixedClock
) -> None:
    ensure_dev_certificate(tmp_path / "tls", clock.now())
    dev = DevCertificatePaths.under(tmp_path / "tls")
    settings = _production(tmp_path, tls_cert_file=dev.cert, tls_key_file=dev.key)
    problems = production_problems(settings, LocalKek(generate_master_key(clock, "production")))
    assert problems == [f"{dev.cert} is the development certificate"]


def test_production_when_development_secrets_then_refused(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    cert, key = foreign_certificate
    settings = _production(tmp_path, tls_cert_file=cert, tls_key_file=key, metrics_token=None)
    problems = production_problems(settings, LocalKek(generate_master_key(clock, "development")))
    assert len(problems) == 2
    assert "created for development" in problems[0]
    assert "TRADEGUARD_METRICS_TOKEN" in problems[1]


def test_production_when_no_certificate_configured_then_refused(
    tmp_path: Path, clock: FixedClock
) -> None:
    problems = production_problems(
        _production(tmp_path), LocalKek(generate_master_key(clock, "production"))
    )
    assert problems == ["set TRADEGUARD_TLS_CERT_FILE and TRADEGUARD_TLS_KEY_FILE"]


def test_production_when_platform_keys_count_as_staff_keys_then_refused(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    cert, key = foreign_certificate
    settings = _production(
        tmp_path, tls_cert_file=cert, tls_key_file=key, staff_platform_keys_allowed=True
    )
    with pytest.raises(ConfigurationError, match="STAFF_PLATFORM_KEYS_ALLOWED is for development"):
        check_production(settings, LocalKek(generate_master_key(clock, "production")))


def test_secret_type_when_set_then_secretstr() -> None:
    settings = Settings(_env_file=None, metrics_token="abc")  # type: ignore[call-arg]
    assert isinstance(settings.metrics_token, SecretStr)
