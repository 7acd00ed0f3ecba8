"""The fraud review page in a real Chromium: a reviewer opens a blocked withdrawal's alert,
reads why (score, rules, top features) and the customer's activity, and recovers the
account; the customer's sessions end."""

from __future__ import annotations

import sqlite3

import pytest
from browser_kit import Tab, add_authenticator, new_tab, sign_in_with_password, sign_out
from playwright.sync_api import Browser, expect

from live_api import Api, Person, var_dir_of
from support import LiveServer
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.store import AlertStore
from tradeguard.cli.runtime import command_runtime
from tradeguard.db.session import transaction

pytestmark = pytest.mark.live_server


def user_id(server: LiveServer, username: str) -> str:
    with sqlite3.connect(var_dir_of(server) / "tradeguard.db") as database:
        (found,) = database.execute(
            "SELECT id FROM users WHERE username = ?", (username,)
        ).fetchone()
    return str(found)


def make_reviewer(server: LiveServer, username: str) -> None:
    """Give an account the compliance role at operator level, as administrators do."""
    with sqlite3.connect(var_dir_of(server) / "tradeguard.db") as database:
        database.execute(
            "UPDATE users SET role = 'COMPLIANCE', access_level = 'operator',"
            " permission_version = permission_version + 1 WHERE username = ?",
            (username,),
        )


def blocked_withdrawal(server: LiveServer, monkeypatch: pytest.MonkeyPatch, customer: str) -> None:
    """The alert a blocked withdrawal raises, stored as the fraud guard stores it."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(var_dir_of(server)))
    evidence = {
        "action": "withdrawal",
        "outcome": "block",
        "score": "0.9731",
        "model_version": "m20261206T000000",
        "reasons": [
            ["withdrawal_after_credential_change", "+2.4100"],
            ["device_is_new", "+1.0200"],
        ],
        "rules": ["credential_change_then_withdrawal"],
        "challenger": None,
    }
    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        now = runtime.clock.now_ns()
        draft = AlertDraft(
            "fraud.withdrawal",
            0.9731,
            Subject(customer=customer),
            now,
            now,
            "credential_change_then_withdrawal",
            str(now),
            evidence,
        )
        AlertStore(runtime.audit, runtime.clock).raise_alert(db, draft, "fraud")


def reviewer_signed_in_with_a_key(tab: Tab, reviewer: Person) -> None:
    add_authenticator(tab, "usb")
    sign_in_with_password(tab, reviewer)
    tab.wait_for_path("/account")
    tab.page.get_by_label("Name (optional)").fill("Desk key")
    tab.page.get_by_role("button", name="Add a security key").click()
    expect(tab.page.get_by_role("status")).to_contain_text("is registered")
    sign_out(tab)
    make_reviewer(tab.server, reviewer.username)
    page = sign_in_with_password(tab, reviewer)
    page.get_by_role("button", name="Use a passkey or security key").click()
    tab.wait_for_path("/account")


def test_review_when_reviewer_recovers_a_blocked_customer_then_sessions_end(
    browser: Browser, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(live_server)
    customer, reviewer = Person(), Person()
    tokens = api.sign_up_with_totp(customer)
    api.sign_up(reviewer)
    victim = user_id(live_server, customer.username)
    blocked_withdrawal(live_server, monkeypatch, victim)

    with new_tab(browser, live_server) as tab:
        reviewer_signed_in_with_a_key(tab, reviewer)
        page = tab.open("/staff/fraud")
        page.locator("body[data-ready=true]").wait_for()
        page.get_by_role("button", name=f"Open {victim}").click()
        expect(page.locator("#review-outcome")).to_have_text("block")
        expect(page.locator("#review-rules")).to_have_text("credential_change_then_withdrawal")
        expect(page.locator("#review-reasons")).to_contain_text(
            "withdrawal_after_credential_change"
        )
        expect(page.locator("#review-activity")).to_contain_text("auth.login.succeeded")
        page.get_by_label("Reason", exact=True).fill("new device abroad, then a password change")
        page.get_by_role("button", name="Recover the account").click()
        expect(page.get_by_role("status")).to_contain_text("The account is secured")

    status, _ = api.call("GET", "/v1/account", token=tokens["access_token"])
    assert status == 401
