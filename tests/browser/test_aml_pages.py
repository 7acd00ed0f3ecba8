"""AML pages in a real Chromium: settled cash deposits reach a structuring alert; an officer
opens a case, drafts a SAR with its problems shown in place, completes it, approves it,
downloads FinCEN-valid XML and records the filing; an overdue SAR is flagged; a parameter
change is saved with its reason; a customer opening the same page sees no SAR."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_kit import Tab, new_tab, sign_in_with_totp
from lxml import etree
from playwright.sync_api import Browser, Page, expect
from test_onboarding_pages import reviewer_signed_in_with_a_key

from live_api import Api, Person, var_dir_of
from support import LiveServer
from tradeguard.aml.transactions import BusinessDays
from tradeguard.audit.records import Actor
from tradeguard.cli.runtime import command_runtime
from tradeguard.db.session import transaction

pytestmark = pytest.mark.live_server
SCHEMA = Path(__file__).resolve().parents[2].parent / "shared/schemas/fincen"
NARRATIVE = (
    "Between the first and third deposit the customer brought cash to two accounts in three "
    "amounts of $9,100 to $9,700, $28,300 in all, each kept under the currency reporting "
    "threshold, and made no trade. The declared occupation is a teacher on a modest salary."
)


def settle_cash_deposits(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three cash deposits just under $10,000, settled as the money-movement service records."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(var_dir_of(server)))
    payments = Actor.system("payments")
    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        for account, amount in (
            ("acct-s1", "9500.00"),
            ("acct-s2", "9700.00"),
            ("acct-s1", "9100"),
        ):
            data = {"account": account, "amount": amount, "method": "cash"}
            runtime.audit.record(db, "payments.deposit.settled", payments, account, data)


def call(page: Page, method: str, path: str, body: Any = None) -> Any:
    """The JSON API as the signed-in page calls it (its session token)."""
    script = """async ([method, path, body]) => {
        const tokens = JSON.parse(sessionStorage.getItem("tradeguard.tokens"));
        const headers = { Authorization: `Bearer ${tokens.access_token}` };
        if (body !== null) headers["Content-Type"] = "application/json";
        const sent = body === null ? undefined : JSON.stringify(body);
        const answer = await fetch(path, { method, headers, body: sent });
        return { status: answer.status, body: await answer.json() };
    }"""
    return page.evaluate(script, [method, path, body])


def structuring_case(page: Page) -> str:
    """Wait for the watcher's structuring alert; open a case from it; the case id."""
    for _ in range(60):
        alerts = call(page, "GET", "/v1/compliance/alerts?typology=structuring", None)
        if alerts["status"] == 200 and alerts["body"]:
            break
        page.wait_for_timeout(250)
    assert alerts["status"] == 200, alerts
    assert alerts["body"], alerts
    ids = [alerts["body"][0]["id"]]
    opened = call(page, "POST", "/v1/compliance/cases", {"alert_ids": ids, "title": "Cash"})
    assert opened["status"] == 201, opened
    return str(opened["body"]["id"])


def schema_errors(document: bytes) -> list[str]:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA / "EFL_SARXBatchSchema.xsd")))
    return [] if schema.validate(etree.fromstring(document)) else [str(e) for e in schema.error_log]


def new_york_today() -> date:
    """The server's business day (the filing clock counts New York dates)."""
    return BusinessDays().of(time.time_ns())


def draft_sar(page: Page, case_id: str, detected: date, narrative: str) -> None:
    page.get_by_label("Case id").fill(case_id)
    page.get_by_label("Date of initial detection").fill(detected.isoformat())
    page.get_by_label("Subject's name").fill("Zelda Quixote")
    page.get_by_label("Narrative (who, what, when, where, why)").fill(narrative)
    page.get_by_role("button", name="Draft SAR").click()


def change_parameters(tab: Tab) -> None:
    """An out-of-range value is refused in place; a valid change is saved with its reason."""
    page = tab.open("/staff/aml/parameters")
    page.locator("body[data-ready=true]").wait_for()
    document_box = page.get_by_label("Parameters (JSON)")
    parameters = json.loads(document_box.input_value())
    parameters["structuring"]["window_days"] = 99
    document_box.fill(json.dumps(parameters))
    page.get_by_label("Reason for the change").fill("Wider window after the quarterly review")
    page.get_by_role("button", name="Save the parameters").click()
    expect(page.locator("#parameters-errors")).to_contain_text("window_days")
    parameters["structuring"]["window_days"] = 10
    document_box.fill(json.dumps(parameters))
    page.get_by_role("button", name="Save the parameters").click()
    expect(page.get_by_role("status")).to_contain_text("parameters are changed")
    expect(page.locator("#history")).to_contain_text("Wider window after the quarterly review")
    assert json.loads(document_box.input_value())["structuring"]["window_days"] == 10


def write_and_file_ctrs(tab: Tab, today: date) -> None:
    """The day's CTR is written, listed with its amount, downloaded, and its filing recorded."""
    page = tab.open("/staff/aml/ctrs")
    page.locator("body[data-ready=true]").wait_for()
    page.get_by_label("Business day").fill(today.isoformat())
    page.get_by_role("button", name="Write the CTRs of this day").click()
    expect(page.get_by_role("status")).to_contain_text("1 CTR written")
    expect(page.locator("#ctrs")).to_contain_text("acct-s1 · cash in $18600.00")
    name = f"ctr-acct-s1-{today.isoformat()}.xml"
    with page.expect_download() as downloading:
        page.get_by_role("button", name=f"Download {name}").click()
    document = Path(downloading.value.path()).read_bytes()
    schema = etree.XMLSchema(etree.parse(str(SCHEMA / "EFL_CTRXBatchSchema.xsd")))
    assert schema.validate(etree.fromstring(document)), schema.error_log
    page.get_by_role("button", name=f"Record filing of {name}").click()
    page.get_by_label("BSA ID from FinCEN's acknowledgement").fill("31000123456780")
    page.get_by_role("button", name="Record the CTR's filing").click()
    expect(page.locator("#ctrs")).to_contain_text("BSA ID 31000123456780")


def test_sar_workflow_when_alerted_drafted_completed_and_filed_then_valid_xml_and_deadlines_shown(
    browser: Browser, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = Person()
    Api(live_server).sign_up(officer)
    settle_cash_deposits(live_server, monkeypatch)
    with new_tab(browser, live_server) as tab:
        reviewer_signed_in_with_a_key(tab, officer)
        page = tab.open("/staff/aml/sars")
        page.locator("body[data-ready=true]").wait_for()
        case_id = structuring_case(page)

        today = new_york_today()
        draft_sar(page, case_id, today, "Cash under the threshold.")
        expect(page.get_by_role("status")).to_contain_text("The SAR is drafted")
        expect(page.locator("#problem-narrative")).to_contain_text("at least 200 characters")
        expect(page.get_by_role("button", name="Approve and generate the XML")).to_be_disabled()
        expect(page.locator("#sar-typologies")).to_have_text("structuring")
        expect(page.locator("#sar-clock")).to_contain_text("30 days left")

        page.get_by_label("SAR narrative").fill(NARRATIVE)
        page.get_by_label("Amount (dollars)").fill("28300.00")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status")).to_contain_text("ready to approve")
        expect(page.locator("#problem-narrative")).to_be_hidden()
        page.get_by_role("button", name="Approve and generate the XML").click()
        expect(page.locator("#sar-status")).to_have_text("generated")
        with page.expect_download() as downloading:
            page.get_by_role("button", name="Download the XML").click()
        document = Path(downloading.value.path()).read_bytes()
        assert schema_errors(document) == []
        assert b"Zelda" in document
        with page.expect_download() as batching:
            page.get_by_role("button", name="Export the SARs ready to file as one batch").click()
        assert schema_errors(Path(batching.value.path()).read_bytes()) == []
        expect(page.locator("#sar-batch-summary")).to_contain_text("1 reports; TotalAmount 28300")

        page.get_by_label("BSA ID from FinCEN's acknowledgement").fill("31000123456789")
        page.get_by_label("Filed on").fill(today.isoformat())
        page.get_by_role("button", name="Record the filing").click()
        expect(page.locator("#sar-status")).to_have_text("filed")
        expect(page.locator("#sar-bsa-id")).to_have_text("31000123456789")
        retained = today.replace(year=today.year + 5).isoformat()
        expect(page.locator("#sar-retain")).to_have_text(retained)

        draft_sar(page, case_id, today - timedelta(days=40), NARRATIVE)
        expect(page.locator("#overdue")).to_contain_text("1 SAR is overdue")
        expect(page.locator("#sars li.overdue")).to_contain_text("OVERDUE by 10 days")

        change_parameters(tab)
        write_and_file_ctrs(tab, today)


def test_sar_page_when_opened_by_a_customer_then_no_sar_is_shown(
    browser: Browser, live_server: LiveServer
) -> None:
    customer = Person()
    Api(live_server).sign_up_with_totp(customer)
    with new_tab(browser, live_server) as tab:
        sign_in_with_totp(tab, customer)
        page = tab.open("/staff/aml/sars")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.get_by_role("alert")).to_be_visible()
        expect(page.locator("#sars li")).to_have_count(0)
        assert call(page, "GET", "/v1/compliance/aml/sars", None)["status"] == 403
        page = tab.open("/staff/aml/ctrs")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.locator("#ctrs li")).to_have_count(0)
