"""Every start is audited with its settings (secrets masked); a change shows before and after."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from support import provision_keysets
from tradeguard.app import create_app
from tradeguard.audit.models import AuditEventRow


def _events(engine, event_type: str) -> list[dict]:
    with engine.connect() as connection:
        records = connection.execute(
            select(AuditEventRow.record)
            .where(AuditEventRow.event_type == event_type)
            .order_by(AuditEventRow.seq)
        ).scalars()
        return [json.loads(record) for record in records]


def test_start_when_settings_change_then_config_changed_event_with_before_and_after(
    settings_for, clean_database, clock
) -> None:
    first = settings_for(metrics_token="first-secret-token")
    provision_keysets(first, clean_database.engine, clock)
    with TestClient(create_app(first, clock=clock, engine=clean_database.engine)):
        pass
    second = settings_for(metrics_token="second-secret-token", hsts_max_age=31_536_000)
    with TestClient(create_app(second, clock=clock, engine=clean_database.engine)):
        pass
    started = _events(clean_database.engine, "service.started")
    [changed] = _events(clean_database.engine, "config.changed")
    assert len(started) == 2
    assert changed["data"]["changes"] == {
        "hsts_max_age": {"before": "63072000", "after": "31536000"}
    }
    assert changed["actor"]["kind"] == "system"
    everything = json.dumps([*started, changed])
    assert "first-secret-token" not in everything
    assert "second-secret-token" not in everything
