"""The identity pages: HTML under the strict page CSP, no inline code, local assets only."""

from __future__ import annotations

from html.parser import HTMLParser
from importlib.resources import files
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tradeguard.gateway.middleware import PAGE_POLICY

PAGES = (
    "/",
    "/signup",
    "/verify-email",
    "/signin",
    "/account",
    "/account/sessions",
    "/devices/approve",
    "/devices/report",
    "/reset-password",
)
SCRIPT = "/static/web/auth.js"
STYLESHEET = "/static/web/app.css"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data"}


class PageParts(HTMLParser):
    """What a page is made of, as far as its security policy is concerned."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text = ""
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self.ids: list[str] = []
        self.labels_for: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append(attributes)
        self.style_elements += tag == "style"
        self._collect(tag, attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data

    def _collect(self, tag: str, attributes: dict[str, str | None]) -> None:
        for name, value in attributes.items():
            if name == "style":
                self.style_attributes.append(tag)
            if name.startswith("on"):
                self.handlers.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append(value)
        if "id" in attributes:
            self.ids.append(str(attributes["id"]))
        if tag == "label" and attributes.get("for"):
            self.labels_for.add(str(attributes["for"]))
        if tag in {"input", "select", "textarea"}:
            self.inputs.append(attributes)


def parts_of(html: str) -> PageParts:
    parser = PageParts()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_page_when_requested_then_html_under_the_page_policy(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_page_when_parsed_then_no_inline_script_style_or_handler(
    client: TestClient, path: str
) -> None:
    parts = parts_of(client.get(path).text)
    assert parts.scripts == [{"type": "module", "src": SCRIPT}]
    assert parts.script_text.strip() == ""
    assert parts.style_elements == 0
    assert parts.style_attributes == []
    assert parts.handlers == []


@pytest.mark.parametrize("path", PAGES)
def test_page_when_parsed_then_every_link_is_local(client: TestClient, path: str) -> None:
    parts = parts_of(client.get(path).text)
    assert STYLESHEET in parts.urls
    for url in parts.urls:
        target = urlsplit(url)
        assert not target.scheme, url
        assert not target.netloc, url
        assert url.startswith(("/", "#")), url


@pytest.mark.parametrize("path", PAGES)
def test_page_when_parsed_then_every_visible_field_has_a_label_and_ids_are_unique(
    client: TestClient, path: str
) -> None:
    parts = parts_of(client.get(path).text)
    assert len(parts.ids) == len(set(parts.ids))
    visible = [field for field in parts.inputs if field.get("type") != "hidden"]
    for field in visible:
        assert field.get("id") in parts.labels_for, field


@pytest.mark.parametrize(("asset", "content_type"), [(SCRIPT, "javascript"), (STYLESHEET, "css")])
def test_page_assets_when_requested_then_served_from_the_package(
    client: TestClient, asset: str, content_type: str
) -> None:
    response = client.get(asset)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert response.content


def test_verify_email_page_when_link_has_values_then_fields_prefilled(client: TestClient) -> None:
    html = client.get("/verify-email", params={"email": "a@example.com", "code": "123456"}).text
    assert 'value="a@example.com"' in html
    assert 'value="123456"' in html


def test_verify_email_page_when_link_injects_markup_then_it_is_escaped(client: TestClient) -> None:
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = client.get("/verify-email", params={"email": attack, "code": attack})
    parts = parts_of(response.text)
    assert parts.scripts == [{"type": "module", "src": SCRIPT}]
    assert parts.handlers == []
    assert "&#34;&gt;&lt;script&gt;" in response.text


def test_device_link_page_when_token_injects_markup_then_it_stays_a_field_value(
    client: TestClient,
) -> None:
    attack = 'x"><script src=https://evil.example/x.js></script>'
    response = client.get("/devices/approve", params={"token": attack})
    parts = parts_of(response.text)
    assert parts.scripts == [{"type": "module", "src": SCRIPT}]
    assert all("evil.example" not in url for url in parts.urls)
    token_fields = [field for field in parts.inputs if field.get("name") == "token"]
    assert [field["value"] for field in token_fields] == [attack]


def test_device_link_page_when_value_is_too_long_then_it_is_cut(client: TestClient) -> None:
    response = client.get("/devices/report", params={"token": "t" * 5000})
    token_fields = [field for field in parts_of(response.text).inputs if field.get("name")]
    assert [len(str(field["value"])) for field in token_fields] == [256]


def test_device_link_page_when_token_missing_then_no_form_and_a_notice(
    client: TestClient,
) -> None:
    html = client.get("/devices/approve").text
    assert 'id="device-link-form"' not in html
    assert "This link is incomplete" in html


def test_device_link_pages_when_rendered_then_each_names_its_own_action(
    client: TestClient,
) -> None:
    approve = client.get("/devices/approve", params={"token": "abc"}).text
    report = client.get("/devices/report", params={"token": "abc"}).text
    assert 'data-action="approve"' in approve
    assert 'data-action="report"' in report


def test_templates_when_packaged_then_inside_the_package_directory() -> None:
    templates = files("tradeguard.identity") / "templates"
    names = {entry.name for entry in templates.iterdir()}
    assert {"base.html", "signin.html", "account.html", "sessions.html"} <= names


def test_script_when_read_then_it_never_parses_strings_as_html_or_code() -> None:
    script = (files("tradeguard") / "web" / "static" / "auth.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "new Function" not in script
    assert "localStorage.setItem(TOKENS_KEY" not in script
