"""No Markdown file links outside the repository, and the files the docs name exist.

Links are relative and resolve to a file or folder of the repository (with an anchor, to
a heading of the page); the only web addresses allowed are the local server's. Standards
are cited by name ("RFC 9457"), not by URL. Source paths the docs name in backticks
(``src/...``, ``tests/...``, ``bench/...``, ``docs/...``) exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from doc_examples import ROOT, documentation_pages, page_name

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
SKIPPED_FOLDERS = frozenset({"var", "node_modules"})
FENCED = re.compile(r"^ *(`{3,}).*?^ *\1`*\s*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\]]|\][^(])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]+)>")
BARE_URL = re.compile(r"\b(?:https?|wss?|ftp)://[^\s)>\]'\"`]+")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
OUTSIDE_PATH = re.compile(r"`(\.\./[^`]*)`")
NAMED_PATH = re.compile(r"`((?:src|tests|bench|docs)/[\w./-]*)`")


def markdown_files() -> list[Path]:
    """Every Markdown file of the repository (not in hidden folders, var/ or node_modules)."""
    return sorted(
        path
        for path in ROOT.rglob("*.md")
        if not any(part.startswith(".") or part in SKIPPED_FOLDERS for part in _parts(path))
    )


def prose_of(markdown: str) -> str:
    """``markdown`` without fenced blocks and code spans (examples, not links)."""
    return INLINE_CODE.sub("", FENCED.sub("", markdown))


def link_targets(markdown: str) -> Iterator[str]:
    """Every link target of ``markdown``: inline, reference, autolink and bare web address."""
    prose = prose_of(markdown)
    for pattern in (INLINE_LINK, REFERENCE, AUTOLINK, BARE_URL):
        for found in pattern.finditer(prose):
            yield found.group(1) if pattern.groups else found.group(0).rstrip(".,;:!?")


def link_problem(page: Path, target: str) -> str | None:
    """Why ``target``, linked from ``page``, leaves the repository or leads nowhere."""
    if SCHEME.match(target):
        return _address_problem(target)
    path, _, anchor = target.partition("#")
    if path.startswith("/"):
        return "absolute paths leave the repository"
    destination = (page.parent / path).resolve() if path else page
    if not destination.is_relative_to(ROOT):
        return "leads outside the repository"
    if not destination.exists():
        return "no such file or folder"
    return _anchor_problem(destination, anchor)


def heading_anchors(markdown: str) -> set[str]:
    """The anchors of a page's headings, as GitHub spells them."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCED.sub("", markdown), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _address_problem(target: str) -> str | None:
    host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", target).split("/")[0]
    host = host.rsplit("@", 1)[-1]
    host = host if host.startswith("[") else host.split(":")[0]
    web = target.split(":", 1)[0].lower() in {"http", "https", "ws", "wss"}
    return None if web and host in LOCAL_HOSTS else "links outside the repository"


def _anchor_problem(destination: Path, anchor: str) -> str | None:
    if not anchor or destination.suffix != ".md":
        return None
    found = anchor in heading_anchors(destination.read_text("utf-8"))
    return None if found else f"no heading #{anchor}"


def _parts(path: Path) -> tuple[str, ...]:
    return path.relative_to(ROOT).parts


@pytest.mark.parametrize("page", markdown_files(), ids=page_name)
def test_links_when_followed_then_stay_in_the_repository(page: Path) -> None:
    problems = [
        f"{page_name(page)}: ({target}) {problem}"
        for target in link_targets(page.read_text("utf-8"))
        if (problem := link_problem(page, target))
    ]

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", markdown_files(), ids=page_name)
def test_code_spans_when_they_name_a_path_then_it_is_inside_the_repository(page: Path) -> None:
    outside = OUTSIDE_PATH.findall(FENCED.sub("", page.read_text("utf-8")))

    assert not outside, f"{page_name(page)} refers to files outside the repository: {outside}"


@pytest.mark.parametrize("page", documentation_pages(), ids=page_name)
def test_named_paths_when_looked_up_then_exist(page: Path) -> None:
    named = set(NAMED_PATH.findall(page.read_text("utf-8")))
    missing = sorted(path for path in named if not (ROOT / path).exists())

    assert not missing, f"{page_name(page)} names files that do not exist: {missing}"


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("docs/api-signing.md", None),
        ("docs/api-signing.md#the-signature", None),
        ("docs/api-signing.md#no-such-heading", "no heading #no-such-heading"),
        ("docs/", None),
        ("docs/nope.md", "no such file or folder"),
        ("docs/staff.md", None),
        ("../shared/DESIGN.md", "leads outside the repository"),
        ("/etc/passwd", "absolute paths leave the repository"),
        ("https://localhost:8443/healthz", None),
        ("https://www.rfc-editor.org/rfc/rfc9457", "links outside the repository"),
        ("https://localhost.example.com/", "links outside the repository"),
        ("mailto:compliance@example.com", "links outside the repository"),
    ],
)
def test_link_problem_when_target_given_then_judged(target: str, problem: str | None) -> None:
    assert link_problem(ROOT / "README.md", target) == problem


def test_link_targets_when_examples_hold_addresses_then_only_prose_links_count() -> None:
    markdown = (
        "See [the guide](docs/api-guide.md) and <https://example.com/a>.\n"
        "Also https://example.org/b, but not `https://example.net/c`.\n"
        "```sh\ncurl https://example.com/d\n```\n"
        "[ref]: ../outside.md\n"
    )

    assert list(link_targets(markdown)) == [
        "docs/api-guide.md",
        "../outside.md",
        "https://example.com/a",
        "https://example.com/a",
        "https://example.org/b",
    ]
