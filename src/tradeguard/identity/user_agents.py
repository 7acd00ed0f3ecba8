"""Names people recognise for the programs they sign in with, read from the user agent.

``device_name("Mozilla/5.0 (Macintosh; ...) Chrome/131.0.0.0 Safari/537.36")`` is
``"Chrome 131 on macOS"``. The parser knows the major browsers (Chrome, Edge, Firefox,
Safari, Opera, Samsung Internet, Vivaldi) and systems (Windows, macOS, iPhone, iPad,
Android, ChromeOS, Linux); any other program is named by its first product token and
version (``"tradeguard-client 0.1"``, ``"curl 8.5"``); a text with no product token (a
name the client chose, such as ``"Alice's phone"``) is its own name. Pure: no I/O, no
state; the raw user agent stays wherever it is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN_DEVICE = "Unknown device"
UNKNOWN_BROWSER = "Unknown browser"
MAX_NAME = 64
BROWSER_FAMILY = "Mozilla/"

_PRODUCT = re.compile(r"([A-Za-z][A-Za-z0-9_.+-]*)/([0-9][A-Za-z0-9._-]*)")
_VERSION_PARTS = re.compile(r"[0-9]+")

# The first token found names the browser: the more specific ones come first, because
# Edge, Opera, Samsung Internet and Vivaldi also send Chrome's and Safari's tokens.
_BROWSERS: tuple[tuple[str, str], ...] = (
    ("Edg", "Edge"),
    ("EdgA", "Edge"),
    ("EdgiOS", "Edge"),
    ("OPR", "Opera"),
    ("OPiOS", "Opera"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Vivaldi", "Vivaldi"),
    ("FxiOS", "Firefox"),
    ("Firefox", "Firefox"),
    ("CriOS", "Chrome"),
    ("HeadlessChrome", "Headless Chrome"),
    ("Chrome", "Chrome"),
    ("Chromium", "Chromium"),
)
# The first marker found names the system: iPhone and iPad agents say "like Mac OS X",
# Android and ChromeOS agents say "Linux".
_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("iPod", "iPod"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("X11", "Linux"),
)
_APPLE_SYSTEMS = frozenset({"macOS", "iPhone", "iPad", "iPod"})


@dataclass(frozen=True, slots=True)
class UserAgent:
    """What a user agent says: the browser (or program), its version, the system."""

    program: str | None
    version: str | None
    system: str | None

    @property
    def name(self) -> str:
        """``"Chrome 131 on macOS"``, ``"Firefox on Windows"``, ``"curl 8.5"``."""
        words = " ".join(part for part in (self.program, self.version) if part)
        program = words or UNKNOWN_DEVICE
        return f"{program} on {self.system}" if self.system else program


def parse_user_agent(text: str) -> UserAgent:
    """The browser, version and system a ``User-Agent`` header names (``None`` when unknown)."""
    agent = " ".join(text.split())
    products = _products(agent)
    if not agent.startswith(BROWSER_FAMILY):
        return _program(products)
    system = _system(agent)
    for token, browser in _BROWSERS:
        if token in products:
            return UserAgent(browser, _major(products[token]), system)
    if system in _APPLE_SYSTEMS and "Safari" in products:
        return UserAgent("Safari", _major(products.get("Version", "")), system)
    return UserAgent(UNKNOWN_BROWSER, None, system)


def device_name(label: str) -> str:
    """The name to show for a device labelled ``label`` (a user agent or the client's name)."""
    text = " ".join(label.split())
    if not text:
        return UNKNOWN_DEVICE
    if _PRODUCT.search(text) is not None:
        text = parse_user_agent(text).name
    # Else a name the client chose, or a program that sends no version.
    return text[:MAX_NAME].rstrip()


def _products(agent: str) -> dict[str, str]:
    """Every ``Name/version`` token of ``agent`` (the first one of each name)."""
    products: dict[str, str] = {}
    for name, version in _PRODUCT.findall(agent):
        products.setdefault(name, version)
    return products


def _program(products: dict[str, str]) -> UserAgent:
    """A program that is not a browser, by its first product token: name, major.minor."""
    if not products:
        return UserAgent(None, None, None)
    name, version = next(iter(products.items()))
    return UserAgent(name, ".".join(_VERSION_PARTS.findall(version)[:2]) or None, None)


def _system(agent: str) -> str | None:
    return next((system for marker, system in _SYSTEMS if marker in agent), None)


def _major(version: str) -> str | None:
    found = _VERSION_PARTS.match(version)
    return found.group() if found else None
