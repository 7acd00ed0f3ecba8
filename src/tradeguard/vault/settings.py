"""The vault's own settings (``TRADEGUARD_PAYMENTS_*``), apart from the main service's."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "TRADEGUARD_PAYMENTS_"
SANDBOX_API_KEY = "sk_test_tradeguard_sandbox"


class VaultSettings(BaseSettings):
    """Configuration of one vault process; the main service never reads these."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, case_sensitive=False
    )

    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses the sandbox processor and its key",
    )
    var_dir: Path = Field(
        default=Path("var/payments"), description="The vault's files: database, key file"
    )
    database_url: SecretStr | None = Field(
        default=None, description="The vault's database; default the SQLite file var_dir/vault.db"
    )
    host: str = Field(default="127.0.0.1", description="Address of both vault listeners")
    port: int = Field(default=8444, ge=1, le=65535, description="Mutual-TLS port for the API")
    intake_port: int = Field(
        default=8445, ge=1, le=65535, description="TLS port of the browsers' tokenization endpoint"
    )
    tls_dir: Path = Field(
        default=Path("var/tls"),
        description="Development CA (trusted for client certificates) and server certificate",
    )
    allowed_origins: tuple[str, ...] = Field(
        default=("https://localhost:8443", "https://127.0.0.1:8443"),
        description="Origins of the pages that may send card numbers to the intake endpoint",
    )
    processor_api_key: SecretStr = Field(
        default=SecretStr(SANDBOX_API_KEY), description="The card processor's secret API key"
    )
    processor_api_base: str = Field(
        default="http://127.0.0.1:8420", description="The card processor's API address"
    )
    processor_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    sandbox_processor: bool = Field(
        default=True,
        description="Start the local sandbox processor on processor_api_base's port "
        "(development only)",
    )
    intake_ticket_seconds: int = Field(
        default=600, ge=30, le=3600, description="How long an intake ticket may be used"
    )
    max_body_bytes: int = Field(default=8192, ge=512, le=65536)

    @model_validator(mode="after")
    def _no_sandbox_in_production(self) -> VaultSettings:
        if self.env == "production" and (
            self.sandbox_processor or self.processor_api_key.get_secret_value() == SANDBOX_API_KEY
        ):
            raise ValueError(
                "production needs TRADEGUARD_PAYMENTS_SANDBOX_PROCESSOR=false and the "
                "processor's own TRADEGUARD_PAYMENTS_PROCESSOR_API_KEY"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: configured, else the SQLite file in var_dir."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.var_dir / 'vault.db'}"

    @property
    def key_file(self) -> Path:
        """The vault's own key file (0600), from which its keys are derived."""
        return self.var_dir / "keys" / "vault.key"
