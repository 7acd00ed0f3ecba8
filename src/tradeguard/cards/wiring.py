"""Building the card operations from the main service's settings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from tradeguard.cards.client import VaultClient, client_context
from tradeguard.cards.service import CardDeposits, CardVault
from tradeguard.config import Settings, VaultMode
from tradeguard.logs import get_logger
from tradeguard.services import Services
from tradeguard.vault.certificates import ClientCertificatePaths

log = get_logger("tradeguard.cards")


def vault_client(settings: Settings, ca_cert: Path) -> VaultClient:
    """The mutual-TLS client of the configured vault, or one that always fails closed.

    ``ca_cert`` is the only authority trusted for the vault's server certificate.
    """
    if settings.vault_mode == VaultMode.OFF:
        return VaultClient.unconfigured(off=True)
    mine = ClientCertificatePaths.under(settings.tls_dir)
    try:
        context = client_context(ca_cert, mine.cert, mine.key)
    except OSError as error:
        log.warning("cards.vault_client_unavailable", error=type(error).__name__)
        return VaultClient.unconfigured()
    return VaultClient("127.0.0.1", settings.vault_port, context, settings.vault_timeout_seconds)


def card_intake_origins(settings: Settings) -> tuple[str, ...]:
    """The vault intake origin pages may send card numbers to (none with the vault off)."""
    if settings.vault_mode == VaultMode.OFF:
        return ()
    parts = urlsplit(settings.effective_vault_intake_url)
    return (f"{parts.scheme}://{parts.netloc}",)


def build_card_vault(services: Services, ca_cert: Path, deposits: CardDeposits) -> CardVault:
    """The card operations over the vault client; charges become payments' deposits."""
    settings = services.settings
    client = vault_client(settings, ca_cert)
    return CardVault(client, settings.effective_vault_intake_url, services.audit, deposits)


def vault_process_environment(settings: Settings) -> dict[str, str]:
    """The environment of a vault that ``serve`` supervises: ports and CA from our settings.

    Its database, keys and processor key stay the vault's own (``TRADEGUARD_PAYMENTS_*``
    of the environment, or its defaults under ``var_dir/payments``).
    """
    env = dict(os.environ)
    env.setdefault("TRADEGUARD_PAYMENTS_VAR_DIR", str(settings.var_dir / "payments"))
    env.setdefault(
        "TRADEGUARD_PAYMENTS_PROCESSOR_API_BASE", f"http://127.0.0.1:{settings.vault_sandbox_port}"
    )
    origins = [f"https://localhost:{settings.port}", f"https://127.0.0.1:{settings.port}"]
    return env | {
        "TRADEGUARD_PAYMENTS_PORT": str(settings.vault_port),
        "TRADEGUARD_PAYMENTS_INTAKE_PORT": str(settings.vault_intake_port),
        "TRADEGUARD_PAYMENTS_TLS_DIR": str(settings.tls_dir),
        "TRADEGUARD_PAYMENTS_ALLOWED_ORIGINS": json.dumps(origins),
    }
