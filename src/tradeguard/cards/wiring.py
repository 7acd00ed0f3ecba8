"""Building the card operations from the main service's settings."""

from __future__ import annotations

from tradeguard.cards.client import VaultClient, client_context
from tradeguard.cards.service import CardVault
from tradeguard.config import Settings, VaultMode
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.logs import get_logger
from tradeguard.services import Services
from tradeguard.vault.certificates import ClientCertificatePaths

log = get_logger("tradeguard.cards")


def vault_client(settings: Settings) -> VaultClient:
    """The mutual-TLS client of the configured vault, or one that always fails closed."""
    if settings.vault_mode == VaultMode.OFF:
        return VaultClient.unconfigured()
    ca = DevCertificatePaths.under(settings.tls_dir)
    mine = ClientCertificatePaths.under(settings.tls_dir)
    try:
        context = client_context(ca.ca_cert, mine.cert, mine.key)
    except OSError as error:
        log.warning("cards.vault_client_unavailable", error=type(error).__name__)
        return VaultClient.unconfigured()
    return VaultClient("127.0.0.1", settings.vault_port, context, settings.vault_timeout_seconds)


def build_card_vault(services: Services) -> CardVault:
    """The card operations over the vault client, audited in the main trail."""
    settings = services.settings
    return CardVault(
        vault_client(settings), settings.effective_vault_intake_url, services.audit, services.clock
    )
