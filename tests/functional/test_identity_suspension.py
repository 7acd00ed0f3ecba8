"""Suspension from the command line, and tokens made stale by a change of permissions."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    login,
    refresh,
    sign_in_with_totp,
    signed_up_with_totp,
)
from sqlalchemy import update

from tradeguard.cli.main import main
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.identity.models import User
from tradeguard.notify.notifier import MemorySender

CACHE_LIFETIME_SECONDS = 1.1  # session states are cached for at most one second


Tradeguard = Callable[..., int]


@pytest.fixture
def tradeguard(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Tradeguard:
    """Run a ``tradeguard`` command against the app's database and keys; its exit code."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(settings.var_dir))
    assert settings.database_url is not None
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", settings.database_url.get_secret_value())

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        return int(exited.value.code or 0)

    return run


def test_suspend_when_run_by_an_operator_then_sessions_end_everywhere_within_a_second(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    tradeguard: Tradeguard,
    clean_database,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    assert client.get("/v1/sessions", headers=alice.headers).status_code == 200

    code = tradeguard("users", "suspend", "alice", "--reason", "fraud hold")
    time.sleep(CACHE_LIFETIME_SECONDS)  # the app is another process's view: its cache expires

    assert code == 0
    assert_refused(client.get("/v1/sessions", headers=alice.headers), 401, "AUTH_SESSION_REVOKED")
    assert_refused(refresh(client, alice.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")
    assert_refused(login(client, alice), 403, "AUTH_ACCOUNT_SUSPENDED")
    assert "auth.account.suspended" in audit_event_types(clean_database.engine)


def test_reactivate_when_suspended_then_sign_in_works_but_old_sessions_stay_ended(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    tradeguard: Tradeguard,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    old = dict(alice.tokens)
    tradeguard("users", "suspend", "alice", "--reason", "hold")

    code = tradeguard("users", "reactivate", "alice", "--reason", "cleared")
    time.sleep(CACHE_LIFETIME_SECONDS)

    assert code == 0
    sign_in_with_totp(client, alice, clock)
    assert client.get("/v1/sessions", headers=alice.headers).status_code == 200
    assert_refused(
        client.get("/v1/sessions", headers={"Authorization": f"Bearer {old['access_token']}"}),
        401,
        "AUTH_SESSION_REVOKED",
    )


@pytest.mark.usefixtures("app")  # provisions the keys, as `tradeguard init` would
def test_suspend_when_no_such_account_then_one_line_error(
    tradeguard: Tradeguard, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tradeguard("users", "suspend", "nobody", "--reason", "x")

    assert code != 0
    assert "no account named 'nobody'" in capsys.readouterr().err


def test_token_when_permissions_changed_then_stale_until_refreshed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    with clean_database.engine.begin() as connection:
        connection.execute(update(User).values(permission_version=User.permission_version + 1))
    time.sleep(CACHE_LIFETIME_SECONDS)

    assert_refused(client.get("/v1/sessions", headers=alice.headers), 401, "AUTH_TOKEN_STALE")
    renewed = refresh(client, alice.tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    fresh = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert client.get("/v1/sessions", headers=fresh).status_code == 200
