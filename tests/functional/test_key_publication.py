"""Public signing keys are published so verifiers need nothing secret."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_signing_keys_when_listed_then_one_active_key_per_purpose(client: TestClient) -> None:
    response = client.get("/v1/keys/signing")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert sorted(key["purpose"] for key in keys) == ["audit", "token"]
    assert all(key["active"] and key["alg"] == "EdDSA" for key in keys)
    assert all(len(_unb64(key["public_key"])) == 32 for key in keys)


def test_jwks_when_fetched_then_token_keys_as_okp_ed25519(client: TestClient) -> None:
    published = {key["kid"]: key for key in client.get("/v1/keys/signing").json()["keys"]}
    jwks = client.get("/.well-known/jwks.json").json()
    [key] = jwks["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert published[key["kid"]]["purpose"] == "token"
    assert _unb64(key["x"]) == _unb64(published[key["kid"]]["public_key"])
    assert "d" not in key
