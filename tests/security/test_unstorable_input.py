"""Values a database cannot hold (NUL bytes) are answered like any other input, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

NUL = "ali\x00ce"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/login", {"login": NUL, "password": "violet-Harbor-trumpet-47-quilt"}),
        ("/v1/auth/login", {"login": f"{NUL}@example.com", "password": "x"}),
        ("/v1/auth/password/forgot", {"email": f"{NUL}@example.com"}),
        ("/v1/auth/verify-email", {"email": f"{NUL}@example.com", "code": "123456"}),
        ("/v1/auth/mfa/verify", {"challenge_id": NUL, "method": "totp", "code": "123456"}),
    ],
)
def test_input_when_it_holds_a_nul_byte_then_answered_never_a_500(
    client: TestClient, path: str, body: dict[str, str]
) -> None:
    response = client.post(path, json=body)

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
