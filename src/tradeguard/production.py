"""Production rules: refuse to start with development material or the embedded database."""

from __future__ import annotations

from tradeguard.config import Environment, MarketDataSource, Settings
from tradeguard.core.errors import ConfigurationError
from tradeguard.crypto.kek import KeyEncryptionKey, LocalKek
from tradeguard.gateway.tls import is_development_certificate
from tradeguard.notify.notifier import notify_production_problems


def production_problems(settings: Settings, kek: KeyEncryptionKey) -> list[str]:
    """Everything that makes ``settings`` unfit for production, as sentences."""
    problems: list[str] = []
    if settings.uses_sqlite:
        problems.append("SQLite is for development: set TRADEGUARD_DATABASE_URL to PostgreSQL")
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        problems.append("set TRADEGUARD_TLS_CERT_FILE and TRADEGUARD_TLS_KEY_FILE")
    elif is_development_certificate(settings.tls_cert_file):
        problems.append(f"{settings.tls_cert_file} is the development certificate")
    if isinstance(kek, LocalKek) and kek.environment != Environment.PRODUCTION:
        problems.append(f"master key {kek.kek_id} was created for development")
    if settings.metrics_token is None:
        problems.append("set TRADEGUARD_METRICS_TOKEN so /metrics is not public")
    if settings.metrics_public:
        problems.append("TRADEGUARD_METRICS_PUBLIC is for development: /metrics needs its token")
    if settings.staff_platform_keys_allowed:
        problems.append(
            "TRADEGUARD_STAFF_PLATFORM_KEYS_ALLOWED is for development: staff need a security key"
        )
    problems.extend(notify_production_problems(settings))
    problems.extend(market_data_problems(settings))
    if settings.routing_simulated_venues:
        problems.append(
            "TRADEGUARD_ROUTING_SIMULATED_VENUES is for development: fills are simulated"
        )
    return problems


def market_data_problems(settings: Settings) -> list[str]:
    """Simulated quotes must never price real orders, nor quotes read without TLS."""
    if settings.market_data is MarketDataSource.SIMULATOR:
        return ["TRADEGUARD_MARKET_DATA=simulator is for development: use replay or off"]
    if (
        settings.market_data is MarketDataSource.ALPACA
        and not settings.market_alpaca_url.startswith("wss://")
    ):
        return ["TRADEGUARD_MARKET_ALPACA_URL must be a wss:// address in production"]
    return []


def check_production(settings: Settings, kek: KeyEncryptionKey) -> None:
    """Raise when production mode is asked for with anything that is not production-grade."""
    if not settings.is_production:
        return
    problems = production_problems(settings, kek)
    if problems:
        raise ConfigurationError("production mode refuses to start: " + "; ".join(problems))
