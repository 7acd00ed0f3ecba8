"""The fenced examples of README.md and docs/: how they are found, checked and run.

Every fenced block says what it is in its info string (the words after the opening fence):

- ``sh``: shell commands. All ``sh``, ``python`` and ``http`` blocks of one page run in
  order in one bash session (``set -euo pipefail``), in a directory whose ``var/`` is a
  live server's and where ``.venv`` is the project's virtualenv, so variables set by one
  block are there for the next. ``curl`` fails on an HTTP error status there.
- ``python``: a script, run with ``.venv/bin/python`` in that session (it sees what the
  shell exported).
- ``http [STATUS [REASON_CODE]]``: a request: method and path, headers, a blank line and
  the body. It is sent to the server with the session's variables expanded in the path
  and headers; the answer must be a 2xx, or the status (and ``reason_code``) given.
- ``sql``: statements for PostgreSQL, run on a migrated database (where the role
  ``tradeguard_app`` exists) in a transaction that is rolled back.
- ``text output``: what the ``sh``, ``python`` or ``http`` block just before it prints,
  compared exactly.
- ``text``: a diagram, a layout or a string that is shown, not run.
- ``json``: a document's shape; it must parse.
- ``LANGUAGE norun REASON``: anything else that cannot run here, with the reason.

The examples are written for ``make run``'s address; the tests put the live server's
port in place of ``8443``. Pages other than README.md continue the README walkthrough's
shell: ``$TG``, ``$CA`` and ``$TOKEN`` are set for them as the walkthrough sets them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_RUN_ADDRESS = "localhost:8443"
SESSION = frozenset({"sh", "python", "http"})
RUNNABLE = SESSION | {"sql"}
SHOWN = frozenset({"text", "json"})
NORUN = "norun"
OUTPUT = "output"
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")
MARKER = "@@doc-block"


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block of a Markdown page."""

    page: str
    line: int
    language: str
    flags: tuple[str, ...]
    text: str

    @property
    def where(self) -> str:
        """The page and line of the opening fence."""
        return f"{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        """Whether the block is run against the live server."""
        return self.language in RUNNABLE and not self.is_norun

    @property
    def in_session(self) -> bool:
        """Whether the block runs in the page's shell session."""
        return self.runs and self.language in SESSION

    @property
    def is_norun(self) -> bool:
        """Whether the block is marked as not runnable."""
        return self.flags[:1] == (NORUN,)

    @property
    def is_output(self) -> bool:
        """Whether the block is the expected output of the block before it."""
        return self.language == "text" and self.flags == (OUTPUT,)


def documentation_pages() -> list[Path]:
    """README.md and every Markdown page under docs/, README first."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def page_name(path: Path) -> str:
    """The page's path relative to the repository root."""
    return path.relative_to(ROOT).as_posix()


def blocks_of(page: str, markdown: str) -> list[Block]:
    """The fenced blocks of ``markdown`` in order (indented fences in lists included)."""
    return list(_blocks(page, markdown.splitlines()))


def _blocks(page: str, lines: list[str]) -> Iterator[Block]:
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        closing = _closing_line(lines, index, opening.group("fence"))
        indent = len(opening.group("indent"))
        body = [_dedent(line, indent) for line in lines[index + 1 : closing]]
        words = tuple(opening.group("info").split())
        yield Block(page, index + 1, words[0] if words else "", words[1:], "\n".join(body))
        index = closing + 1


def _dedent(line: str, indent: int) -> str:
    return line[indent:] if line.startswith(" " * indent) else line.lstrip()


def _closing_line(lines: list[str], opening: int, fence: str) -> int:
    for index in range(opening + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith(fence) and not stripped.strip("`"):
            return index
    raise ValueError(f"line {opening + 1}: the fenced block is never closed")


def convention_problems(blocks: list[Block]) -> list[str]:
    """Every way the blocks break the convention above, as ``page:line: problem``."""
    problems: list[str] = []
    for previous, block in zip([None, *blocks], blocks, strict=False):
        problem = _problem(previous, block)
        if problem:
            problems.append(f"{block.where}: {problem}")
    return problems


def _problem(previous: Block | None, block: Block) -> str | None:
    if block.is_norun:
        return None if block.flags[1:] else "a norun block needs a reason after `norun`"
    if block.is_output:
        follows_a_run = previous is not None and previous.in_session
        return None if follows_a_run else "`text output` must follow a block that runs"
    if block.language in SHOWN:
        return _shown_problem(block)
    if block.language not in RUNNABLE:
        return f"`{block.language or 'no language'}` blocks neither run nor are marked `norun`"
    return _runnable_problem(block)


def _shown_problem(block: Block) -> str | None:
    if block.flags:
        return f"unknown flags {' '.join(block.flags)!r} on a `{block.language}` block"
    if block.language == "json":
        try:
            json.loads(block.text)
        except ValueError as error:
            return f"the JSON does not parse: {error}"
    return None


def _runnable_problem(block: Block) -> str | None:
    if block.language == "http":
        return _http_problem(block)
    return f"unknown flags {' '.join(block.flags)!r}" if block.flags else None


def _http_problem(block: Block) -> str | None:
    if len(block.flags) > 2 or (block.flags and not block.flags[0].isdigit()):
        return "an http block takes a status and a reason code: `http 422 RISK_PRICE_COLLAR`"
    if not re.fullmatch(r"[A-Z]+ /\S*", block.text.splitlines()[0] if block.text else ""):
        return "an http block starts with `METHOD /path`"
    return None


# ---------------------------------------------------------------- the session script

SESSION_PRELUDE = r"""set -euo pipefail
curl() { command curl -sS --fail-with-body "$@"; }
_doc_http() {
    local method=$1 target=$2 expected=$3 reason=$4 body status
    shift 4
    body=$(cat)
    status=$(command curl -sS --cacert "$CA" -o .doc-response -w '%{http_code}' \
        -X "$method" "$TG$target" "$@" ${body:+--data-binary "$body"})
    cat .doc-response; echo
    if [[ -z $expected && $status != 2?? ]] || [[ -n $expected && $status != "$expected" ]]; then
        echo "answered $status, expected ${expected:-2xx}" >&2; return 1
    fi
    if [[ -n $reason && $(jq -r .reason_code .doc-response) != "$reason" ]]; then
        echo "reason_code is not $reason" >&2; return 1
    fi
}
"""


def session_script(blocks: list[Block], port: int) -> str:
    """A bash script running the page's runnable blocks in order, each after its marker."""
    parts = [SESSION_PRELUDE]
    for number, block in enumerate(blocks):
        if block.in_session:
            parts.append(f"printf '\\n{MARKER} {number}\\n'")
            parts.append(_command(block).replace(MAKE_RUN_ADDRESS, f"localhost:{port}"))
    parts.append(f"printf '\\n{MARKER} end\\n'")
    return "\n".join(parts) + "\n"


def _command(block: Block) -> str:
    if block.language == "python":
        return f".venv/bin/python - <<'_DOC_PYTHON'\n{block.text}\n_DOC_PYTHON"
    if block.language == "http":
        return _http_command(block)
    return block.text


def _http_command(block: Block) -> str:
    head, _, body = block.text.partition("\n\n")
    request, *headers = head.splitlines()
    method, target = request.split(" ", 1)
    expected, reason = (*block.flags, "", "")[:2]
    options = " ".join(f"-H {_double_quoted(header)}" for header in headers)
    call = f"_doc_http {method} {_double_quoted(target)} '{expected}' '{reason}' {options}"
    return f"{call} <<'_DOC_BODY'\n{body}\n_DOC_BODY"


def _double_quoted(text: str) -> str:
    """``text`` in double quotes: shell variables expand, nothing else does."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    return f'"{escaped}"'


def outputs_by_block(stdout: str) -> dict[str, str]:
    """What each block printed, by its number (``end`` closes the last one)."""
    printed: dict[str, str] = {}
    for chunk in stdout.split(f"\n{MARKER} ")[1:]:
        number, _, text = chunk.partition("\n")
        printed[number] = text
    return printed


def failed_block(blocks: list[Block], stdout: str) -> Block | None:
    """The block that was running when the session stopped, if it did not finish."""
    started = outputs_by_block(stdout)
    if "end" in started:
        return None
    numbers = [int(number) for number in started]
    return blocks[max(numbers)] if numbers else None


def expected_outputs(blocks: list[Block]) -> Iterator[tuple[int, Block]]:
    """Each runnable block's number with the ``text output`` block that follows it."""
    for number, (block, following) in enumerate(pairwise(blocks)):
        if block.in_session and following.is_output:
            yield number, following
