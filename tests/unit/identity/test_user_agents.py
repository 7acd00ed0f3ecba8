"""Device names from real user agents of the major browsers and systems, and fallbacks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.client import USER_AGENT
from tradeguard.identity.user_agents import (
    MAX_NAME,
    UNKNOWN_DEVICE,
    UserAgent,
    device_name,
    parse_user_agent,
)

REAL_AGENTS = [
    (
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        ),
        "Chrome 131 on macOS",
    ),
    (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        ),
        "Chrome 131 on Windows",
    ),
    (
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36"
        ),
        "Chrome 131 on Android",
    ),
    (
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
        ),
        "Chrome 131 on iPhone",
    ),
    (
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36"
        ),
        "Chrome 131 on ChromeOS",
    ),
    (
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.6778.33 Safari/537.36"
        ),
        "Headless Chrome 131 on Linux",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Firefox 133 on Windows",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Firefox 133 on macOS",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Firefox 133 on Linux",
    ),
    (
        "Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        "Firefox 133 on Android",
    ),
    (
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15"
        ),
        "Firefox 133 on iPhone",
    ),
    (
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15"
        ),
        "Safari 18 on macOS",
    ),
    (
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
        ),
        "Safari 18 on iPhone",
    ),
    (
        (
            "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
        ),
        "Safari 18 on iPad",
    ),
    (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
        ),
        "Edge 131 on Windows",
    ),
    (
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.2903.87"
        ),
        "Edge 131 on Android",
    ),
    (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0"
        ),
        "Opera 115 on Windows",
    ),
    (
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 "
            "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
        ),
        "Samsung Internet 26 on Android",
    ),
    (
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18"
        ),
        "Vivaldi 7 on Linux",
    ),
]


@pytest.mark.parametrize(("agent", "name"), REAL_AGENTS, ids=[name for _, name in REAL_AGENTS])
def test_device_name_when_a_major_browser_signs_in_then_browser_version_and_system(
    agent: str, name: str
) -> None:
    assert device_name(agent) == name


def test_parse_when_chrome_on_mac_then_parts_are_separate() -> None:
    agent = REAL_AGENTS[0][0]
    assert parse_user_agent(agent) == UserAgent("Chrome", "131", "macOS")


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        ("tradeguard-client/0.1.0 (Python 3.11.2)", "tradeguard-client 0.1"),
        ("curl/8.5.0", "curl 8.5"),
        ("python-httpx/0.28.1", "python-httpx 0.28"),
        ("Go-http-client/2.0", "Go-http-client 2.0"),
    ],
)
def test_device_name_when_a_program_then_its_product_token_and_version(
    agent: str, name: str
) -> None:
    assert device_name(agent) == name


def test_device_name_when_the_project_client_then_its_name_and_version() -> None:
    assert device_name(USER_AGENT) == "tradeguard-client 0.1"


def test_device_name_when_a_browser_is_unknown_then_named_so_with_its_system() -> None:
    webview = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148"
    )
    assert device_name(webview) == "Unknown browser on iPhone"
    assert device_name("Mozilla/5.0 (compatible; Examplebot/1.0)") == "Unknown browser"


def test_device_name_when_safari_token_off_apple_systems_then_not_called_safari() -> None:
    old_android = (
        "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us) AppleWebKit/534.30 "
        "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"
    )
    assert device_name(old_android) == "Unknown browser on Android"


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Alice's phone", "Alice's phone"),
        ("testclient", "testclient"),
        ("", UNKNOWN_DEVICE),
        ("   ", UNKNOWN_DEVICE),
    ],
)
def test_device_name_when_no_product_token_then_the_label_itself(label: str, name: str) -> None:
    assert device_name(label) == name


@given(st.text(max_size=300))
def test_device_name_when_any_text_then_a_short_single_line_name(label: str) -> None:
    name = device_name(label)
    assert 0 < len(name) <= MAX_NAME
    assert "\n" not in name
    assert name == name.strip()
