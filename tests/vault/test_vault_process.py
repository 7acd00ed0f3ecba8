"""The vault process: mutual TLS, tokenization through the sandbox processor, declines,
3-D Secure, its own problem documents, and no card number in its database."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tradeguard.cards.client import (
    VaultClient,
    VaultRefusalError,
    VaultUnavailableError,
    client_context,
)
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.vault.certificates import ClientCertificatePaths
from vault.vault_process import RunningVault, issue_certificates

pytestmark = pytest.mark.live_server

VISA = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"
DECLINED_AT_ATTACH = "4000000000000002"
NEEDS_3DS = "4000000000003220"
EVERY_TEST_NUMBER = (VISA, DECLINED_AT_CHARGE, DECLINED_AT_ATTACH, NEEDS_3DS)


def test_a_card_is_tokenized_confirmed_and_charged_once_per_key(vault: RunningVault) -> None:
    card = vault.add_card("owner-a", "4242 4242 4242 4242")
    assert (card["brand"], card["last4"], card["status"]) == ("Visa", "4242", "active")
    assert len(card["fingerprint"]) == 64
    client = vault.client()
    first = client.charge("owner-a", card["id"], 12_345, "deposit-key-1")
    again = client.charge("owner-a", card["id"], 12_345, "deposit-key-1")
    assert first["outcome"] == "succeeded"
    assert again == first
    with pytest.raises(VaultRefusalError) as conflict:
        client.charge("owner-a", card["id"], 99_999, "deposit-key-1")
    assert (conflict.value.status, conflict.value.code) == (409, "VAULT_IDEMPOTENCY_CONFLICT")
    assert [c["id"] for c in client.cards("owner-a")] == [card["id"]]


def test_declines_and_3d_secure_give_clear_outcomes(vault: RunningVault) -> None:
    client = vault.client()
    declined = vault.add_card("owner-b", DECLINED_AT_CHARGE)
    assert client.charge("owner-b", declined["id"], 500, "decline-key-1")["outcome"] == "declined"
    secure = vault.add_card("owner-b", NEEDS_3DS)
    outcome = client.charge("owner-b", secure["id"], 500, "3ds-key-0001")
    assert outcome["outcome"] == "authentication_required"
    ticket = client.issue_ticket("owner-b")["ticket"]
    status, problem = vault.tokenize(
        {
            "ticket": ticket,
            "number": DECLINED_AT_ATTACH,
            "exp_month": 1,
            "exp_year": 2032,
            "cvc": "1",
        }
        | {"cvc": "123"}
    )
    assert (status, problem["code"]) == (402, "VAULT_CARD_REFUSED")


def test_another_owners_card_is_not_found(vault: RunningVault) -> None:
    card = vault.add_card("owner-c", VISA)
    client = vault.client()
    for attempt in (
        lambda: client.charge("intruder", card["id"], 100, "steal-key-01"),
        lambda: client.remove("intruder", card["id"]),
        lambda: client.confirm("intruder", card["id"]),
    ):
        with pytest.raises(VaultRefusalError) as refused:
            attempt()
        assert (refused.value.status, refused.value.code) == (404, "VAULT_CARD_NOT_FOUND")
    assert client.cards("intruder") == []
    client.remove("owner-c", card["id"])
    assert client.cards("owner-c") == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"number": "4242424242424241"}, 422, "VAULT_CARD_NUMBER_INVALID"),
        ({"number": "4242-abcd"}, 422, "VAULT_CARD_NUMBER_INVALID"),
        ({"exp_year": 2001}, 422, "VAULT_CARD_EXPIRED"),
        ({"cvc": "12a"}, 422, "VAULT_CARD_CVC_INVALID"),
        ({"exp_month": 13}, 422, "VAULT_VALIDATION_FAILED"),
        ({"extra": "member"}, 422, "VAULT_VALIDATION_FAILED"),
        ({"ticket": "x" * 40}, 403, "VAULT_TICKET_INVALID"),
    ],
)
def test_bad_input_gets_the_vaults_own_problem_documents(
    vault: RunningVault, change: dict[str, object], status: int, code: str
) -> None:
    ticket = vault.client().issue_ticket("owner-d")["ticket"]
    body = {"ticket": ticket, "number": VISA, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    answer_status, problem = vault.tokenize(body | change)
    assert (answer_status, problem["code"]) == (status, code)
    assert problem["type"].startswith("https://tradeguard.dev/problems/vault/")


def test_a_ticket_is_spent_once(vault: RunningVault) -> None:
    ticket = vault.client().issue_ticket("owner-e")["ticket"]
    body = {"ticket": ticket, "number": VISA, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    assert vault.tokenize(body)[0] == 201
    status, problem = vault.tokenize(body)
    assert (status, problem["code"]) == (403, "VAULT_TICKET_INVALID")


def _client_with(vault: RunningVault, context: ssl.SSLContext) -> VaultClient:
    return VaultClient("127.0.0.1", vault.port, context, 5)


def test_the_vault_refuses_a_client_without_a_certificate(vault: RunningVault) -> None:
    bare = ssl.create_default_context(cafile=str(vault.ca.ca_cert))
    with pytest.raises(VaultUnavailableError):
        _client_with(vault, bare).health()


def test_the_vault_refuses_a_certificate_from_another_ca(
    vault: RunningVault, tmp_path: Path
) -> None:
    other = tmp_path / "other-ca"
    issue_certificates(other)
    forged = ClientCertificatePaths.under(other)
    context = client_context(vault.ca.ca_cert, forged.cert, forged.key)
    with pytest.raises(VaultUnavailableError):
        _client_with(vault, context).health()


def test_the_vault_refuses_the_servers_own_certificate_as_a_client(vault: RunningVault) -> None:
    server_pair = DevCertificatePaths.under(vault.tls_dir)
    context = client_context(vault.ca.ca_cert, server_pair.cert, server_pair.key)
    with pytest.raises(VaultUnavailableError):
        _client_with(vault, context).health()


def test_the_intake_listener_serves_only_tokenization(vault: RunningVault) -> None:
    bare = ssl.create_default_context(cafile=str(vault.ca.ca_cert))
    intake = VaultClient("127.0.0.1", vault.intake_port, bare, 5)
    with pytest.raises(VaultRefusalError):
        intake.issue_ticket("owner-f")


def test_no_card_number_in_the_vault_database(vault: RunningVault) -> None:
    vault.add_card("owner-g", VISA)
    if vault.database_file is not None:
        raw = b"".join(path.read_bytes() for path in vault.database_file.parent.glob("vault.db*"))
    else:
        raw = _postgres_dump(vault)
    for number in EVERY_TEST_NUMBER:
        assert number.encode() not in raw
        assert number[-8:].encode() not in raw  # no longer part of a number either


def _postgres_dump(vault: RunningVault) -> bytes:
    url = (vault.workdir / "database-url").read_text()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = []
            for table in ("vault_cards", "vault_charges", "vault_intake_tickets"):
                rows += [
                    repr(tuple(row))
                    for row in connection.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
                ]
    finally:
        engine.dispose()
    return "\n".join(rows).encode()


def test_calls_share_one_kept_mutual_tls_connection_until_closed(vault: RunningVault) -> None:
    client = vault.client()
    assert client.context is not None
    for _ in range(20):
        assert client.health()["processor"]
    assert client.context.session_stats()["connect"] == 1  # one handshake for 20 calls
    client.close()
    assert not client.connected
    client.cards("owner-h")  # a call after closing opens a new connection
    assert client.context.session_stats()["connect"] == 2
    client.close()
