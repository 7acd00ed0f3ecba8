"""Every command and request shown in README.md and docs/ runs against the real server.

The convention of the fenced blocks is in ``tests/doc_examples.py``. Each page's runnable
blocks run in order in one bash session, in the directory of a server started with
``tradeguard init`` and ``tradeguard serve`` (its ``var/`` is where ``make run`` keeps
it, ``.venv`` is the project's virtualenv), so the examples run exactly as written, with
the server's port in place of ``8443``. Pages other than README.md start where the README
walkthrough leaves a trader: ``$TG``, ``$CA`` and ``$TOKEN`` are set, the account is open.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from itertools import takewhile
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.exc import DBAPIError

from doc_examples import (
    Block,
    blocks_of,
    documentation_pages,
    expected_outputs,
    failed_block,
    outputs_by_block,
    page_name,
    session_script,
)
from live_api import Api, Person, var_dir_of
from support import TRADEGUARD, LiveServer, TestDatabase
from tradeguard import client

pytestmark = pytest.mark.live_server

SESSION_SECONDS = 180
README = documentation_pages()[0]
RUNNABLE_PAGES = [
    page
    for page in documentation_pages()
    if any(block.in_session for block in blocks_of(page_name(page), page.read_text("utf-8")))
]
SQL_BLOCKS = [
    block
    for page in documentation_pages()
    for block in blocks_of(page_name(page), page.read_text("utf-8"))
    if block.runs and block.language == "sql"
]
APPLICATION_ROLE = "tradeguard_app"


def clean_environment() -> dict[str, str]:
    """The process environment without ``TRADEGUARD_*`` settings (the examples set none)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TRADEGUARD_")}


@pytest.fixture(scope="module")
def workdir(live_server: LiveServer) -> Path:
    """The server's directory, with ``.venv`` as in a checkout after ``make run``."""
    directory = var_dir_of(live_server).parent
    venv = directory / ".venv"
    if not venv.exists():
        venv.symlink_to(sys.prefix, target_is_directory=True)
    return directory


@pytest.fixture(scope="module")
def walkthrough_state(live_server: LiveServer, workdir: Path) -> dict[str, str]:
    """What the README walkthrough leaves set: a trader with a funded account, signed in."""
    person = Person()
    tokens = Api(live_server).sign_up_with_totp(person)
    opening = [TRADEGUARD, "accounts", "open", person.email, "--kind", "margin"]
    subprocess.run(
        [*opening, "--deposit", "100000.00"],
        cwd=workdir,
        env=clean_environment(),
        check=True,
        capture_output=True,
    )
    return {
        "TG": f"https://localhost:{live_server.port}",
        "CA": "var/tls/dev-ca.pem",
        "TOKEN": tokens["access_token"],
    }


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=page_name)
def test_examples_when_run_in_order_then_each_succeeds(
    page: Path, live_server: LiveServer, workdir: Path, request: pytest.FixtureRequest
) -> None:
    blocks = blocks_of(page_name(page), page.read_text("utf-8"))
    environment = {} if page == README else request.getfixturevalue("walkthrough_state")

    run_session(blocks, live_server, workdir, environment)


def test_client_docstring_example_when_run_then_places_the_order(
    live_server: LiveServer, workdir: Path, walkthrough_state: dict[str, str]
) -> None:
    ask = {"scope": "trading", "label": "client docstring"}
    key = Api(live_server).expect("POST", "/v1/api-keys", ask, walkthrough_state["TOKEN"])
    example = Block("src/tradeguard/client.py", 1, "python", (), docstring_example(client))
    printed = Block("src/tradeguard/client.py", 1, "text", ("output",), "open")
    environment = {"KEY_ID": key["key_id"], "SECRET": key["secret"]}

    run_session([example, printed], live_server, workdir, environment)


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@pytest.mark.parametrize("block", SQL_BLOCKS, ids=lambda block: block.where)
def test_sql_example_when_run_on_postgresql_then_accepted(
    database: TestDatabase, block: Block
) -> None:
    with database.engine.connect() as connection, connection.begin() as transaction:
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (APPLICATION_ROLE,)
        ).first()
        if exists is None:
            connection.exec_driver_sql(f"CREATE ROLE {APPLICATION_ROLE}")
        try:
            connection.exec_driver_sql(block.text)
        except DBAPIError as error:
            pytest.fail(f"{block.where}: PostgreSQL refused the example: {error.orig}")
        finally:
            transaction.rollback()


def docstring_example(module: ModuleType) -> str:
    """The literal block after ``::`` in ``module``'s docstring, dedented."""
    assert module.__doc__, f"{module.__name__} has no docstring"
    after = module.__doc__.split("::\n", 1)[1].splitlines()
    literal = takewhile(lambda line: not line or line.startswith(" "), after)
    return textwrap.dedent("\n".join(literal)).strip()


def run_session(
    blocks: list[Block], server: LiveServer, workdir: Path, variables: dict[str, str]
) -> None:
    """Run the runnable ``blocks`` in one bash session; fail naming the block that failed."""
    name = blocks[0].page.replace("/", "-")
    script = workdir / f".doc-session-{name}.sh"
    script.write_text(session_script(blocks, server.port), encoding="utf-8")

    finished = subprocess.run(
        ["bash", str(script)],  # noqa: S607 - bash from PATH, as a reader's shell
        cwd=workdir,
        env=clean_environment() | variables,
        capture_output=True,
        text=True,
        timeout=SESSION_SECONDS,
        check=False,
    )

    stopped_at = failed_block(blocks, finished.stdout)
    assert stopped_at is None, _report(stopped_at, finished)
    assert finished.returncode == 0, _report(stopped_at, finished)
    printed = outputs_by_block(finished.stdout)
    for number, expected in expected_outputs(blocks):
        assert printed[str(number)].strip() == expected.text.strip(), (
            f"{blocks[number].where} printed something else than {expected.where} shows:\n"
            f"{printed[str(number)]}"
        )


def _report(block: Block | None, finished: subprocess.CompletedProcess[str]) -> str:
    where = f"the example at {block.where}" if block else "the session"
    shown = block.text if block else ""
    printed = outputs_by_block(finished.stdout)
    last = printed[max(printed, key=_order)] if printed else finished.stdout
    return (
        f"{where} failed (exit {finished.returncode}):\n{shown}\n"
        f"--- it printed:\n{last[-3000:]}\n--- stderr:\n{finished.stderr[-3000:]}"
    )


def _order(number: str) -> int:
    return sys.maxsize if number == "end" else int(number)
