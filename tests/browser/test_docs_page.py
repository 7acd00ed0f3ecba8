"""The API reference renders in a real Chromium under the strict Content-Security-Policy."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from support import LiveServer, require_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _rendered_dom(server: LiveServer, profile: Path) -> str:
    if shutil.which(CHROMIUM) is None:
        require_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--ignore-certificate-errors",
        "--virtual-time-budget=15000",
        "--dump-dom",
        f"https://localhost:{server.port}/docs",
    ]
    done = subprocess.run(command, capture_output=True, check=False, timeout=90)
    return done.stdout.decode("utf-8", "replace")


def test_docs_page_when_opened_in_chromium_then_every_route_rendered(
    live_server: LiveServer, tmp_path: Path
) -> None:
    dom = _rendered_dom(live_server, tmp_path / "profile")
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {"/healthz", "/readyz", "/metrics", "/v1/audit/events", "/v1/keys/signing"} <= rendered
    assert "Unable to render this definition" not in dom
    assert 'class="btn authorize' in dom  # the security schemes give it an Authorize button
