"""The customer's fraud screens in a real Chromium: the step-up screen explains why a
request was held and leads through a second factor; the sign-in page turns a fraud lock
into a lock screen (what happened, until when, what to do)."""

from __future__ import annotations

import json

import pytest
from browser_kit import Tab, add_authenticator, new_tab, sign_in_with_password, sign_out
from playwright.sync_api import Browser, expect

from live_api import Api, Person
from support import LiveServer

pytestmark = pytest.mark.live_server


def signed_in_with_a_key(tab: Tab, person: Person) -> None:
    """Register a security key on /account, sign out, sign in again with it."""
    add_authenticator(tab, "usb")
    sign_in_with_password(tab, person)
    tab.wait_for_path("/account")
    tab.page.get_by_label("Name (optional)").fill("My key")
    tab.page.get_by_role("button", name="Add a security key").click()
    expect(tab.page.get_by_role("status")).to_contain_text("is registered")
    sign_out(tab)
    page = sign_in_with_password(tab, person)
    page.get_by_role("button", name="Use a passkey or security key").click()
    tab.wait_for_path("/account")


def test_step_up_screen_when_order_held_then_says_why_and_verifies_a_second_factor(
    browser: Browser, live_server: LiveServer
) -> None:
    customer = Person()
    Api(live_server).sign_up(customer)
    with new_tab(browser, live_server) as tab:
        signed_in_with_a_key(tab, customer)
        page = tab.open("/account/verify?action=order&why=session_moved")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.locator("#verify-what")).to_have_text(
            "We held an order on your account before doing anything."
        )
        expect(page.locator("#verify-why")).to_contain_text("different network or device")
        page.get_by_role("button", name="Confirm it is you").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="Use a passkey or security key").click()
        expect(page.get_by_role("heading", name="Thank you, it is you")).to_be_visible()
        expect(page.get_by_role("button", name="Confirm it is you")).to_be_hidden()


def test_step_up_screen_when_reason_code_is_not_known_then_generic_text_only(
    browser: Browser, live_server: LiveServer
) -> None:
    """Only the fixed reasons are shown: text put in the address is never the page's."""
    customer = Person()
    Api(live_server).sign_up(customer)
    with new_tab(browser, live_server) as tab:
        signed_in_with_a_key(tab, customer)
        page = tab.open("/account/verify?action=<b>x</b>&why=Call+us+at+555-0100")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.locator("#verify-why")).to_have_text(
            "The request was unusual for your account."
        )
        expect(page.locator("#verify-what")).to_have_text(
            "We held a request on your account before doing anything."
        )
        expect(page.locator("main")).not_to_contain_text("555-0100")


def test_lock_screen_when_sign_in_is_held_then_says_what_until_when_and_what_to_do(
    browser: Browser, live_server: LiveServer
) -> None:
    customer = Person()
    Api(live_server).sign_up(customer)
    problem = {
        "type": "urn:tradeguard:problem:fraud-blocked",
        "title": "Held for review",
        "status": 403,
        "detail": "this action is held for review; contact support",
        "reason_code": "FRAUD_BLOCKED",
        "action": "login",
        "recover_at": "/reset-password",
        "locked_until": "2031-03-04T05:06:00Z",
    }
    with new_tab(browser, live_server) as tab:
        tab.page.route(
            "**/v1/auth/login",
            lambda route: route.fulfill(
                status=403, content_type="application/problem+json", body=json.dumps(problem)
            ),
        )
        page = sign_in_with_password(tab, customer)
        lock = page.locator("#fraud-lock")
        expect(lock.get_by_role("heading", name="Your account is paused")).to_be_visible()
        expect(lock).to_contain_text("may not be yours")
        expect(page.locator("#fraud-lock-until")).to_contain_text("2031")
        expect(lock.get_by_role("link", name="reset your password")).to_have_attribute(
            "href", "/reset-password"
        )
        expect(page.locator("#password-form")).to_be_hidden()
