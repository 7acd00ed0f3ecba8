"""Fixtures every browser test module shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_kit import chromium
from playwright.sync_api import Browser

from support import LiveServer


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    """Chromium trusting the module's live server (whichever ``live_server`` it starts)."""
    with chromium(live_server) as launched:
        yield launched
