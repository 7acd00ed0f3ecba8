"""The cards page in Chromium, against ``serve`` with the vault supervised: a trader adds a
card (its number goes to the vault's intake endpoint, never to this server), sees it
listed, deposits by card; afterwards no test card number is in the main database, the
vault's database, the server's log (the vault's lines included) or a backup."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import chromium, new_tab, sign_in_with_totp
from playwright.sync_api import Browser, expect

from live_api import Api, Person
from support import TRADEGUARD, LiveServer, initialise_server, serving
from vault.vault_process import free_port

pytestmark = pytest.mark.live_server
VISA = "4242424242424242"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cards-page")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[LiveServer]:
    values = {
        "VAULT_MODE": "supervised",
        "VAULT_PORT": free_port(),
        "VAULT_INTAKE_PORT": free_port(),
        "VAULT_SANDBOX_PORT": free_port(),
        "MARKET_DATA": "off",
    }
    (workdir / ".env").write_text("".join(f"TRADEGUARD_{k}={v}\n" for k, v in values.items()))
    initialise_server(workdir)
    with serving(workdir) as (running, _):
        _wait_for_vault(running)
        yield running


def _wait_for_vault(server: LiveServer) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, body = server.get("/readyz")
        if json.loads(body)["checks"]["payment_vault"]["ok"]:
            return
        time.sleep(0.5)
    pytest.fail("the supervised vault did not become ready")


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Browser]:
    with chromium(server) as launched:
        yield launched


def _cli(workdir: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env["TRADEGUARD_VAR_DIR"] = str(workdir / "var")
    subprocess.run([TRADEGUARD, *args], cwd=workdir, env=env, check=True, capture_output=True)


def test_a_trader_adds_a_card_and_deposits_by_card(
    server: LiveServer, browser: Browser, workdir: Path
) -> None:
    person = Person()
    Api(server).sign_up_with_totp(person)
    _cli(workdir, "accounts", "open", person.email, "--kind", "cash")
    sent: list[tuple[str, str]] = []
    with new_tab(browser, server) as tab:
        tab.page.on("request", lambda request: sent.append((request.url, request.post_data or "")))
        sign_in_with_totp(tab, person)
        page = tab.open("/funding/cards")
        tab.page.locator("body[data-ready=true]").wait_for()
        page.get_by_label("Card number").fill("4242 4242 4242 4242")
        page.get_by_label("Expiry month").fill("12")
        page.get_by_label("Expiry year").fill("2031")
        page.get_by_label("Security code").fill("123")
        page.get_by_role("button", name="Add card").click()
        expect(page.get_by_role("status")).to_have_text("The card was added.")
        expect(page.get_by_role("list", name="Cards")).to_contain_text("Visa ending 4242")
        expect(page.get_by_label("Card number")).to_have_value("")
        page.get_by_label("Amount (dollars)").fill("25.00")
        page.get_by_role("button", name="Deposit").click()
        expect(page.get_by_role("status")).to_have_text("Deposited 25.00.")
    main_origin = f"https://localhost:{server.port}/"
    to_main = [body for url, body in sent if url.startswith(main_origin)]
    to_vault = [body for url, body in sent if url.endswith("/v1/tokenize")]
    assert to_main, "the page called this server"
    assert all("4242" not in body for body in to_main)
    assert any("4242 4242 4242 4242" in body for body in to_vault)
    assert Api(server).expect("GET", "/readyz")["status"] == "ready"
    _cli(workdir, "backup", "create", str(workdir / "backup"))
    _assert_nowhere(workdir, VISA)


def _assert_nowhere(workdir: Path, number: str) -> None:
    """Raw bytes of both databases, the log and the backup hold no card number."""
    places = [
        *(workdir / "var").glob("tradeguard.db*"),
        *(workdir / "var" / "payments").glob("vault.db*"),
        workdir / "server.log",
        *(workdir / "backup").rglob("*"),
    ]
    files = [path for path in places if path.is_file()]
    assert any(path.name == "vault.db" for path in files)
    for path in files:
        raw = path.read_bytes()
        assert number.encode() not in raw, path
        assert b"4242 4242 4242 4242" not in raw, path
