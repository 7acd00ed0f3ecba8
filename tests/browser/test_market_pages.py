"""The market pages in a real Chromium against ``tradeguard serve`` (gateway workers and a
desk process running the quote simulator and routing to the simulated venues, as ``make
run`` does): a trader's live quotes, the order ticket, positions at market after a trade,
the public Rule 606 report page, and compliance's routing and execution quality page."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from decimal import Decimal

import pytest
from browser_kit import new_tab, running_with_simulated_venues, sign_in_with_totp
from playwright.sync_api import Browser, expect
from test_onboarding_pages import reviewer_signed_in_with_a_key

from live_api import Api, Person, eventually, var_dir_of
from support import TRADEGUARD, LiveServer

pytestmark = pytest.mark.live_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_with_simulated_venues(tmp_path_factory.mktemp("live")) as server:
        yield server


def trader(api: Api, server: LiveServer, kind: str) -> tuple[Person, str]:
    """A signed-up trader with an account opened (and funded) by ``tradeguard accounts open``."""
    person = Person()
    token = api.sign_up_with_totp(person)["access_token"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEGUARD_")}
    env["TRADEGUARD_VAR_DIR"] = str(var_dir_of(server))
    subprocess.run(
        [TRADEGUARD, "accounts", "open", person.email, "--kind", kind, "--deposit", "50000.00"],
        cwd=var_dir_of(server).parent,
        env=env,
        check=True,
        capture_output=True,
    )
    return person, token


def reference_of(api: Api, token: str, symbol: str) -> Decimal:
    found: list[Decimal] = []

    def quoted() -> bool:
        [quote] = api.expect("GET", f"/v1/market/quotes?symbols={symbol}", token=token)
        if quote["fresh"]:
            found.append(Decimal(quote["reference_price"]))
        return bool(found)

    eventually(quoted, seconds=15)
    return found[0]


def bought_three_aapl(api: Api, server: LiveServer) -> tuple[Person, str]:
    """A cash trader whose bid at the reference price filled 3 AAPL against a margin
    trader's market short sale; the buyer and the buyer's token."""
    buyer, buyer_token = trader(api, server, "cash")
    _, seller_token = trader(api, server, "margin")
    price = reference_of(api, buyer_token, "AAPL")
    bid = {"client_order_id": "buyer-bid", "symbol": "AAPL", "side": "buy", "type": "limit",
           "quantity": 3, "limit_price": str(price)}  # fmt: skip
    assert api.call("POST", "/v1/orders", bid, buyer_token)[0] == 201
    sell = {"client_order_id": "seller-sell", "symbol": "AAPL", "side": "sell_short",
            "type": "market", "quantity": 3}  # fmt: skip
    status, sold = api.call("POST", "/v1/orders", sell, seller_token)
    assert (status, sold["filled_quantity"]) == (201, 3), sold
    return buyer, buyer_token


def test_a_trader_watches_live_quotes_and_sees_a_fill_at_market(
    browser: Browser, live_server: LiveServer
) -> None:
    api = Api(live_server)
    alice, _ = bought_three_aapl(api, live_server)
    with new_tab(browser, live_server) as tab:
        sign_in_with_totp(tab, alice)
        page = tab.open("/quotes")
        row = page.locator("#quotes tr[data-symbol=AAPL]")
        expect(row.locator("td").nth(7)).to_have_text("trading")
        expect(row.locator("td").nth(0)).to_have_text(re.compile(r"^\d+\.\d{2,4}$"))  # the bid
        first = page.locator("#quotes-updated").text_content()
        expect(page.locator("#quotes-updated")).not_to_have_text(first or "")  # refreshed
        page.get_by_role("link", name="Positions").click()
        tab.wait_for_path("/positions")
        position = page.locator("#positions tr[data-symbol=AAPL]")
        expect(position.locator("td").nth(0)).to_have_text("3")
        expect(position.locator("td").nth(3)).not_to_have_text("—")  # a market value
        expect(page.locator("#equity-at-market")).to_have_text(re.compile(r"^\$\d"))
        assert page.locator("#positions-empty").is_hidden()


def test_anyone_reads_the_quarterly_order_routing_report(
    browser: Browser, live_server: LiveServer
) -> None:
    with new_tab(browser, live_server) as tab:
        errors: list[str] = []
        tab.page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page = tab.open("/disclosures/order-routing")
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(r"^Order routing report, Q[1-4] \d{4}$"))
        expect(page.locator("#report-facts")).to_contain_text("TradeGuard Securities")
        assert page.locator("section.report-month").count() == 3
        older = page.get_by_role("navigation", name="Quarters").get_by_role("link").nth(1)
        latest = heading.text_content() or ""
        older.click()
        expect(heading).not_to_have_text(latest)  # the quarter before
        assert errors == []


def test_a_trader_places_an_order_from_the_ticket_and_compliance_sees_its_route(
    browser: Browser, live_server: LiveServer
) -> None:
    api = Api(live_server)
    carol, carol_token = trader(api, live_server, "cash")
    reference_of(api, carol_token, "MSFT")
    with new_tab(browser, live_server) as tab:
        sign_in_with_totp(tab, carol)
        page = tab.open("/quotes")
        expect(page.locator("#quotes tr[data-symbol=MSFT] td").nth(7)).to_have_text("trading")
        page.get_by_role("button", name="MSFT", exact=True).click()
        expect(page.get_by_label("Symbol")).to_have_value("MSFT")
        expect(page.get_by_label("Limit price")).to_have_value(re.compile(r"^\d+\.\d{2,4}$"))
        page.get_by_label("Type").select_option("market")
        expect(page.get_by_label("Limit price")).to_be_disabled()
        page.get_by_label("Quantity (shares)").fill("2")
        page.get_by_role("button", name="Place order").click()
        expect(page.locator("#ticket-result")).to_have_text(
            re.compile(r"^Order MSFT buy 2: (open|filled|partially_filled)")
        )
    orders = api.expect("GET", "/v1/orders", token=carol_token)
    [order] = [item for item in orders if item["symbol"] == "MSFT"]
    officer = Person()
    api.sign_up(officer)
    with new_tab(browser, live_server) as tab:
        reviewer_signed_in_with_a_key(tab, officer)
        page = tab.open("/staff/routing")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        decision = page.locator(f"#decisions tr[data-key='{order['id']}']")
        expect(decision.locator("td").nth(3)).to_have_text("market")
        venue = decision.locator("td").nth(5).text_content() or ""
        assert venue in {"XNYS", "XNAS", "ARCX", "INTERNAL"}, venue
        expect(page.locator(f"#quality tr[data-key='{venue}']")).to_be_visible()
        page.get_by_label("Symbol").fill("NONE")
        page.get_by_role("button", name="Show the latest").click()
        expect(page.locator("#decisions-empty")).to_be_visible()


def test_a_customer_opening_the_routing_page_sees_no_routing_record(
    browser: Browser, live_server: LiveServer
) -> None:
    api = Api(live_server)
    dave, _ = trader(api, live_server, "cash")
    with new_tab(browser, live_server) as tab:
        sign_in_with_totp(tab, dave)
        page = tab.open("/staff/routing")
        expect(page.get_by_role("alert")).not_to_be_empty()
        assert page.locator("#decisions tr").count() == 0
        assert page.locator("#quality tr").count() == 0
