"""The identity pages in a real Chromium against the live server, with virtual authenticators.

Sign-up, email verification, sign-in with an authenticator app, passkeys (passwordless),
security keys as a second factor, backup codes, and the sessions page.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from browser_kit import (
    ATTACKER_IP,
    Tab,
    add_authenticator,
    answer_once_as_expired,
    new_tab,
    sign_in_with_password,
    sign_in_with_totp,
    sign_out,
    stored_tokens,
)
from playwright.sync_api import Browser, expect

from live_api import (
    Api,
    Person,
    code_in,
    count_messages,
    link_in,
    revoked_everywhere,
    wait_for_message,
)
from support import LiveServer, running_server

pytestmark = pytest.mark.live_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live-pages")
    with running_server(workdir) as server:
        yield server


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer) -> Iterator[Tab]:
    with new_tab(browser, live_server) as opened:
        yield opened


@pytest.fixture
def api(live_server: LiveServer) -> Api:
    return Api(live_server)


def sign_up_in_browser(tab: Tab, person: Person) -> None:
    page = tab.open("/signup")
    page.get_by_label("Username", exact=True).fill(person.username)
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_label("I accept the terms of service").check()
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"**/verify-email?email={person.username}%40example.com")
    expect(page.get_by_role("status")).to_contain_text("Check your email")


def verify_email_from_link(tab: Tab, person: Person) -> None:
    message = wait_for_message(tab.server, person.email, "email.verification")
    page = tab.open(link_in(message["text"], "/verify-email"))
    expect(page.get_by_label("Email address")).to_have_value(person.email)
    expect(page.get_by_label("Verification code")).to_have_value(code_in(message["text"]))
    page.get_by_role("button", name="Verify address").click()
    expect(page.get_by_role("status")).to_contain_text("verified")
    page.get_by_role("link", name="Continue to sign in").click()
    page.wait_for_url(tab.url("/signin"))


def enrol_authenticator_app(tab: Tab, person: Person) -> None:
    page = tab.page
    page.get_by_role("button", name="Set up an authenticator app").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    page.wait_for_function("() => document.getElementById('totp-qr').naturalWidth > 0")
    person.totp_secret = page.locator("#totp-secret").inner_text()
    assert pyotp.TOTP(person.totp_secret).now().isdigit()
    page.get_by_label("Code to confirm the new factor").fill(person.totp_code())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("is ready to use")


def test_signup_verify_and_enrol_authenticator_app_then_sign_in_with_password_and_code(
    tab: Tab,
) -> None:
    person = Person()
    sign_up_in_browser(tab, person)
    verify_email_from_link(tab, person)

    sign_in_with_password(tab, person)
    tab.wait_for_path("/account")
    tokens = stored_tokens(tab.page)
    assert tokens is not None
    assert tokens["enrollment_only"] is True
    expect(tab.page.get_by_role("heading", name="Add a second factor to continue")).to_be_visible()

    enrol_authenticator_app(tab, person)
    assert (stored_tokens(tab.page) or {})["enrollment_only"] is False
    expect(tab.page.locator("#factor-list li[data-kind=totp]")).to_have_count(1)
    expect(tab.page.get_by_role("heading", name="Add a second factor to continue")).to_be_hidden()

    sign_out(tab)
    assert stored_tokens(tab.page) is None

    page = sign_in_with_password(tab, person)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.get_by_role("button", name="Use a passkey or security key")).to_be_hidden()
    page.get_by_label("Code from your authenticator app").fill(person.totp_code())
    page.get_by_role("button", name="Verify code").click()
    tab.wait_for_path("/account")
    expect(page.locator("#profile-username")).to_have_text(person.username)
    assert (stored_tokens(page) or {})["enrollment_only"] is False


def test_signup_when_password_weak_then_refusal_shown_and_no_email_sent(tab: Tab) -> None:
    person = Person(password="password1234")
    page = tab.open("/signup")
    page.get_by_label("Username", exact=True).fill(person.username)
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_label("I accept the terms of service").check()
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).not_to_be_empty()
    assert page.url == tab.url("/signup")
    assert count_messages(tab.server, person.email, "email.verification") == 0


def test_reset_password_when_emailed_code_used_then_the_new_password_signs_in(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up_with_totp(person)
    page = tab.open("/reset-password")
    page.get_by_label("Email address").first.fill(person.email)
    page.get_by_role("button", name="Email me a reset code").click()
    expect(page.get_by_role("status")).to_contain_text("sent an email")
    message = wait_for_message(tab.server, person.email, "email.password_reset")

    person.password = "lantern-Orchid-compass-93-meadow"
    expect(page.locator("#reset-email")).to_have_value(person.email)
    page.get_by_label("Reset code").fill(code_in(message["text"]))
    page.get_by_label("New password").fill(person.password)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("status")).to_contain_text("password was changed")

    sign_in_with_totp(tab, person)
    expect(tab.page.locator("#profile-email")).to_have_text(person.email)


def test_signin_when_totp_code_wrong_then_refused_and_still_on_the_code_step(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up_with_totp(person)
    page = sign_in_with_password(tab, person)
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Verify code").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.url == tab.url("/signin")
    assert stored_tokens(page) is None


def test_platform_passkey_when_registered_then_signs_in_without_a_password(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up(person)
    authenticator = add_authenticator(tab, "internal")
    sign_in_with_password(tab, person)
    tab.wait_for_path("/account")

    tab.page.get_by_label("Name (optional)").fill("Work laptop")
    tab.page.get_by_role("button", name="Add a passkey on this device").click()
    expect(tab.page.get_by_role("status")).to_contain_text("“Work laptop” is registered")
    expect(tab.page.locator("#factor-list")).to_contain_text("Work laptop")
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"] is True

    sign_out(tab)
    tab.page.get_by_role("button", name="Sign in with a passkey").click()
    tab.wait_for_path("/account")
    expect(tab.page.locator("#profile-username")).to_have_text(person.username)
    assert (stored_tokens(tab.page) or {})["enrollment_only"] is False


def test_security_key_when_registered_then_answers_the_second_factor_after_the_password(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up(person)
    add_authenticator(tab, "usb")
    sign_in_with_password(tab, person)
    tab.wait_for_path("/account")
    tab.page.get_by_label("Name (optional)").fill("Blue key")
    tab.page.get_by_role("button", name="Add a security key").click()
    expect(tab.page.get_by_role("status")).to_contain_text("“Blue key” is registered")

    sign_out(tab)
    page = sign_in_with_password(tab, person)
    expect(page.get_by_label("Code from your authenticator app")).to_be_hidden()
    page.get_by_role("button", name="Use a passkey or security key").click()
    tab.wait_for_path("/account")
    tokens = stored_tokens(page)
    assert tokens is not None
    sessions = api.expect("GET", "/v1/sessions", token=tokens["access_token"])
    [current] = [session for session in sessions if session["current"]]
    assert {"pwd", "hwk", "mfa"} <= set(current["amr"])

    page.get_by_label("New name for Blue key").fill("Red key")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text("renamed")
    expect(page.locator("#factor-list")).to_contain_text("Red key")


def test_backup_codes_when_generated_after_step_up_then_ten_shown_once_and_old_ones_void(
    tab: Tab, api: Api
) -> None:
    person = Person()
    first = api.sign_up_with_totp(person)
    old_codes = api.expect("POST", "/v1/mfa/backup-codes", token=first["access_token"])["codes"]
    page = sign_in_with_password(tab, person)
    page.get_by_label("Backup code").fill(old_codes[0])
    page.get_by_role("button", name="Use backup code").click()
    tab.wait_for_path("/account")

    # A backup code is not a strong factor: new codes need a fresh authenticator-app code.
    page.get_by_role("button", name="Generate backup codes").click()
    dialog = page.get_by_role("dialog", name="Confirm it is you")
    dialog.get_by_role("button", name="Use a code from your authenticator app").click()
    dialog.get_by_label("Code", exact=True).fill(person.totp_code())
    dialog.get_by_role("button", name="Verify").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(set(codes)) == 10
    assert not set(codes) & set(old_codes)

    tab.open("/account")
    tab.wait_for_path("/account")
    expect(page.locator("#backup-codes li")).to_have_count(0)
    expect(page.get_by_text("Save these codes now")).to_be_hidden()
    expect(page.locator("#factor-list")).to_contain_text("10 codes left")
    attacker = Api(tab.server, source_ip=ATTACKER_IP)
    assert attacker.backup_code_status(person, old_codes[1]) == 401

    sign_out(tab)
    sign_in_with_password(tab, person)
    page.get_by_label("Backup code").fill(codes[0])
    page.get_by_role("button", name="Use backup code").click()
    tab.wait_for_path("/account")
    tab.open("/account/sessions")
    page.get_by_role("link", name="Security").click()
    tab.wait_for_path("/account")
    expect(page.locator("#factor-list")).to_contain_text("9 codes left")


def test_sessions_page_when_other_sessions_revoked_then_their_tokens_stop_working(
    tab: Tab, api: Api
) -> None:
    person = Person()
    first = api.sign_up_with_totp(person)
    codes = api.expect("POST", "/v1/mfa/backup-codes", token=first["access_token"])["codes"]
    second = api.sign_in_with_backup_code(person, codes[0])
    sign_in_with_totp(tab, person)

    page = tab.open("/account/sessions")
    tab.wait_for_path("/account/sessions")
    sessions = page.locator("#session-list li")
    expect(sessions).to_have_count(3)
    expect(page.locator("#session-list li", has_text="This session")).to_have_count(1)

    page.locator(f"li[data-session-id='{first['session_id']}']").get_by_role("button").click()
    expect(sessions).to_have_count(2)
    revoked_everywhere(api, first["access_token"])
    assert api.status_of(second["access_token"]) == 200

    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.get_by_role("status")).to_contain_text("1 other session was signed out")
    expect(sessions).to_have_count(1)
    revoked_everywhere(api, second["access_token"])
    tokens = stored_tokens(page)
    assert tokens is not None
    assert api.status_of(tokens["access_token"]) == 200


def test_new_device_link_when_approved_then_the_sessions_page_shows_it_approved(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up_with_totp(person)
    notices_before = count_messages(tab.server, person.email, "security.new_device")
    sign_in_with_totp(tab, person)
    message = wait_for_message(
        tab.server, person.email, "security.new_device", after=notices_before
    )

    page = tab.open(link_in(message["text"], "/devices/approve"))
    page.get_by_role("button", name="Approve this device").click()
    expect(page.get_by_role("status")).to_contain_text("is approved")

    tab.open("/account/sessions")
    tab.wait_for_path("/account/sessions")
    browser_device = page.locator("#device-list li", has_text="Chrome")
    expect(browser_device).to_contain_text("approved")
    expect(browser_device).not_to_contain_text("not approved")
    api_device = page.locator("#device-list li", has_text="tradeguard-tests")
    expect(api_device).to_contain_text("not approved")


def test_new_device_link_when_reported_then_the_device_is_signed_out(
    tab: Tab, api: Api, browser: Browser
) -> None:
    person = Person()
    api.sign_up_with_totp(person)
    notices_before = count_messages(tab.server, person.email, "security.new_device")
    sign_in_with_totp(tab, person)
    tokens = stored_tokens(tab.page)
    assert tokens is not None
    message = wait_for_message(
        tab.server, person.email, "security.new_device", after=notices_before
    )

    with new_tab(browser, tab.server) as mail_reader:
        page = mail_reader.open(link_in(message["text"], "/devices/report"))
        page.get_by_role("button", name="Report and sign out this device").click()
        expect(page.get_by_role("status")).to_contain_text("signed out and forgotten")

    revoked_everywhere(api, tokens["access_token"])
    tab.open("/account")
    tab.page.wait_for_url(tab.url("/signin"))
    assert stored_tokens(tab.page) is None


def test_expired_access_token_when_two_calls_fail_together_then_one_refresh_serves_both(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up_with_totp(person)
    sign_in_with_totp(tab, person)
    before = stored_tokens(tab.page)
    assert before is not None
    refreshes: list[str] = []
    tab.page.on(
        "request",
        lambda request: refreshes.append(request.url) if "/auth/refresh" in request.url else None,
    )
    answer_once_as_expired(tab.page, "/v1/sessions")
    answer_once_as_expired(tab.page, "/v1/devices")

    page = tab.open("/account/sessions")
    tab.wait_for_path("/account/sessions")
    expect(page.locator("#session-list li")).to_have_count(2)
    expect(page.locator("#device-list li")).to_have_count(2)
    assert len(refreshes) == 1
    after = stored_tokens(page)
    assert after is not None
    assert after["session_id"] == before["session_id"]
    assert after["refresh_token"] != before["refresh_token"]
    assert api.status_of(after["access_token"]) == 200


def test_account_page_when_not_signed_in_then_sent_to_sign_in(tab: Tab) -> None:
    tab.open("/account")
    tab.page.wait_for_url(tab.url("/signin"))
    expect(tab.page.get_by_role("status")).to_contain_text("Please sign in")


def test_account_page_when_session_revoked_elsewhere_then_sent_to_sign_in(
    tab: Tab, api: Api
) -> None:
    person = Person()
    api.sign_up_with_totp(person)
    sign_in_with_totp(tab, person)
    tokens = stored_tokens(tab.page)
    assert tokens is not None
    api.expect("POST", "/v1/auth/logout", token=tokens["access_token"])
    revoked_everywhere(api, tokens["access_token"])

    tab.open("/account")
    tab.page.wait_for_url(tab.url("/signin"))
    assert stored_tokens(tab.page) is None
