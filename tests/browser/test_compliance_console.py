"""The compliance console in a real Chromium: a reviewer filters the alert queue, reads a
layering alert's evidence (measures against thresholds, the cancelled orders, the timeline
and the price picture), opens a case, takes it, writes a note, escalates it and builds
the signed referral. A trader who loads the same page sees no alert: the API refuses
them the queue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_kit import new_tab, sign_in_with_totp
from playwright.sync_api import Browser, expect
from test_onboarding_pages import reviewer_signed_in_with_a_key

from live_api import Api, Person, var_dir_of
from market_scenarios import Config, generate
from support import LiveServer
from tradeguard.cases.model import AlertDraft
from tradeguard.cases.store import AlertStore
from tradeguard.cli.runtime import command_runtime
from tradeguard.db.session import transaction
from tradeguard.surveillance.alerting import SOURCE
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.replay import replay

pytestmark = pytest.mark.live_server
DAY = Config(symbols=4, hours=2.0, noise_traders=40, wash=1, spoofing=1, layering=1, pump=1)


def store_replayed_alerts(
    server: LiveServer, directory: Path, monkeypatch: pytest.MonkeyPatch
) -> list[AlertDraft]:
    """A generated day's alerts, stored in the live server's database as its watcher would."""
    generate(7, DAY).write(directory)
    drafts = replay(directory, SurveillanceParameters()).final_alerts()
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(var_dir_of(server)))
    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        store = AlertStore(runtime.audit, runtime.clock)
        for draft in drafts:
            store.raise_alert(db, draft, SOURCE)
    return drafts


def test_console_when_reviewer_works_an_alert_then_case_escalated_and_trader_sees_nothing(
    browser: Browser, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts = store_replayed_alerts(live_server, tmp_path, monkeypatch)
    (layering,) = [draft for draft in drafts if draft.typology == "layering"]
    cycles = layering.evidence["cycle_count"]
    cancelled = sum(len(cycle["spoof_orders"]) for cycle in layering.evidence["cycles"])
    api = Api(live_server)
    trader, reviewer = Person(), Person()
    api.sign_up_with_totp(trader)
    api.sign_up(reviewer)

    with new_tab(browser, live_server) as tab:
        sign_in_with_totp(tab, trader)
        page = tab.open("/staff/alerts")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.get_by_role("alert")).to_contain_text("for compliance staff")
        expect(page.locator("#alert-queue tbody tr")).to_have_count(0)

    with new_tab(browser, live_server) as tab:
        reviewer_signed_in_with_a_key(tab, reviewer)
        page = tab.open("/staff/alerts")
        page.locator("body[data-ready=true]").wait_for()
        expect(page.locator("#alert-queue tbody tr")).to_have_count(5)
        page.get_by_label("Typology").fill("layering")
        page.get_by_role("button", name="Show alerts").click()
        expect(page.locator("#alert-queue tbody tr")).to_have_count(1)
        page.get_by_role("button", name="Review layering").click()
        evidence = page.locator("#alert-detail")
        expect(evidence).to_contain_text(f"Layering: {cycles} cycle(s)")
        expect(evidence.locator("tr.met")).to_have_count(6)
        expect(evidence.locator("tr.unmet")).to_have_count(0)
        expect(evidence).to_contain_text(f"Cancelled orders ({cancelled})")
        expect(evidence.locator(".timeline li").first).to_contain_text("Placed")
        expect(page.get_by_role("img", name="Prices from")).to_be_visible()

        page.get_by_role("button", name="Open a case").click()
        page.wait_for_url(re.compile(r"/staff/cases\?case="))
        page.locator("body[data-ready=true]").wait_for()
        expect(page.locator("#case-state")).to_have_text("open")
        expect(page.locator("#case-alerts")).to_contain_text(f"Cancelled orders ({cancelled})")
        page.get_by_role("button", name="Assign to me").click()
        expect(page.locator("#case-assignee")).to_have_text("me")
        page.get_by_label("Note").fill("Levels of sell orders 37 times the genuine buy")
        page.get_by_role("button", name="Add the note").click()
        expect(page.locator("#case-notes")).to_contain_text("37 times the genuine buy")
        page.get_by_label("Disposition").select_option("escalate")
        page.get_by_label("Reason", exact=True).fill("pattern matches the published cases")
        page.get_by_role("button", name="Record the decision").click()
        expect(page.locator("#case-state")).to_have_text("escalated")
        expect(page.locator("#case-history")).to_contain_text("case.decided by me escalate")
        page.get_by_role("button", name="Build the regulator referral").click()
        expect(page.get_by_role("status")).to_contain_text("signed referral package is ready")
        expect(page.get_by_role("link", name="Download the signed referral")).to_be_visible()
