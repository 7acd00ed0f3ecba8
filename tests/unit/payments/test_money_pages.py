"""The money pages: HTML under the strict page CSP, no inline code, every field labelled,
and scripts that never parse server text as HTML."""

from __future__ import annotations

from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from tradeguard.gateway.middleware import PAGE_POLICY
from unit.identity.test_pages import SCRIPT, parts_of

PAGES = {
    "/funding": "/static/web/funding.js",
    "/funding/withdrawals": "/static/web/funding.js",
    "/staff/payments": "/static/web/payments_review.js",
}
SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function")


@pytest.mark.parametrize(("path", "own_script"), PAGES.items())
def test_page_when_requested_then_its_scripts_only_under_the_page_policy(
    client: TestClient, path: str, own_script: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PAGE_POLICY
    parts = parts_of(response.text)
    assert parts.scripts == [
        {"type": "module", "src": SCRIPT},
        {"type": "module", "src": own_script},
    ]
    assert parts.script_text.strip() == ""
    assert (parts.style_elements, parts.style_attributes, parts.handlers) == (0, [], [])
    assert all(url.startswith(("/", "#")) for url in parts.urls), parts.urls
    assert len(parts.ids) == len(set(parts.ids))
    for field in parts.inputs:
        assert field.get("id") in parts.labels_for, field


def test_funding_page_when_rendered_then_the_account_number_is_never_autofilled(
    client: TestClient,
) -> None:
    fields = {field.get("id"): field for field in parts_of(client.get("/funding").text).inputs}
    assert fields["link-account"]["autocomplete"] == "off"
    assert "value" not in fields["link-account"]


def test_withdrawals_page_when_rendered_then_it_carries_the_step_up_dialog(
    client: TestClient,
) -> None:
    assert 'id="step-up"' in client.get("/funding/withdrawals").text


@pytest.mark.parametrize("script", ["funding.js", "payments_review.js"])
def test_script_when_read_then_it_never_parses_strings_as_html_or_code(script: str) -> None:
    text = (files("tradeguard") / "web" / "static" / script).read_text(encoding="utf-8")
    for sink in SINKS:
        assert sink not in text, sink
