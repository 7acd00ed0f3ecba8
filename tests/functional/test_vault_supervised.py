"""``tradeguard serve`` with the vault supervised: it starts the vault beside the desk and
the workers, and ``/readyz`` reports the vault reached over mutual TLS."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from support import initialise_server, serving
from vault.vault_process import free_port

pytestmark = pytest.mark.live_server


def test_serve_starts_the_vault_and_readyz_reports_it(tmp_path: Path) -> None:
    settings = {
        "VAULT_MODE": "supervised",
        "VAULT_PORT": free_port(),
        "VAULT_INTAKE_PORT": free_port(),
        "VAULT_SANDBOX_PORT": free_port(),
        "SERVE_WORKERS": 2,
        "MARKET_DATA": "off",
    }
    (tmp_path / ".env").write_text(
        "".join(f"TRADEGUARD_{name}={value}\n" for name, value in settings.items())
    )
    initialise_server(tmp_path)
    assert (tmp_path / "var" / "tls" / "vault-client.pem").exists()
    with serving(tmp_path) as (server, _):
        deadline = time.monotonic() + 60
        check: dict[str, object] = {}
        while time.monotonic() < deadline:
            _, body = server.get("/readyz")
            check = json.loads(body)["checks"]["payment_vault"]
            if check["ok"]:
                break
            time.sleep(0.5)
        assert check == {"ok": True, "detail": "reachable over mutual TLS, processor reachable"}
    assert (tmp_path / "var" / "payments" / "vault.db").exists()
    assert not (tmp_path / "var" / "tradeguard.db").read_bytes().count(b"vault_cards")
