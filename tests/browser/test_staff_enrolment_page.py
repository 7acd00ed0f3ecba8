"""The first administrator's enrolment in a real Chromium against the live server.

``tradeguard staff bootstrap-admin`` prints the one-time link; the page it opens creates
the account and registers a security key, here Chromium's virtual authenticator (CDP
``WebAuthn.addVirtualAuthenticator``, a USB key). The administrator then signs in with
the password and that key, and the spent link is refused.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest
from browser_kit import Tab, add_authenticator, new_tab, sign_in_with_password, sign_out
from playwright.sync_api import Browser, expect

from live_api import Person, var_dir_of
from support import TRADEGUARD, LiveServer

pytestmark = pytest.mark.live_server
LINK = re.compile(r"https://localhost:\d+(/staff/enrol\?token=[A-Za-z0-9_-]+)")


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer) -> Iterator[Tab]:
    with new_tab(browser, live_server) as opened:
        yield opened


def staff_command(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``tradeguard staff ...`` on the live server's var directory and port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    var_dir = var_dir_of(server)
    env.update(TRADEGUARD_VAR_DIR=str(var_dir), TRADEGUARD_PORT=str(server.port))
    return subprocess.run(
        [TRADEGUARD, "staff", *args],
        cwd=var_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_first_admin_when_link_opened_then_account_and_security_key_set_up_in_the_browser(
    tab: Tab,
) -> None:
    person = Person(username="ada")
    made = staff_command(tab.server, "bootstrap-admin", person.email)
    assert made.returncode == 0, made.stderr
    found = LINK.search(made.stdout)
    assert found, made.stdout
    key = add_authenticator(tab, "usb")

    page = tab.open(found.group(1))
    page.locator("body[data-ready=true]").wait_for()
    page.get_by_label("Username", exact=True).fill(person.username)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Create my staff account").click()
    expect(page.get_by_role("heading", name="2. Register your security key")).to_be_visible()
    expect(page.get_by_role("button", name="Use a passkey on this device")).to_be_hidden()
    page.get_by_label("Name of the key (optional)").fill("Desk key")
    page.get_by_role("button", name="Register my security key").click()

    tab.wait_for_path("/account")
    expect(page.get_by_role("status")).to_contain_text("“Desk key” is registered")
    expect(page.locator("#profile-username")).to_have_text(person.username)
    expect(page.get_by_role("heading", name="Add a second factor to continue")).to_be_hidden()
    [credential] = key.credentials()
    assert credential["isResidentCredential"] is False

    sign_out(tab)
    sign_in_with_password(tab, person)
    page.get_by_role("button", name="Use a passkey or security key").click()
    tab.wait_for_path("/account")
    expect(page.locator("#profile-username")).to_have_text(person.username)

    refused = staff_command(tab.server, "bootstrap-admin", "eve@example.com")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: STAFF_ADMIN_EXISTS:")

    sign_out(tab)
    page = tab.open(found.group(1))
    page.locator("body[data-ready=true]").wait_for()
    page.get_by_label("Username", exact=True).fill("mallory")
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Create my staff account").click()
    expect(page.get_by_role("alert")).to_contain_text("already used")
