"""``tradeguard instruments`` and ``tradeguard accounts`` through the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from identity_flows import Person, sign_up
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from support import TestDatabase, provision_keysets
from tradeguard.audit.search import AuditQuery, search
from tradeguard.cli.main import main
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.trading.models import TradingAccount

Tradeguard = Callable[..., tuple[int, str, str]]
HEADER = "symbol,name,tier,tick_size,lot_size,reference_price,restricted,threshold,easy_to_borrow"
APPLE = "AAPL,Apple Inc.,1,0.01,1,187.25,false,false,true"
BERKSHIRE = "BRK.B,Berkshire Hathaway Inc. Class B,1,0.01,1,493.85,false,false,true"
ZOMEDICA = "ZOM,Zomedica Corp.,2,0.0001,1,0.1420,false,true,false"


@pytest.fixture
def tradeguard(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Tradeguard:
    """Run a ``tradeguard`` command against the test database; exit code, stdout, stderr."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(settings.var_dir))
    assert settings.database_url is not None
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", settings.database_url.get_secret_value())

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    return run


@pytest.fixture
def keys(settings: Settings, clean_database: TestDatabase, clock: FixedClock) -> None:
    """The keys ``tradeguard init`` would create, without its sample universe."""
    provision_keysets(settings, clean_database.engine, clock)


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def listed(tradeguard: Tradeguard) -> list[dict[str, object]]:
    code, out, err = tradeguard("instruments", "list", "--json")
    assert code == 0, err
    rows: list[dict[str, object]] = json.loads(out)
    return rows


@pytest.mark.usefixtures("keys")
def test_load_when_file_good_then_counts_printed_and_listed(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    universe = write_csv(tmp_path / "universe.csv", APPLE, BERKSHIRE, ZOMEDICA)

    code, out, err = tradeguard("instruments", "load", str(universe))

    assert (code, err) == (0, "")
    assert out.startswith("universe.csv: 3 added, 0 updated, 0 unchanged (sha256 ")
    assert "restricted/threshold/status changed: ZOM" in out
    code, out, _ = tradeguard("instruments", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "SYMBOL",
        "TIER",
        "TICK",
        "LOT",
        "REFERENCE",
        "RESTRICTED",
        "THRESHOLD",
        "ETB",
        "STATUS",
        "NAME",
    ]
    assert [line.split()[:9] for line in lines[1:]] == [
        ["AAPL", "1", "0.01", "1", "187.25", "no", "no", "yes", "active"],
        ["BRK.B", "1", "0.01", "1", "493.85", "no", "no", "yes", "active"],
        ["ZOM", "2", "0.0001", "1", "0.142", "no", "yes", "no", "active"],
    ]
    assert lines[2].endswith("Berkshire Hathaway Inc. Class B")


@pytest.mark.usefixtures("keys")
def test_list_json_when_loaded_then_prices_are_decimal_strings(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    tradeguard("instruments", "load", str(write_csv(tmp_path / "u.csv", ZOMEDICA)))

    (zomedica,) = listed(tradeguard)

    assert zomedica["tick_size"] == "0.0001"
    assert zomedica["reference_price"] == "0.142"
    assert (zomedica["tier"], zomedica["threshold"], zomedica["status"]) == (2, True, "active")
    assert str(zomedica["reference_at"]).endswith("Z")


@pytest.mark.usefixtures("keys")
def test_list_when_empty_then_says_so(tradeguard: Tradeguard) -> None:
    assert tradeguard("instruments", "list") == (0, "no instruments\n", "")
    assert listed(tradeguard) == []


@pytest.mark.usefixtures("keys")
def test_load_when_reloaded_with_a_change_then_counts_show_it(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    tradeguard("instruments", "load", str(write_csv(tmp_path / "u.csv", APPLE, ZOMEDICA)))
    restricted_apple = APPLE.replace("false,false,true", "true,false,true")

    code, out, err = tradeguard(
        "instruments", "load", str(write_csv(tmp_path / "u.csv", restricted_apple, ZOMEDICA))
    )

    assert code == 0, err
    assert "u.csv: 0 added, 1 updated, 1 unchanged" in out
    assert out.splitlines()[1] == "restricted/threshold/status changed: AAPL"
    assert [row["restricted"] for row in listed(tradeguard)] == [True, False]


@pytest.mark.usefixtures("keys")
def test_load_when_file_bad_then_exit_one_naming_each_line_and_nothing_loaded(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    bad = write_csv(
        tmp_path / "bad.csv", APPLE, "zom,Zomedica Corp.,2,0.0001,1,0.1420,false,true,false", APPLE
    )

    code, out, err = tradeguard("instruments", "load", str(bad))

    assert (code, out) == (1, "")
    assert err.splitlines() == [
        (
            "bad.csv:3: symbol 'zom' is not 1-16 characters of A-Z, 0-9, '.' and '-' "
            "starting with a letter or digit"
        ),
        "bad.csv:4: symbol AAPL already on line 2",
        "error: bad.csv: 2 bad line(s); nothing was loaded",
    ]
    assert listed(tradeguard) == []


@pytest.mark.usefixtures("keys")
def test_load_when_file_missing_then_one_line_error(tradeguard: Tradeguard, tmp_path: Path) -> None:
    code, _, err = tradeguard("instruments", "load", str(tmp_path / "absent.csv"))

    assert code == 1
    assert err == f"error: cannot read {tmp_path / 'absent.csv'}: No such file or directory\n"


@pytest.mark.usefixtures("keys")
def test_load_sample_when_asked_then_universe_loaded_and_reload_unchanged(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    code, out, err = tradeguard("instruments", "load", "--sample")
    assert code == 0, err
    added = int(out.split(": ")[1].split()[0])
    assert added >= 40
    assert {"AAPL", "BRK.B"} <= {row["symbol"] for row in listed(tradeguard)}

    code, out, _ = tradeguard("instruments", "load", "--sample")
    assert f"0 added, 0 updated, {added} unchanged" in out
    file_too = str(write_csv(tmp_path / "u.csv", APPLE))
    assert tradeguard("instruments", "load", "--sample", file_too)[0] == 1
    assert tradeguard("instruments", "load")[0] == 1


def test_init_when_instruments_empty_then_sample_loaded_once(tradeguard: Tradeguard) -> None:
    code, out, err = tradeguard("init")
    assert code == 0, err
    assert "instruments: sample universe loaded (" in out
    count = len(listed(tradeguard))
    assert count >= 40

    code, out, err = tradeguard("init")

    assert code == 0, err
    assert "instruments: reused" in out
    assert len(listed(tradeguard)) == count


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender) -> Person:
    person = Person()
    sign_up(client, mailbox, person)
    return person


def account_of(database: TestDatabase) -> TradingAccount | None:
    with Session(database.engine) as db:
        return db.scalars(select(TradingAccount)).one_or_none()


def test_accounts_open_when_user_known_then_opened_with_deposit_and_audited(
    tradeguard: Tradeguard, alice: Person, clean_database: TestDatabase
) -> None:
    code, out, err = tradeguard(
        "accounts", "open", alice.email.upper(), "--kind", "margin", "--deposit", "25000.00"
    )

    assert code == 0, err
    account = account_of(clean_database)
    assert account is not None
    assert out == f"margin account {account.id} opened for {alice.username}: 25000.00\n"
    assert (account.kind, account.status, account.settled_cash_cents) == (
        "margin",
        "active",
        2_500_000,
    )
    with Session(clean_database.engine) as db:
        (event,) = search(db, AuditQuery(event_type="account.opened")).events
    assert (event.subject, event.actor.kind) == (account.id, "staff")
    assert event.actor.id.startswith("cli:")
    assert event.data["deposit"] == "25000.00"
    with Session(clean_database.engine) as db:
        (recorded,) = search(db, AuditQuery(event_type="kyc.application.staff_opened")).events
        row = db.execute(
            text(
                "SELECT status, decision_reason, account_id, retention_years FROM kyc_applications"
            )
        ).one()
    assert tuple(row) == ("approved", "KYC_STAFF_OPENED", account.id, 5)
    assert recorded.data["account_id"] == account.id


def test_accounts_open_when_user_has_one_then_refused(
    tradeguard: Tradeguard, alice: Person, clean_database: TestDatabase
) -> None:
    assert tradeguard("accounts", "open", alice.email, "--kind", "cash")[0] == 0
    first = account_of(clean_database)

    code, out, err = tradeguard("accounts", "open", alice.email, "--kind", "margin")

    assert (code, out) == (1, "")
    assert err == f"error: {alice.username} already has a brokerage account\n"
    second = account_of(clean_database)
    assert second is not None
    assert first is not None
    assert (second.id, second.kind, second.settled_cash_cents) == (first.id, "cash", 0)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody@example.com", "--kind", "cash"], "error: no user has that email address\n"),
        (["not-an-email", "--kind", "cash"], "error: not an email address\n"),
        (
            ["alice@example.com", "--kind", "cash", "--deposit", "-5.00"],
            "error: --deposit '-5.00' is not a dollar amount like 25000.00\n",
        ),
        (
            ["alice@example.com", "--kind", "cash", "--deposit", "1.005"],
            "error: --deposit '1.005' is not a dollar amount like 25000.00\n",
        ),
    ],
)
def test_accounts_open_when_input_wrong_then_one_line_error_and_no_account(
    tradeguard: Tradeguard, clean_database: TestDatabase, arguments: list[str], message: str
) -> None:
    assert tradeguard("accounts", "open", *arguments) == (1, "", message)
    assert account_of(clean_database) is None
