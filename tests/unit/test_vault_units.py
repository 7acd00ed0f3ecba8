"""The vault's checks and keys, and the separation of its settings from the main ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.logs import luhn_valid
from tradeguard.vault.cards import checked_cvc, checked_expiry, normalized_number
from tradeguard.vault.keys import load_vault_keys
from tradeguard.vault.problems import VaultProblem
from tradeguard.vault.settings import VaultSettings

NOW = datetime(2026, 12, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [("4242 4242 4242 4242", "4242424242424242"), ("4000-0000-0000-3220", "4000000000003220")],
)
def test_a_card_number_is_normalized(typed: str, digits: str) -> None:
    assert normalized_number(typed) == digits


@pytest.mark.parametrize(
    "typed", ["4242424242424241", "424242424242", "42424242424242424242", "4242a"]
)
def test_a_bad_card_number_is_refused(typed: str) -> None:
    with pytest.raises(VaultProblem) as refused:
        normalized_number(typed)
    assert refused.value.code == "VAULT_CARD_NUMBER_INVALID"


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


@pytest.mark.parametrize(
    ("month", "year", "code"),
    [
        (11, 2026, "VAULT_CARD_EXPIRED"),
        (0, 2030, "VAULT_CARD_EXPIRY_INVALID"),
        (1, 2099, "VAULT_CARD_EXPIRY_INVALID"),
    ],
)
def test_a_bad_expiry_is_refused(month: int, year: int, code: str) -> None:
    with pytest.raises(VaultProblem) as refused:
        checked_expiry(month, year, NOW)
    assert refused.value.code == code


def test_an_expiry_this_month_or_with_two_digits_is_accepted() -> None:
    assert checked_expiry(12, 2026, NOW) == (12, 2026)
    assert checked_expiry(1, 31, NOW) == (1, 2031)
    assert checked_cvc("0123") == "0123"
    with pytest.raises(VaultProblem):
        checked_cvc("12")


def test_vault_keys_fingerprint_and_seal(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    keys = load_vault_keys(tmp_path / "keys" / "vault.key", clock, "development")
    again = load_vault_keys(tmp_path / "keys" / "vault.key", clock, "development")
    other = load_vault_keys(tmp_path / "other.key", clock, "development")
    assert keys.fingerprint("4242424242424242") == again.fingerprint("4242424242424242")
    assert keys.fingerprint("4242424242424242") != other.fingerprint("4242424242424242")
    assert (tmp_path / "keys" / "vault.key").stat().st_mode & 0o077 == 0
    sealed = keys.seal("cus_123", "card-1")
    assert b"cus_123" not in sealed
    assert again.open(sealed, "card-1") == "cus_123"
    with pytest.raises(InvalidTag):
        keys.open(sealed, "card-2")  # bound to its row


def test_the_vaults_settings_are_its_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = "postgresql+psycopg://vault:secret@127.0.0.1:5432/vault"
    monkeypatch.setenv("TRADEGUARD_PAYMENTS_DATABASE_URL", url)
    monkeypatch.setenv("TRADEGUARD_PAYMENTS_PROCESSOR_API_KEY", "sk_live_example")
    vault = VaultSettings()
    assert vault.effective_database_url == url
    main = Settings(_env_file=None, var_dir=tmp_path)  # type: ignore[call-arg]
    dumped = main.model_dump_json()
    assert "vault:secret" not in dumped
    assert "sk_live_example" not in dumped


def test_production_refuses_the_sandbox_processor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEGUARD_PAYMENTS_ENV", "production")
    with pytest.raises(ValueError, match="SANDBOX_PROCESSOR"):
        VaultSettings()
    monkeypatch.setenv("TRADEGUARD_PAYMENTS_SANDBOX_PROCESSOR", "false")
    with pytest.raises(ValueError, match="PROCESSOR_API_KEY"):
        VaultSettings()
    monkeypatch.setenv("TRADEGUARD_PAYMENTS_PROCESSOR_API_KEY", "sk_live_operator")
    assert VaultSettings().env == "production"
