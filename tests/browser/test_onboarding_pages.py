"""Onboarding in a real Chromium: an applicant fills the form, uploads a generated passport
image (first with an MRZ whose check digit is wrong, then a valid one) and a proof of
address, submits, and a reviewer approves the application from the review queue."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from browser_kit import (
    Tab,
    add_authenticator,
    new_tab,
    sign_in_with_password,
    sign_in_with_totp,
    sign_out,
)
from mrz.generator.td3 import TD3CodeGenerator
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from functional.kyc_flows import broken_check_digit
from live_api import Api, Person, var_dir_of
from support import LiveServer
from tradeguard.audit.records import Actor
from tradeguard.cli.runtime import command_runtime
from tradeguard.screening.service import SanctionsScreening
from unit.screening.screening_kit import SAMPLE

pytestmark = pytest.mark.live_server


@pytest.fixture
def api(live_server: LiveServer) -> Api:
    return Api(live_server)


def passport_mrz() -> str:
    code = TD3CodeGenerator(
        "P", "USA", "Lee", "Ann Marie", "X1234567", "USA", "900203", "F", "350101"
    )
    return str(code)


def passport_image(mrz: str, path: Path) -> Path:
    """A passport data page: a photo box, some fields, and the MRZ printed at the bottom."""
    image = Image.new("RGB", (640, 420), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 60, 184, 260), outline="black")
    draw.text((210, 70), "PASSPORT  UNITED STATES OF AMERICA", fill="black")
    draw.text((210, 110), "LEE, ANN MARIE   03 FEB 1990", fill="black")
    for row, line in enumerate(mrz.splitlines()):
        draw.text((24, 340 + 24 * row), line, fill="black")
    image.save(path, "PNG")
    return path


def load_sample_list(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the sample SDN list into the live server's database, as an operator would."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(var_dir_of(server)))
    with command_runtime() as runtime:
        screening = SanctionsScreening(runtime.sessions, runtime.audit, runtime.clock)
        screening.load(SAMPLE, "ofac-sdn", Actor("staff", "cli:test"))


def make_reviewer(server: LiveServer, username: str) -> None:
    """Give an account the compliance role at operator level, as administrators do."""
    with sqlite3.connect(var_dir_of(server) / "tradeguard.db") as database:
        database.execute(
            "UPDATE users SET role = 'COMPLIANCE', access_level = 'operator',"
            " permission_version = permission_version + 1 WHERE username = ?",
            (username,),
        )


def reviewer_signed_in_with_a_key(tab: Tab, reviewer: Person) -> None:
    """Register a security key, become a reviewer, sign in with the password and the key."""
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


def fill_application(page: Page) -> None:
    page.get_by_label("Given name").fill("Ann")
    page.get_by_label("Middle name (optional)").fill("Marie")
    page.get_by_label("Family name").fill("Lee")
    page.get_by_label("Date of birth").fill("1990-02-03")
    page.get_by_label("SSN or ITIN").fill("536-90-4399")
    page.get_by_label("Residential address").fill("12 Elm Street Apt 4, Boston, MA 02110")
    page.get_by_label("Citizenship (three-letter code)").fill("USA")
    page.get_by_label("Phone").fill("(617) 555-0123")
    page.get_by_label("Employment", exact=True).select_option("employed")
    page.get_by_label("Employer").fill("Acme Robotics")
    page.get_by_label("Occupation").fill("Engineer")
    page.get_by_label("Industry").select_option("technology")
    for name, value in (
        ("Annual income", "100k_250k"),
        ("Net worth", "250k_1m"),
        ("Source of funds", "gift"),
        ("Investment objective", "growth"),
        ("Investment experience", "good"),
        ("Account kind", "margin"),
    ):
        page.get_by_label(name, exact=True).select_option(value)
    for box in page.locator("input[name=agreement]").all():
        box.check()


def test_an_application_with_a_passport_when_submitted_then_a_reviewer_approves_it(
    browser: Browser,
    live_server: LiveServer,
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_sample_list(live_server, monkeypatch)
    applicant, reviewer = Person(), Person()
    api.sign_up_with_totp(applicant)
    api.sign_up(reviewer)

    with new_tab(browser, live_server) as tab:
        sign_in_with_totp(tab, applicant)
        page = tab.open("/onboarding")
        page.locator("body[data-ready=true]").wait_for()
        fill_application(page)
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("status")).to_contain_text("Your draft is saved")
        expect(page.locator("#application-status")).to_have_text("draft")

        mrz = passport_mrz()
        page.get_by_label("Passport photo page").set_input_files(
            passport_image(broken_check_digit(mrz), tmp_path / "wrong.png")
        )
        page.get_by_label("Passport machine-readable zone").fill(broken_check_digit(mrz))
        page.get_by_role("button", name="Upload passport").click()
        expect(page.get_by_role("alert")).to_contain_text("check digit")
        expect(page.locator("#field-errors")).to_contain_text("KYC_MRZ_CHECK_DIGIT")

        page.get_by_label("Passport photo page").set_input_files(
            passport_image(mrz, tmp_path / "passport.png")
        )
        page.get_by_label("Passport machine-readable zone").fill(mrz)
        page.get_by_role("button", name="Upload passport").click()
        expect(page.locator("#document-list")).to_contain_text("check digits valid")
        proof = tmp_path / "bill.pdf"
        proof.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
        page.get_by_label("Proof of address").set_input_files(proof)
        page.get_by_role("button", name="Upload proof of address").click()
        expect(page.get_by_role("status")).to_contain_text("proof of address is stored")

        page.get_by_role("button", name="Submit application").click()
        expect(page.locator("#application-status")).to_have_text("pending review")

    with new_tab(browser, live_server) as tab:
        reviewer_signed_in_with_a_key(tab, reviewer)
        page = tab.open("/staff/kyc")
        page.locator("body[data-ready=true]").wait_for()
        page.get_by_role("button", name="Open Ann Marie Lee").click()
        expect(page.locator("#review-risk")).to_have_text("medium")
        expect(page.locator("#review-screening")).to_contain_text("No match")
        expect(page.locator("#review-documents")).to_contain_text("MRZ check digits valid")
        expect(page.locator("#review-risk-factors")).to_contain_text("margin_account")
        expect(page.get_by_role("img", name="passport image")).to_be_visible()
        page.get_by_label("Note").fill("Passport and bill match the application")
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_contain_text("now approved")
        expect(page.locator("#review-account")).not_to_have_text("none")

    status, account = api.call("GET", "/v1/account", token=applicant_token(api, applicant))
    assert status == 200, account


def applicant_token(api: Api, person: Person) -> str:
    """A fresh session of ``person`` (password and authenticator code)."""
    login = {"login": person.username, "password": person.password}
    challenge = api.expect("POST", "/v1/auth/login", login)
    answer = {
        "challenge_id": challenge["challenge_id"],
        "method": "totp",
        "code": person.totp_code(),
    }
    token: str = api.expect("POST", "/v1/auth/mfa/verify", answer)["access_token"]
    return token
