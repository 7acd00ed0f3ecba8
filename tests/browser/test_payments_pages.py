"""Money movement pages in Chromium, against ``serve``: a trader links a bank account,
confirms its micro-deposits (a wrong pair first), deposits by ACH and waits for the settle
job, withdraws with a step-up and both codes (a wrong pair first, then new codes), cancels
one; a second link in another name is held. A staff reviewer approves one withdrawal,
gives the first of two approvals to a larger one and is refused the second, and rejects
the held link, which its owner then removes. A trader opening the staff page is refused
and sees nothing. No page shows a full account number, and none is in the database, the
log or the outbox. A deposit whose answer was lost is pressed again and made once."""

from __future__ import annotations

import http.client
import os
import secrets
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_kit import Tab, chromium, new_tab, sign_in_with_totp
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import select
from test_onboarding_pages import reviewer_signed_in_with_a_key

from live_api import Api, Person, code_in, count_messages, var_dir_of, wait_for_message
from support import TRADEGUARD, LiveServer, initialise_server, serving
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.short_lived_cache import DEFAULT_TTL_SECONDS as SESSION_CACHE_SECONDS
from tradeguard.payments.models import BankLinkRow

pytestmark = pytest.mark.live_server
ROUTING = "021000021"
OWN_ACCOUNT = "9876543210123"
OTHER_ACCOUNT = "5554443332221"
LOST_ACCOUNT = "1122334455667"
CODE_KIND = "payments.withdrawal.code"
SETTLE_WAIT_SECONDS = 30.0
SETTINGS = {
    "MARKET_DATA": "off",
    "SERVE_WORKERS": 1,  # starts sooner on a loaded machine
    "OTP_RESEND_SECONDS": 0,  # four withdrawals' codes in a minute
    "OTP_SENDS_PER_HOUR": 20,
    "PAYMENTS_COOLING_HOURS": 0,
    "PAYMENTS_ACH_SETTLEMENT_DAYS": 0,
    "PAYMENTS_SETTLE_SECONDS": 1,
    "PAYMENTS_REVIEW_THRESHOLD_CENTS": 10_000,  # above 100.00: review
    "PAYMENTS_SECOND_REVIEW_THRESHOLD_CENTS": 20_000,  # above 200.00: two reviewers
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payments-pages")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[LiveServer]:
    (workdir / ".env").write_text("".join(f"TRADEGUARD_{k}={v}\n" for k, v in SETTINGS.items()))
    initialise_server(workdir)
    with serving(workdir) as (running, _):
        yield running


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Browser]:
    with chromium(server) as launched:
        yield launched


@dataclass
class Trader(Person):
    """A person with a phone for the withdrawal's SMS code."""

    phone: str = ""


def _cli(workdir: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env["TRADEGUARD_VAR_DIR"] = str(workdir / "var")
    subprocess.run([TRADEGUARD, *args], cwd=workdir, env=env, check=True, capture_output=True)


def ready_trader(server: LiveServer, workdir: Path) -> Trader:
    """Signed up with an app, Ann Lee's legal name on file, an SMS number, an open account."""
    trader, api = Trader(), Api(server)
    trader.phone = f"+1617555{secrets.randbelow(10_000):04d}"
    token = api.sign_up_with_totp(trader)["access_token"]
    legal_name = {"legal_name": {"given": "Ann", "family": "Lee"}}
    api.expect("PUT", "/v1/kyc/application", legal_name, token)
    api.step_up_with_totp(trader, token)
    factor = api.expect("POST", "/v1/mfa/sms", {"phone": trader.phone}, token)
    code = code_in(wait_for_message(server, trader.phone, "otp.sms")["text"])
    api.expect("POST", f"/v1/mfa/factors/{factor['id']}/confirm", {"code": code}, token)
    _cli(workdir, "accounts", "open", trader.email, "--kind", "cash")
    return trader


def answer_lost(server: LiveServer) -> Callable[[Route], None]:
    """A route handler: the request reaches the server, its answer never reaches the page."""

    def handle(route: Route) -> None:
        request, kept = route.request, ("authorization", "content-type", "idempotency-key")
        headers = {k: v for k, v in request.all_headers().items() if k in kept}
        connection = http.client.HTTPSConnection(
            "localhost", server.port, context=server.client_context(), timeout=15
        )
        try:
            path = urlsplit(request.url).path
            connection.request(request.method, path, body=request.post_data, headers=headers)
            connection.getresponse().read()
        finally:
            connection.close()
        route.abort()

    return handle


def micro_amounts(server: LiveServer, monkeypatch: pytest.MonkeyPatch, last4: str) -> list[str]:
    """The two micro-deposits of the link ending ``last4``, as the bank statement shows them."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(var_dir_of(server)))
    with command_runtime() as runtime, runtime.sessions() as db:
        link = db.scalars(select(BankLinkRow).where(BankLinkRow.last4 == last4)).one()
        return [f"0.{int(cents):02d}" for cents in link.micro_amounts.split(",")]


def ach_file_sent(server: LiveServer) -> None:
    """As when operations send the day's NACHA file of pulls: a pull settles once sent."""
    with sqlite3.connect(var_dir_of(server) / "tradeguard.db") as database:
        database.execute(
            "UPDATE payment_deposits SET sent_at_ns = ? "
            "WHERE method = 'ach' AND sent_at_ns IS NULL",
            (time.time_ns(),),
        )


def wrong(amounts: list[str]) -> list[str]:
    """A pair that is not the right one: the first amount a cent off."""
    return [f"0.{int(amounts[0][2:]) % 99 + 1:02d}", amounts[1]]


def step_up_goes_stale(server: LiveServer, username: str) -> None:
    """As if the sign-in's factor check were long past: the next withdrawal asks again."""
    with sqlite3.connect(var_dir_of(server) / "tradeguard.db") as database:
        database.execute(
            "UPDATE auth_sessions SET step_up_at_ns = NULL"
            " WHERE user_id = (SELECT id FROM users WHERE username = ?)",
            (username,),
        )
    time.sleep(SESSION_CACHE_SECONDS + 0.5)


# ---------------------------------------------------------------- the trader's pages


def link_account(page: Page, holder: str, number: str) -> None:
    page.get_by_label("Account holder name").fill(holder)
    page.get_by_label("Routing number").fill(ROUTING)
    page.get_by_label("Account number").fill(number)
    page.get_by_role("button", name="Link bank account").click()
    expect(page.get_by_role("status")).to_contain_text(f"Checking ending {number[-4:]} is linked")
    expect(page.get_by_label("Account number")).to_have_value("")


def confirm_amounts(page: Page, last4: str, amounts: list[str]) -> None:
    page.get_by_label("Bank account", exact=True).select_option(label=f"Checking ending {last4}")
    page.get_by_label("First amount (dollars)").fill(amounts[0])
    page.get_by_label("Second amount (dollars)").fill(amounts[1])
    page.get_by_role("button", name="Confirm amounts").click()


def fund(tab: Tab, server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Link Ann's account (wrong amounts, then right), deposit by ACH; hold a second link."""
    page = tab.open("/funding")
    page.locator("body[data-ready=true]").wait_for()
    expect(page.get_by_role("link", name="add a card")).to_have_attribute("href", "/funding/cards")
    link_account(page, "Ann M. Lee", OWN_ACCOUNT)
    links = page.get_by_role("list", name="Bank accounts")
    expect(links).to_contain_text("waiting for you to confirm the two small deposits")
    amounts = micro_amounts(server, monkeypatch, OWN_ACCOUNT[-4:])
    confirm_amounts(page, OWN_ACCOUNT[-4:], wrong(amounts))
    expect(page.get_by_role("alert")).to_contain_text("Check both amounts on your bank statement")
    confirm_amounts(page, OWN_ACCOUNT[-4:], amounts)
    expect(page.get_by_role("status")).to_contain_text("Checking ending 0123 is verified")
    page.get_by_label("Deposit amount (dollars)").fill("1000.50")
    page.get_by_role("button", name="Deposit", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Deposit of 1000.50 requested")
    ach_file_sent(server)

    link_account(page, "Bob Stone", OTHER_ACCOUNT)
    confirm_amounts(page, OTHER_ACCOUNT[-4:], micro_amounts(server, monkeypatch, "2221"))
    expect(page.get_by_role("status")).to_contain_text("held while we check")
    expect(links).to_contain_text("held while we check the holder name")
    assert OWN_ACCOUNT not in page.content()
    assert OTHER_ACCOUNT not in page.content()


def wait_until_settled(tab: Tab) -> Page:
    """Reload the withdrawals page until the settle job has settled the ACH deposit."""
    deadline = time.monotonic() + SETTLE_WAIT_SECONDS
    while True:
        page = tab.open("/funding/withdrawals")
        page.locator("body[data-ready=true]").wait_for()
        if page.locator("#withdrawable").inner_text() == "1000.50":
            break
        assert time.monotonic() < deadline, "the ACH deposit did not settle"
        time.sleep(1)
    history = page.locator("#history tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Deposit (ACH)")
    expect(history.first).to_contain_text("settled")
    return page


def request_withdrawal(page: Page, amount: str) -> None:
    page.get_by_label("Withdrawal amount (dollars)").fill(amount)
    page.get_by_role("button", name="Request withdrawal").click()


def step_up_with_app(page: Page, trader: Trader) -> None:
    dialog = page.get_by_role("dialog", name="Confirm it is you")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Use a code from your authenticator app").click()
    dialog.get_by_label("Code", exact=True).fill(trader.totp_code())
    dialog.get_by_role("button", name="Verify").click()
    expect(dialog).to_be_hidden()


def enter_codes(page: Page, server: LiveServer, trader: Trader, sent_before: int) -> None:
    """The newest email and SMS codes, once the withdrawal's have arrived."""
    email = wait_for_message(server, trader.email, CODE_KIND, after=sent_before)
    sms = wait_for_message(server, trader.phone, CODE_KIND, after=sent_before)
    page.get_by_label("Code from the email").fill(code_in(email["text"]))
    page.get_by_label("Code from the text message").fill(code_in(sms["text"]))
    page.get_by_role("button", name="Confirm withdrawal").click()


def withdraw(page: Page, server: LiveServer, trader: Trader, amount: str) -> None:
    """Request and confirm a withdrawal (the step-up is still fresh)."""
    sent = count_messages(server, trader.email, CODE_KIND)
    request_withdrawal(page, amount)
    expect(page.get_by_label("Code from the email")).to_be_visible()
    enter_codes(page, server, trader, sent)


def withdrawals(tab: Tab, server: LiveServer, trader: Trader) -> None:
    """Step-up and a wrong pair of codes first; 50 approved, 150 and 250 held, 20 cancelled."""
    page = wait_until_settled(tab)
    step_up_goes_stale(server, trader.username)
    request_withdrawal(page, "50.00")
    step_up_with_app(page, trader)
    expect(page.get_by_role("status")).to_contain_text("Enter the code from the email")
    page.get_by_label("Code from the email").fill("000000")
    page.get_by_label("Code from the text message").fill("000000")
    page.get_by_role("button", name="Confirm withdrawal").click()
    expect(page.get_by_role("alert")).to_contain_text("Send new codes")
    page.get_by_role("button", name="Send new codes").click()
    expect(page.get_by_role("status")).to_contain_text("New codes are on their way")
    enter_codes(page, server, trader, 1)
    expect(page.get_by_role("status")).to_have_text("The withdrawal of 50.00 is approved.")
    withdraw(page, server, trader, "150.00")
    expect(page.get_by_role("status")).to_have_text("The withdrawal of 150.00 is in review.")
    withdraw(page, server, trader, "250.00")
    listed = page.get_by_role("list", name="Withdrawals")
    expect(listed).to_contain_text("in review (0 of 2 reviews)")
    request_withdrawal(page, "20.00")
    expect(page.get_by_label("Code from the email")).to_be_visible()
    page.get_by_role("button", name="Cancel the withdrawal of 20.00").click()
    expect(page.get_by_role("status")).to_contain_text("20.00 is cancelled")
    expect(page.locator("#withdrawable")).to_have_text("550.50")
    statuses = page.locator("#history tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.status)"
    )
    assert statuses == ["cancelled", "in_review", "in_review", "approved", "settled"]
    request_withdrawal(page, "600.00")
    expect(page.get_by_role("alert")).to_contain_text("Withdraw at most the amount shown")
    assert OWN_ACCOUNT not in page.content()


# ---------------------------------------------------------------- the staff page


def review(page: Page, name: str, reason: str, decision: str) -> None:
    page.get_by_role("button", name=name).click()
    page.get_by_label("Reason for the decision").fill(reason)
    page.get_by_role("button", name=decision, exact=True).click()


def staff_review(tab: Tab) -> None:
    """Approve 150; first of two approvals on 250, then refused a second; reject the link."""
    page = tab.open("/staff/payments")
    page.locator("body[data-ready=true]").wait_for()
    expect(page.locator("#withdrawal-queue tbody tr")).to_have_count(2)
    expect(page.locator("#link-queue tbody tr")).to_have_count(1)
    review(page, "Review the withdrawal of 150.00", "Salary on file covers it", "Approve")
    expect(page.get_by_role("status")).to_have_text("The withdrawal is approved.")
    expect(page.locator("#withdrawal-queue tbody tr")).to_have_count(1)
    expect(page.locator("#decision")).to_be_hidden()  # decided: it cannot be decided again
    review(page, "Review the withdrawal of 250.00", "Matches the deposit pattern", "Approve")
    expect(page.get_by_role("status")).to_contain_text("1 of 2 approvals")
    expect(page.locator("#decision-state")).to_have_text("in review: 1 of 2 approvals")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("a second, different reviewer must")
    expect(page.locator("#withdrawal-queue tbody tr")).to_contain_text("1 of 2 approvals")
    review(page, "Review the bank link Checking ending 2221", "Not the customer's name", "Reject")
    expect(page.get_by_role("status")).to_have_text("The bank link is rejected.")
    expect(page.locator("#link-queue tbody tr")).to_have_count(0)
    expect(page.locator("#decision")).to_be_hidden()
    assert OTHER_ACCOUNT not in page.content()


def assert_no_account_number(workdir: Path) -> None:
    """Raw bytes of the database, the server's log and the outbox hold no account number."""
    var = workdir / "var"
    places = [*var.glob("tradeguard.db*"), workdir / "server.log", *(var / "outbox").glob("*")]
    assert any(path.name == "tradeguard.db" for path in places)
    for path in places:
        raw = path.read_bytes()
        assert OWN_ACCOUNT.encode() not in raw, path
        assert OTHER_ACCOUNT.encode() not in raw, path


def test_a_trader_funds_and_withdraws_and_staff_review_the_held_withdrawals(
    server: LiveServer, browser: Browser, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trader, reviewer = ready_trader(server, workdir), Person()
    Api(server).sign_up(reviewer)
    with new_tab(browser, server) as tab:
        sign_in_with_totp(tab, trader)
        fund(tab, server, monkeypatch)
        withdrawals(tab, server, trader)
        page = tab.open("/staff/payments")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.get_by_role("alert")).to_contain_text("for staff with the payments review")
        expect(page.locator("#withdrawal-queue tbody tr")).to_have_count(0)
    with new_tab(browser, server) as tab:
        reviewer_signed_in_with_a_key(tab, reviewer)
        staff_review(tab)
    with new_tab(browser, server) as tab:
        sign_in_with_totp(tab, trader)
        page = tab.open("/funding/withdrawals")
        page.locator("body[data-ready=true]").wait_for()
        listed = page.get_by_role("list", name="Withdrawals")
        expect(listed).to_contain_text("in review (1 of 2 reviews)")
        expect(page.locator("[data-status=approved]")).to_have_count(4)  # 2 listed, 2 in history
        page = tab.open("/funding")
        page.locator("body[data-ready=true]").wait_for()
        links = page.get_by_role("list", name="Bank accounts")
        expect(links).to_contain_text("not linked: not in your legal name")
        page.get_by_role("button", name="Remove Checking ending 2221").click()
        expect(page.get_by_role("status")).to_have_text("Checking ending 2221 was removed.")
        expect(links.get_by_role("listitem")).to_have_count(1)
    assert_no_account_number(workdir)


def test_a_deposit_whose_answer_was_lost_is_made_once_when_deposit_is_pressed_again(
    server: LiveServer, browser: Browser, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server took the deposit but the connection dropped before its answer: pressing
    Deposit again sends the same Idempotency-Key, so the server answers with that deposit
    instead of pulling the money twice."""
    trader, last4 = ready_trader(server, workdir), LOST_ACCOUNT[-4:]
    with new_tab(browser, server) as tab:
        sign_in_with_totp(tab, trader)
        page = tab.open("/funding")
        page.locator("body[data-ready=true]").wait_for()
        link_account(page, "Ann Lee", LOST_ACCOUNT)
        confirm_amounts(page, last4, micro_amounts(server, monkeypatch, last4))
        expect(page.get_by_role("status")).to_contain_text(f"Checking ending {last4} is verified")
        page.route("**/v1/payments/deposits", answer_lost(server), times=1)
        page.get_by_label("Deposit amount (dollars)").fill("75.00")
        deposit = page.get_by_role("button", name="Deposit", exact=True)
        deposit.click()
        expect(page.get_by_role("alert")).to_be_visible()
        deposit.click()
        expect(page.get_by_role("status")).to_contain_text("Deposit of 75.00 requested")
        page = tab.open("/funding/withdrawals")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.locator("#history tbody tr")).to_have_count(1)
