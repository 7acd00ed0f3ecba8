"""The ``tradeguard`` command: help, init, db, config, and one-line errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tradeguard import __version__
from tradeguard.cli.main import main
from tradeguard.core.clock import FixedClock
from tradeguard.db import migrate
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.notify.messages import EmailMessage, SmsMessage
from tradeguard.notify.outbox import OutboxSender


@dataclass
class Outcome:
    code: int
    out: str
    err: str


Cli = Callable[..., Outcome]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return Outcome(int(exited.value.code or 0), captured.out, captured.err)

    return run


def test_version_when_asked_then_printed(cli: Cli) -> None:
    outcome = cli("version")
    assert (outcome.code, outcome.out.strip()) == (0, __version__)


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["init"], ["db"], ["db", "upgrade"], ["db", "current"], ["config", "show"]],
)
def test_help_when_asked_then_explains_the_command(cli: Cli, command: list[str]) -> None:
    outcome = cli(*command, "--help")
    assert outcome.code == 0
    assert "Usage:" in outcome.out
    assert len(outcome.out.splitlines()) > 3


def test_init_when_run_twice_then_second_run_reuses_everything(cli: Cli, tmp_path: Path) -> None:
    first = cli("init")
    assert first.code == 0, first.err
    tls = DevCertificatePaths.under(tmp_path / "var" / "tls")
    cert_before = tls.cert.read_bytes()
    key_before = (tmp_path / "var" / "keys" / "master.key").read_bytes()
    second = cli("init")
    assert second.code == 0, second.err
    assert "created" in first.out
    assert "created" not in second.out
    assert "reused" in second.out
    installation = re.compile(r"installation (\S+):")
    assert installation.findall(first.out) == installation.findall(second.out)
    assert tls.cert.read_bytes() == cert_before
    assert (tmp_path / "var" / "keys" / "master.key").read_bytes() == key_before


def test_db_upgrade_when_run_then_current_reports_head(cli: Cli) -> None:
    assert cli("db", "current").code == 1
    upgraded = cli("db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    current = cli("db", "current")
    assert current.code == 0
    head = migrate.head_revision()
    assert current.out.strip() == f"current {head}, head {head}"


def test_config_show_when_secrets_set_then_masked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", "postgresql+psycopg://u:db-pw-987@h/d")
    monkeypatch.setenv("TRADEGUARD_METRICS_TOKEN", "metrics-tok-654")
    outcome = cli("config", "show")
    assert outcome.code == 0
    assert "db-pw-987" not in outcome.out
    assert "metrics-tok-654" not in outcome.out
    assert re.search(r"^metrics_token\s+\*+$", outcome.out, re.MULTILINE)
    assert re.search(r"^port\s+8443$", outcome.out, re.MULTILINE)


def test_cli_when_settings_invalid_then_one_line_error_no_traceback(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEGUARD_NO_SUCH_THING", "1")
    outcome = cli("config", "show")
    assert outcome.code == 1
    assert outcome.err.strip() == "error: unknown setting(s): TRADEGUARD_NO_SUCH_THING"


def test_serve_when_database_unmigrated_then_refuses_with_clear_message(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli("init").code == 0
    (tmp_path / "var" / "tradeguard.db").unlink()
    outcome = cli("serve")
    assert outcome.code == 1
    assert "never migrated" in outcome.err
    assert "tradeguard db upgrade" in outcome.err
    assert "Traceback" not in outcome.err
    assert [line for line in outcome.err.splitlines() if not line.startswith("{")] == [
        outcome.err.strip().splitlines()[-1]
    ]


def test_serve_when_never_initialised_then_refuses_naming_init(cli: Cli) -> None:
    outcome = cli("serve")
    assert outcome.code == 1
    assert "tradeguard init" in outcome.err
    assert "Traceback" not in outcome.err


def test_unknown_command_when_given_then_usage_error(cli: Cli) -> None:
    outcome = cli("frobnicate")
    assert outcome.code == 2
    assert "No such command" in outcome.err


def test_outbox_show_when_codes_were_sent_then_newest_printed(
    cli: Cli, tmp_path: Path, clock: FixedClock
) -> None:
    sender = OutboxSender(tmp_path / "var" / "outbox", clock)
    for code in ("111111", "222222"):
        sender.send_email(EmailMessage("bob@example.com", "Code", f"code {code}", "otp.email"))
        clock.advance(seconds=1)
    sender.send_sms(SmsMessage("+15555550100", "code 333333", "otp.sms"))

    shown = cli("outbox", "show", "--to", "bob@example.com", "--last", "1")

    assert shown.code == 0
    assert "222222" in shown.out
    assert "111111" not in shown.out
    assert "333333" not in shown.out


def test_outbox_show_when_empty_then_says_so(cli: Cli) -> None:
    assert "the outbox is empty" in cli("outbox", "show").out
