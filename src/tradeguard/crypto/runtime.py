"""Assembles the key machinery from settings: KEK provider, keyring, subject keys, signing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from tradeguard.config import KekProvider, Settings
from tradeguard.core.clock import Clock
from tradeguard.core.errors import ConfigurationError
from tradeguard.crypto.events import KeyEventRecorder
from tradeguard.crypto.fields import FieldCrypto, install_field_encryption
from tradeguard.crypto.kek import KeyEncryptionKey, LocalKek
from tradeguard.crypto.keyring import Keyring
from tradeguard.crypto.master_key import load_master_key
from tradeguard.crypto.signing import SigningKeyManager, SigningPurpose
from tradeguard.crypto.subjects import SubjectKeys


@dataclass(frozen=True, slots=True)
class Crypto:
    """The key machinery one process uses."""

    kek: KeyEncryptionKey
    keyring: Keyring
    subjects: SubjectKeys
    signing: SigningKeyManager

    @property
    def field_crypto(self) -> FieldCrypto:
        """What the ORM hooks need, to put in a session's ``info``."""
        return FieldCrypto(self.keyring, self.subjects)


def build_kek(settings: Settings) -> KeyEncryptionKey:
    """The configured key-encryption key provider (the master key file is read here)."""
    if settings.kek_provider is KekProvider.LOCAL:
        return LocalKek(load_master_key(settings.effective_master_key_file))
    from tradeguard.crypto.vault import vault_kek_from_settings  # noqa: PLC0415 - hvac only when used

    return vault_kek_from_settings(settings)


def build_crypto(settings: Settings, clock: Clock, events: KeyEventRecorder) -> Crypto:
    """Keyring and subject keys over the configured KEK (keysets not loaded yet)."""
    rotation = timedelta(days=settings.key_rotation_days)
    return crypto_over(build_kek(settings), clock, events, rotation)


def crypto_over(
    kek: KeyEncryptionKey,
    clock: Clock,
    events: KeyEventRecorder,
    rotation_period: timedelta = timedelta(days=90),
) -> Crypto:
    """The key machinery over a given KEK (settings-free: tests and benchmarks use it too)."""
    install_field_encryption()
    keyring = Keyring(kek, clock, events, rotation_period)
    return Crypto(
        kek=kek,
        keyring=keyring,
        subjects=SubjectKeys(keyring, clock, events),
        signing=SigningKeyManager(kek, clock, events),
    )


def provision_keys(crypto: Crypto, session: Session) -> list[str]:
    """Create missing keysets and signing keys (``tradeguard init``); returns what was created."""
    created = [
        crypto.signing.ensure_active(session, purpose).key_id
        for purpose in SigningPurpose
        if not crypto.signing.public_keys(session, purpose)
    ]
    return created + crypto.keyring.ensure_keysets(session)


def require_vault_settings(settings: Settings) -> tuple[str, str]:
    """The Vault address and token, or a configuration error naming what is missing."""
    if settings.vault_url is None or settings.vault_token is None:
        raise ConfigurationError(
            "TRADEGUARD_KEK_PROVIDER=vault needs TRADEGUARD_VAULT_URL and TRADEGUARD_VAULT_TOKEN"
        )
    return settings.vault_url, settings.vault_token.get_secret_value()


def load_keys(crypto: Crypto, session: Session) -> None:
    """Load every keyset and check every signing purpose has its key; fail clearly if not."""
    crypto.keyring.load(session)
    for purpose in SigningPurpose:
        crypto.signing.active(session, purpose)
