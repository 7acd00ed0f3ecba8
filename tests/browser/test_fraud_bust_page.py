"""Busting a trade from the fraud review page in a real Chromium, against ``tradeguard serve``
with the simulator and the simulated venues (as ``make run`` does): the reviewer opens the
taken-over customer's alert, sees the customer's trades, cancels once at the confirmation,
then busts the purchase with a reason; the shares leave the customer's position and the
trade is shown busted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_kit import new_tab, running_with_simulated_venues
from playwright.sync_api import Browser, expect
from test_fraud_pages import blocked_withdrawal, reviewer_signed_in_with_a_key, user_id
from test_market_pages import bought_three_aapl

from live_api import Api, Person
from support import LiveServer

pytestmark = pytest.mark.live_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_with_simulated_venues(tmp_path_factory.mktemp("live")) as server:
        yield server


def aapl_held(api: Api, token: str) -> int:
    positions = api.expect("GET", "/v1/positions", token=token)
    return sum(item["quantity"] for item in positions if item["symbol"] == "AAPL")


def test_review_when_reviewer_busts_a_trade_after_confirming_then_shares_reversed(
    browser: Browser, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(live_server)
    victim, victim_token = bought_three_aapl(api, live_server)
    assert aapl_held(api, victim_token) == 3
    victim_id = user_id(live_server, victim.username)
    blocked_withdrawal(live_server, monkeypatch, victim_id)
    reviewer = Person()
    api.sign_up(reviewer)

    with new_tab(browser, live_server) as tab:
        reviewer_signed_in_with_a_key(tab, reviewer)
        page = tab.open("/staff/fraud")
        page.locator("body[data-ready=true]").wait_for()
        page.get_by_role("button", name=f"Open {victim_id}").click()
        trades = page.get_by_role("list", name="Trades")
        bust = trades.get_by_role("button", name="Bust buy 3 AAPL at")
        expect(bust).to_be_visible()

        bust.click()
        dialog = page.get_by_role("dialog", name="Bust this trade?")
        expect(dialog).to_contain_text("buy 3 AAPL")
        dialog.get_by_role("button", name="Keep the trade").click()
        expect(dialog).to_be_hidden()
        assert aapl_held(api, victim_token) == 3

        bust.click()
        dialog.get_by_role("button", name="Bust the trade").click()  # no reason yet
        expect(dialog).to_be_visible()
        dialog.get_by_label("Reason for the bust").fill("bought in the attacker's session")
        dialog.get_by_role("button", name="Bust the trade").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("status")).to_contain_text("The trade is busted: -3 shares")
        expect(trades).to_contain_text("busted")
        expect(trades.get_by_role("button", name="Bust buy 3 AAPL at")).to_have_count(0)
    assert aapl_held(api, victim_token) == 0
